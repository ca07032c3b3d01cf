"""Who may be in a portal, and what ends one.

A portal is the private chat of one user with one QQ contact: the user, the contact's puppet
and, in an encrypted room, the bot (for its device). So:

- a puppet invited into a room (the user starting a DM from their client, or inviting it back
  into its old room) joins, looks who is there, and stays only if no one else is; otherwise it
  says why and leaves;
- a second contact invited into a portal refuses, and the portal's puppet says why;
- anyone else invited into or joining a portal ends it, in line (no QQ message may reach them
  after that); the puppet then says why and leaves;
- the user leaving (or removed) ends it and the puppet leaves; the user removing the puppet ends
  it, and the bot says so in the management room.

An ended portal is a deleted row: the next message from QQ, or `pm`, opens a new room, and the
puppet invited back into its old room takes that room up again. Answers to a friend request
by joining or leaving its room go to ``User.friends`` (bridge/friends.py); one that QQ could
not be given is told, and can be given again with a command.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from mautrix.types import Membership, RoomID, UserID

from .e2ee.sending import room_is_encrypted
from .notices import escape, marked
from .qq.client import QQ_FAILURES, TransportError
from .user import NotLoggedInError

if TYPE_CHECKING:
    from .core import Bridge
    from .portal import Portal

log = logging.getLogger("bridge.portal_members")

# What keeps an answer from reaching QQ: told to the user, who can give it again.
ANSWER_FAILURES: tuple[type[Exception], ...] = (NotLoggedInError, *QQ_FAILURES)
# bridge.encryption.require, where the puppet may not turn encryption on in the user's room.
CLEAR_ROOM_REFUSED = (
    "This bridge bridges only encrypted chats, and I may not turn encryption on here, so I am "
    "leaving. Start the chat again with encryption on, or send `pm {uin}` to the bridge bot."
)
NOT_LOGGED_IN_REASON = "Log in to QQ first: send `login` to the bridge bot."
ALREADY_A_CHAT = "You invited {name} into another room, but this is your chat with them."


async def puppet_invited(bridge: Bridge, room_id: RoomID, inviter: UserID, uin: int) -> None:
    """``inviter`` invited the puppet of ``uin`` into ``room_id``: it becomes their portal
    with that contact if the room is theirs alone, else the puppet refuses and says why."""
    intent = bridge.puppet_intent(uin)
    if bridge.config.permission(inviter) is None:
        await intent.leave_room(room_id)
        return
    user = await bridge.user(inviter)
    if not user.has_credentials:
        await intent.leave_room(room_id, reason=NOT_LOGGED_IN_REASON)
        await user.notify(f"You invited a QQ contact to a chat. {NOT_LOGGED_IN_REASON}")
        return
    portal = await bridge.portal(user, uin)
    name = escape(await user.name_of(uin))
    other = await bridge.portal_by_room(room_id)
    if other is not None and other is not portal:
        await intent.leave_room(room_id, reason="This room is a chat with another QQ contact.")
        other_name = escape(await user.name_of(other.uin))
        await other.notice(
            f"{name} was invited here, but this room is your chat with {other_name}, and each "
            f"QQ contact has a chat of their own. Send `pm {uin}` to the bridge bot for one."
        )
        return
    if portal.room_id not in (None, room_id):
        await portal.end_if_abandoned()  # a dead room must not keep the user from a new one
        if portal.room_id is not None:
            reason = "You already have a chat with this QQ contact."
            await intent.leave_room(room_id, reason=reason)
            await portal.notice(ALREADY_A_CHAT.format(name=name))
            return
    await intent.join_room_by_id(room_id)
    if strangers := await portal.strangers(room_id):
        await bridge.send_notice(intent, room_id, marked(_crowded(strangers, name, uin)))
        await intent.leave_room(room_id)
        return
    if not await portal.adopt_room(room_id):  # a message from QQ made a room meanwhile
        await intent.leave_room(room_id)
        await portal.notice(ALREADY_A_CHAT.format(name=name))
        return
    if not await portal.enforce_encryption():
        await portal.notice(CLEAR_ROOM_REFUSED.format(uin=uin))
        await portal.end(room_id)
        return
    await portal.mark_bridged(room_id)
    if bridge.encryption is not None and await room_is_encrypted(bridge, intent, room_id):
        await portal.invite_bot()
    await user.learn_profile(uin)


async def close_crowded_portal(bridge: Bridge, room_id: RoomID, target: UserID) -> Portal | None:
    """``target`` was invited to or joined ``room_id``: if that is someone other than its user
    in a portal, the portal ends (in the store and in memory, not yet in the room) and is
    returned; the caller then has ``leave_crowded_portal`` run.

    Called in line, inside the appservice transaction: a QQ message delivered after the
    stranger came must already go to a new room. Puppets and the bot are not strangers here:
    a puppet refuses a portal that is not its own (``puppet_invited``), the bot is ours.
    """
    if bridge.is_bridge_ghost(target):
        return None
    portal = await bridge.portal_by_room(room_id)
    if portal is None or target == portal.user.mxid:
        return None
    if not await portal.end(room_id, leave=False):
        return None
    log.info("%s came into portal %s: ended", target, room_id)
    return portal


async def leave_crowded_portal(
    bridge: Bridge, portal: Portal, room_id: RoomID, target: UserID
) -> None:
    """The puppet of a portal that ``close_crowded_portal`` ended says why, and leaves."""
    intent = portal.puppet.intent
    name = escape(await portal.user.name_of(portal.uin))
    await bridge.send_notice(intent, room_id, marked(_crowded([target], name, portal.uin)))
    await portal.leave(room_id)


async def puppet_removed(bridge: Bridge, room_id: RoomID, uin: int) -> None:
    """The user kicked (or banned) the puppet of ``uin`` from ``room_id``."""
    portal = await bridge.portal_by_room(room_id)
    # The puppet is out already; the bot leaves too, where it was in for its device.
    if portal is None or portal.uin != uin or not await portal.end(room_id):
        return
    name = escape(await portal.user.name_of(uin))
    await portal.user.notify(
        f"You removed {name} from your chat, so that room no longer reaches QQ. Their next "
        f"message opens a new chat; send `pm {uin}` for one now, or invite "
        f"{portal.puppet.mxid} back into that room."
    )


async def owner_membership(portal: Portal, room_id: RoomID, membership: Membership) -> None:
    """The portal's user joined or left its room."""
    if membership == Membership.JOIN and portal.is_request:
        await _answer(portal, accept=True)
    elif membership in (Membership.LEAVE, Membership.BAN):
        if portal.is_request:
            await _answer(portal, accept=False)
        await portal.end(room_id)


