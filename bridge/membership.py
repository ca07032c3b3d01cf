"""Membership events: the bot invited, a puppet invited or removed, a third person in a
management room or a portal, the owner of a portal joining or leaving it.

What the next event must find done runs in line, inside the appservice transaction: the bot's
invite (a command sent right after it needs its management room) and closing a management room
or a portal that a third person entered (a command's answer or a QQ message must not reach
them). The rest runs in the background once the event is recorded (bridge/background.py).
Who may be in a portal: bridge/portal_members.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mautrix.types import Membership, MemberStateEventContent, StateEvent, UserID

from .background import Background
from .management import (
    ROOM_READERS,
    close_crowded_room,
    crowded_notice,
    leave_crowded_room,
    others_in_room,
)
from .portal_members import (
    close_crowded_portal,
    leave_crowded_portal,
    owner_membership,
    puppet_invited,
    puppet_removed,
)

if TYPE_CHECKING:
    from .core import Bridge


class Memberships:
    def __init__(self, bridge: Bridge, background: Background) -> None:
        self.bridge = bridge
        self._background = background

    async def handle(self, event: StateEvent) -> None:
        """What must hold before the next event is read runs in line, then the record."""
        if await self.bridge.db.event_outcome(event.event_id) is not None:
            return  # handled before: Synapse sent this event again
        # In line, so that what comes next finds the rooms as they are: a command its
        # management room set up by the bot's invite or closed by a third person's arrival, a
        # QQ message no longer the portal a third person came into. All are safe to repeat if
        # the bridge dies before the record below.
        crowded, crowded_portal = False, None
        target = UserID(event.state_key)
        if self._invites_bot(event):
            await self._bot_invited(event)
        elif (
            isinstance(event.content, MemberStateEventContent)
            and event.content.membership in ROOM_READERS
        ):
            crowded = await close_crowded_room(self.bridge, event.room_id, target)
            crowded_portal = await close_crowded_portal(self.bridge, event.room_id, target)
        if not await self.bridge.db.claim_event(event.event_id, event.room_id):
            return
        if crowded:
            self._background.later(leave_crowded_room(self.bridge, event.room_id, target))
        if crowded_portal is not None:
            self._background.later(
                leave_crowded_portal(self.bridge, crowded_portal, event.room_id, target)
            )
        if not self._invites_bot(event):
            self._background.later(self._membership(event))

    async def _membership(self, event: StateEvent) -> None:
        if not isinstance(event.content, MemberStateEventContent):
            return
        target, room_id = UserID(event.state_key), event.room_id
        membership = event.content.membership
        uin = self.bridge.config.uin_from_mxid(target)
        if membership == Membership.INVITE and uin:
            await puppet_invited(self.bridge, room_id, event.sender, uin)
        elif membership in (Membership.LEAVE, Membership.BAN) and uin:
            await puppet_removed(self.bridge, room_id, uin)
        elif (portal := await self.bridge.portal_by_room(room_id)) and target == portal.user.mxid:
            await owner_membership(portal, room_id, membership)

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
