"""Who may read the bot's answers, and what happens to a message that holds a password.

The management room is a room of exactly the user and the bot: the bot's answers (a login
link, a friend list) and the user's commands are for the user alone. A room with anyone else
is refused when the bot is invited; if anyone else is invited or joins later, the bot says
why it stops taking commands there, and leaves.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from mautrix.types import EventID, Membership, MemberStateEventContent, RoomID, UserID

if TYPE_CHECKING:
    from .core import Bridge

log = logging.getLogger("bridge.management")

# Memberships that let someone read the room (an invitee may, in Element's default rooms).
ROOM_READERS = (Membership.INVITE, Membership.JOIN)

LOGIN_HIDDEN = (
    "I removed your message: it looked like a QQ login with a password, and this room is not "
    "your private chat with me. To log in, send `login` to me in a direct chat."
)
LOGIN_NOT_HIDDEN = (
    "Your message looks like a QQ login with a password, and I could not remove it here: "
    "delete it yourself, and change your QQ password if others could read this room."
)


def crowded_notice(others: list[UserID], joined: bool) -> str:
    """Why the bot does not (or no longer) take commands in a room with ``others`` in it."""
    who = ", ".join(others)
    why = "everyone in it could read your login and my answers to you"
    if joined:
        return (
            f"{who} came into this room, so I no longer take commands here: {why}. "
            "Start a new direct chat with me, with no one else in it, to go on."
        )
    return (
        f"I only take commands in a direct chat with just you and me, and {who} is here too: "
        f"{why}. Start a new direct chat with me, with no one else in it."
    )


async def others_in_room(bridge: Bridge, room_id: RoomID, user: UserID) -> list[UserID]:
    """Members (joined or invited) of ``room_id`` other than ``user`` and the bridge's own
    (the bot, puppets), as the homeserver knows them now."""
    members = await bridge.bot.get_members(room_id)
    return [
        UserID(member.state_key)
        for member in members
        if isinstance(member.content, MemberStateEventContent)
        and member.content.membership in ROOM_READERS
        and member.state_key != user
        and not bridge.is_bridge_ghost(member.state_key)
    ]


async def room_readers(bridge: Bridge, room_id: RoomID, user: UserID) -> list[UserID]:
    """Like ``others_in_room``, from the bridge's state store: it also knows portals, where
    the bot is not a member to ask the homeserver."""
    members = await bridge.az.state_store.get_member_profiles(room_id, memberships=ROOM_READERS)
    return [UserID(m) for m in members if m != user and not bridge.is_bridge_ghost(m)]


async def close_crowded_room(bridge: Bridge, room_id: RoomID, target: UserID) -> bool:
    """Someone was invited to or joined ``room_id``: if that is a third person in a management
    room, it stops being one, in the store. True then (the caller has the bot say why and
    leave, see ``leave_crowded_room``).

    Called in line, inside the appservice transaction: a command sent right after the join
    must already find the room closed, or its answer (a login link) would reach the stranger.
    """
    if bridge.is_bridge_ghost(target):
        return False  # the bot, or a puppet: ours, and they tell no one
    owner = await bridge.db.get_user_by_management_room(room_id)
    if owner is None or target == owner.mxid:
        return False
    user = await bridge.user(owner.mxid)
    await user.set_management_room(None)
    log.info("%s is in the management room of %s: no longer one", target, user.mxid)
    return True


async def leave_crowded_room(bridge: Bridge, room_id: RoomID, target: UserID) -> None:
    await bridge.send_notice(bridge.bot, room_id, crowded_notice([target], joined=True))
    await bridge.bot.leave_room(room_id)


async def redact_login(
    bridge: Bridge, room_id: RoomID, event_id: EventID, edited: EventID | None
) -> bool:
    """Redact a message holding a password (and the message it edits) as whoever of ours may:
    the bot, else a puppet in the room. False if none could."""
    members = await bridge.az.state_store.get_member_profiles(
        room_id, memberships=(Membership.JOIN,)
    )
    bot = UserID(bridge.config.bot_mxid)
    ghosts = sorted((m for m in members if bridge.is_bridge_ghost(m)), key=lambda m: m != bot)
    for ghost in ghosts:
        intent = bridge.az.intent.user(ghost)
        try:
            for target in filter(None, (event_id, edited)):
                await intent.redact(room_id, target, reason="It contained a password")
        except Exception as error:  # no power here: the next one of ours may have it
            log.info("%s could not redact in %s: %s", ghost, room_id, type(error).__name__)
            continue
        return True
    log.warning("No one of ours could redact a password in %s", room_id)
    return False