async def _answer(portal: Portal, accept: bool) -> None:
    """A friend request answered by joining or leaving its room; if QQ cannot be told, the
    user is, with the command that gives the answer again."""
    user, uin = portal.user, portal.uin
    try:
        await user.friends.answer(uin, accept)
    except ANSWER_FAILURES as error:
        why = _why(error)
        name = escape(await user.name_of(uin))
        prefix = portal.bridge.config.command_prefix
        if accept:
            await portal.notice(
                f"Could not accept the friend request of {name}: {why}. Once that is solved, "
                f"send `{prefix} accept {uin}` here, or `accept {uin}` to the bridge bot."
            )
        else:
            await user.notify(
                f"Could not refuse the friend request of {name}: {why}. Once that is solved, "
                f"send `reject {uin}`."
            )


def _why(error: Exception) -> str:
    if isinstance(error, NotLoggedInError):
        return "you are not logged in to QQ (send `login` to the bridge bot)"
    if isinstance(error, TransportError):
        return f"the QQ server could not be reached ({error})"
    return f"QQ answered with an error ({error})"


def _crowded(strangers: list[UserID], name: str, uin: int) -> str:
    who = ", ".join(strangers)
    return (
        f"{who} is in this room too, and your chat with {name} is for you alone, so I am "
        f"leaving: this room no longer reaches QQ. Send `pm {uin}` to the bridge bot for a "
        "chat of your own, or start a direct chat with just me."
    )
