"""What QQ's contact lists say, applied to the puppets: nicknames, faces and presence.

Query_Stat (at login, and in the ``friends`` and ``online`` commands) lists the friends others
can see online or busy, each with nickname (NK) and face (FC), seeds 000/004. Every listed
friend's puppet takes that nickname and face (homeserver calls only for what changed) and that
status as presence; a friend the bridge shows online who is no longer listed is offline (or
invisible, which QQ shows as offline).
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import TYPE_CHECKING

from .qq.client import OnlineFriends, Status

if TYPE_CHECKING:
    from .user import User

log = logging.getLogger("bridge.roster")


async def take_online(user: User, online: OnlineFriends, friends: Collection[int]) -> None:
    """Apply one Query_Stat answer of ``user``'s; ``friends``: their whole friend list (List).

    Best effort, contact by contact: a homeserver error is logged, and what the user asked
    for (a login, a list) goes on.
    """
    bridge = user.bridge
    for friend in online.friends:
        try:
            await (await bridge.puppet(friend.uin)).update_profile(friend.nick, friend.face)
            await bridge.presence.report(user.mxid, friend.uin, friend.status)
        except Exception as error:
            log.warning("Could not show QQ %d as QQ lists them: %s", friend.uin, error)
    if online.count > len(online.friends):
        return  # a list cut short (TN): who is missing from it may be online after all
    listed = {friend.uin for friend in online.friends}
    for uin in friends:
        if uin not in listed and bridge.presence.status(uin) is not None:
            try:
                await bridge.presence.report(user.mxid, uin, Status.OFFLINE)
            except Exception as error:
                log.warning("Could not show QQ %d offline: %s", uin, error)


async def take_profile(user: User, uin: int, nick: str, face: int | None) -> None:
    """A nickname and face GetInfo gave for ``uin``: the puppet of a contact (a friend, or
    anyone the bridge already shows) follows; a stranger looked up gets no Matrix user.
    Best effort, as ``take_online``."""
    puppet = await user.bridge.puppet(uin)
    if uin not in user.friends and not puppet.row.nick:
        return
    try:
        await puppet.update_profile(nick, face)
    except Exception as error:
        log.warning("Could not show the profile of QQ %d: %s", uin, error)
