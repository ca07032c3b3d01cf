"""Membership events: the bot invited, a puppet invited, a third person in a management room,
the owner of a portal joining or leaving it.

What the next event must find done runs in line, inside the appservice transaction: the bot's
invite (a command sent right after it needs its management room) and closing a management room
that a third person entered (a command's answer must not reach them). The rest runs in the
background once the event is recorded (bridge/background.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mautrix.types import Membership, MemberStateEventContent, StateEvent, UserID

from .background import Background
from .commands.contacts import answer_request
from .e2ee.sending import room_is_encrypted
from .management import (
    ROOM_READERS,
    close_crowded_room,
    crowded_notice,
    leave_crowded_room,
    others_in_room,
)

if TYPE_CHECKING:
    from .core import Bridge
    from .portal import Portal

# bridge.encryption.require, where the puppet may not turn encryption on in the user's room.
CLEAR_ROOM_REFUSED = (
    "This bridge bridges only encrypted chats, and I may not turn encryption on here, so I am "
    "leaving. Start the chat again with encryption on, or send `pm {uin}` to the bridge bot."
)


class Memberships:
    def __init__(self, bridge: Bridge, background: Background) -> None:
        self.bridge = bridge
        self._background = background

    async def handle(self, event: StateEvent) -> None:
        """What must hold before the next event is read runs in line, then the record."""
        if await self.bridge.db.event_outcome(event.event_id) is not None:
            return  # handled before: Synapse sent this event again
        # In line, so that a command sent right after finds the management room as it is:
        # set up by the bot's invite, or closed by a third person's arrival. Both are safe to
        # repeat if the bridge dies before the record below.
        crowded = False
        if self._invites_bot(event):
            await self._bot_invited(event)
        elif (
            isinstance(event.content, MemberStateEventContent)
            and event.content.membership in ROOM_READERS
        ):
            target = UserID(event.state_key)
            crowded = await close_crowded_room(self.bridge, event.room_id, target)
        if not await self.bridge.db.claim_event(event.event_id, event.room_id):
            return
        if crowded:
            self._background.later(
                leave_crowded_room(self.bridge, event.room_id, UserID(event.state_key))
            )
        if not self._invites_bot(event):
            self._background.later(self._membership(event))

    async def _membership(self, event: StateEvent) -> None:
        if not isinstance(event.content, MemberStateEventContent):
            return
        target = UserID(event.state_key)
        membership = event.content.membership
        if membership == Membership.INVITE and (uin := self.bridge.config.uin_from_mxid(target)):
            await self._puppet_invited(event, uin)
        elif target == event.sender:
            portal = await self.bridge.owned_portal(event.room_id, event.sender)
            if portal:
                await self._owner_membership(portal, membership)

    def _invites_bot(self, event: StateEvent) -> bool:
        return (
            isinstance(event.content, MemberStateEventContent)
            and event.content.membership == Membership.INVITE
            and event.state_key == self.bridge.config.bot_mxid
        )

    async def _bot_invited(self, event: StateEvent) -> None:
        bot = self.bridge.bot
        await bot.join_room_by_id(event.room_id)
        if self.bridge.config.permission(event.sender) is None:
            await self.bridge.send_notice(
                bot, event.room_id, "Sorry, you are not allowed to use this bridge."
            )
            await bot.leave_room(event.room_id)
            return
        if not isinstance(event.content, MemberStateEventContent) or not event.content.is_direct:
            # A group room would let everyone in it read the bot's answers, logins included.
            await self.bridge.send_notice(
                bot, event.room_id, "I only take commands in a direct chat with me."
            )
            await bot.leave_room(event.room_id)
            return
        if others := await others_in_room(self.bridge, event.room_id, event.sender):
            await self.bridge.send_notice(bot, event.room_id, crowded_notice(others, joined=False))
            await bot.leave_room(event.room_id)
            return
        user = await self.bridge.user(event.sender)
        await user.set_management_room(event.room_id)
        hello = (
            "Hello! I bridge QQ. This room is now where you talk to me. "
            "Send `login` to log in, or `help` for everything I can do."
        )
        await self.bridge.send_notice(bot, event.room_id, hello)

    async def _puppet_invited(self, event: StateEvent, uin: int) -> None:
        """The user started a DM with a puppet from their client: that room is the portal."""
        intent = self.bridge.puppet_intent(uin)
        user = await self.bridge.user(event.sender)
        portal = await self.bridge.portal(user, uin)
        allowed = self.bridge.config.permission(event.sender) is not None
        if not (allowed and user.has_credentials) or not await portal.adopt_room(event.room_id):
            await intent.leave_room(event.room_id)
            if allowed and portal.room_id:
                await portal.notice("This is your chat with this QQ contact.")
            return
        await intent.join_room_by_id(event.room_id)
        if not await portal.enforce_encryption():
            await portal.notice(CLEAR_ROOM_REFUSED.format(uin=uin))
            await portal.forget()
            return
        if self.bridge.encryption is not None and await room_is_encrypted(
            self.bridge, intent, event.room_id
        ):
            await portal.invite_bot()
        await user.learn_profile(uin)

    async def _owner_membership(self, portal: Portal, membership: Membership) -> None:
        if membership == Membership.JOIN and portal.is_request:
            await answer_request(portal.user, portal.uin, accept=True)
        elif membership == Membership.LEAVE:
            if portal.is_request:
                await answer_request(portal.user, portal.uin, accept=False)
            else:
                await portal.forget()
