"""Events from Synapse, routed: to a portal's outbound queue, to the commands, or to rooms' life.

``handle_event`` runs inside the appservice transaction (see appservice.py). It does in line only
what must be stored before Synapse is told "got it" (a message for QQ); everything else runs in
the background so a slow command never holds up the transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine
from typing import Any, cast

from mautrix.types import (
    BaseMessageEventContent,
    Event,
    EventID,
    EventType,
    Membership,
    MemberStateEventContent,
    MessageEvent,
    MessageEventContent,
    ReactionEvent,
    RedactionEvent,
    RelationType,
    RoomID,
    StateEvent,
    UserID,
)
from mautrix.util import background_task

from .commands import handle_command
from .commands.contacts import answer_request
from .core import Bridge
from .db import NewOutbound
from .db.text import storable
from .formatter import Outgoing, matrix_to_qq, reaction_to_qq, redaction_to_qq, sticker_to_qq
from .portal import Portal

log = logging.getLogger("bridge.matrix")


class MatrixHandler:
    def __init__(self, bridge: Bridge) -> None:
        self.bridge = bridge

    async def handle_event(self, event: Event) -> None:
        sender = getattr(event, "sender", None)
        if sender is None or self.bridge.is_bridge_ghost(sender):
            return
        if isinstance(event, StateEvent) and event.type == EventType.ROOM_MEMBER:
            self._later(self._membership(event))
        elif isinstance(event, MessageEvent) and event.type in (
            EventType.ROOM_MESSAGE,
            EventType.STICKER,
        ):
            await self._message(event)
        elif isinstance(event, ReactionEvent):
            self._later(self._reaction(event))
        elif isinstance(event, RedactionEvent):
            self._later(self._redaction(event))

    def _later(self, work: Coroutine[Any, Any, object]) -> None:
        background_task.create(work)

    # --- messages -----------------------------------------------------------------------

    async def _message(self, event: MessageEvent) -> None:
        portal = await self.bridge.portal_by_room(event.room_id)
        if portal is None:
            await self._command(event)
        elif event.sender != portal.user.mxid:
            return
        elif self.bridge.config.permission(event.sender) is None:
            self._tell(portal, Outgoing(None, "Not sent to QQ: you may not use the bridge now."))
        else:
            await self._to_qq(portal, event)

    async def _command(self, event: MessageEvent) -> None:
        user = await self.bridge.user(event.sender)
        if user.management_room != event.room_id or event.type != EventType.ROOM_MESSAGE:
            return
        # mautrix hands over an edit's new content; the original may hold a password too.
        relation = getattr(event.content, "relates_to", None)
        is_edit = relation is not None and relation.rel_type == RelationType.REPLACE
        edited = relation.event_id if relation and is_edit else None
        body = getattr(event.content, "body", "") or ""
        command = handle_command(self.bridge, user, event.room_id, event.event_id, body, edited)
        self._later(command)

    async def _to_qq(self, portal: Portal, event: MessageEvent) -> None:
        """In line: the text for QQ is stored before the transaction is acknowledged."""
        if event.type == EventType.STICKER:
            outgoing = sticker_to_qq(event.content)
        else:
            outgoing = await matrix_to_qq(
                event.content,
                sender_name=await self._displayname(event.room_id, event.sender),
                fetch_event=lambda event_id: self._fetch(portal, event_id),
            )
        if outgoing.text:
            text = storable(outgoing.text)
            item = NewOutbound(portal.user.mxid, portal.uin, event.room_id, event.event_id, text)
            await portal.user.outbound.store(item)
        self._tell(portal, outgoing)

    async def _reaction(self, event: ReactionEvent) -> None:
        portal = await self._owned_portal(event.room_id, event.sender)
        if portal:
            self._tell(portal, reaction_to_qq(event.content.relates_to.key or ""))

    async def _redaction(self, event: RedactionEvent) -> None:
        portal = await self._owned_portal(event.room_id, event.sender)
        if portal and not await portal.user.outbound.cancel(event.redacts):
            self._tell(portal, redaction_to_qq())

    def _tell(self, portal: Portal, outgoing: Outgoing) -> None:
        if outgoing.notice:
            self._later(portal.notice(outgoing.notice))

    async def _owned_portal(self, room_id: RoomID, sender: UserID) -> Portal | None:
        portal = await self.bridge.portal_by_room(room_id)
        return portal if portal and portal.user.mxid == sender else None

    async def _displayname(self, room_id: RoomID, user_id: UserID) -> str:
        member = await self.bridge.az.state_store.get_member(room_id, user_id)
        if member and member.displayname:
            return str(member.displayname)
        return user_id.removeprefix("@").split(":")[0]

    async def _fetch(self, portal: Portal, event_id: EventID) -> MessageEventContent | None:
        """A replied-to event, read as the puppet: the bot is not in DM portals."""
        assert portal.room_id is not None
        try:
            fetched = await portal.puppet.intent.get_event(portal.room_id, event_id)
        except Exception:  # a missing quote is no reason to lose the reply itself
            log.info("Could not fetch %s for a reply quote", event_id)
            return None
        content = getattr(fetched, "content", None)
        if isinstance(content, BaseMessageEventContent):
            return cast(MessageEventContent, content)
        return None

    # --- membership ---------------------------------------------------------------------

    async def _membership(self, event: StateEvent) -> None:
        if not isinstance(event.content, MemberStateEventContent):
            return
        target = UserID(event.state_key)
        membership = event.content.membership
        if target == self.bridge.config.bot_mxid and membership == Membership.INVITE:
            await self._bot_invited(event)
        elif membership == Membership.INVITE and (uin := self.bridge.config.uin_from_mxid(target)):
            await self._puppet_invited(event, uin)
        elif target == event.sender:
            portal = await self._owned_portal(event.room_id, event.sender)
            if portal:
                await self._owner_membership(portal, membership)

    async def _bot_invited(self, event: StateEvent) -> None:
        bot = self.bridge.bot
        await bot.join_room_by_id(event.room_id)
        if self.bridge.config.permission(event.sender) is None:
            await bot.send_notice(event.room_id, "Sorry, you are not allowed to use this bridge.")
            await bot.leave_room(event.room_id)
            return
        if not isinstance(event.content, MemberStateEventContent) or not event.content.is_direct:
            # A group room would let everyone in it read the bot's answers, logins included.
            await bot.send_notice(event.room_id, "I only take commands in a direct chat with me.")
            await bot.leave_room(event.room_id)
            return
        user = await self.bridge.user(event.sender)
        await user.set_management_room(event.room_id)
        await bot.send_notice(
            event.room_id,
            "Hello! I bridge QQ. This room is now where you talk to me. "
            "Send `login <uin> <password>` to log in, or `help` for everything I can do.",
        )

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
        await user.learn_profile(uin)

    async def _owner_membership(self, portal: Portal, membership: Membership) -> None:
        if membership == Membership.JOIN and portal.is_request:
            await answer_request(portal.user, portal.uin, accept=True)
        elif membership == Membership.LEAVE:
            if portal.is_request:
                await answer_request(portal.user, portal.uin, accept=False)
            else:
                await portal.forget()
