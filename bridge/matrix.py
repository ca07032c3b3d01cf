"""Events from Synapse, routed: to a portal's outbound queue, to the commands, or to rooms' life.

``handle_event`` runs inside the appservice transaction (see appservice.py). In line it does
only what must be stored before Synapse is told "got it": the record that the event was handled
(bridge/db/matrix_events.py), together with a message's text for QQ, and what the next event
must find done: the bot's invite accepted, a management room closed when a third person came.
Everything else (commands, notices, memberships, redactions) runs in the background after that
record, so a replayed event does nothing twice and a slow command holds up no one; if it fails,
the room is told, since the event is not tried again.

Every message the owner of a portal or management room sends ends in QQ or in a notice that
says why not: malformed, encrypted, empty, in a room the bridge does not bridge, or failed.

Encrypted events go to bridge/e2ee/events.py, which hands the decrypted event (same event id)
back to ``handle_event`` to take the path of any other.
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine
from typing import Any, Protocol, cast

from mautrix.errors import DecryptionError
from mautrix.types import (
    JSON,
    BaseMessageEventContent,
    EncryptedEvent,
    Event,
    EventID,
    EventType,
    MessageEvent,
    MessageEventContent,
    ReactionEvent,
    RedactionEvent,
    RelationType,
    RoomID,
    StateEvent,
    UserID,
)

from . import metrics
from .background import Background
from .core import Bridge
from .db import NewOutbound
from .db.text import storable
from .e2ee.events import EncryptedEvents, was_encrypted
from .formatter import Outgoing, matrix_to_qq, reaction_to_qq, redaction_to_qq, sticker_to_qq
from .management import (
    LOGIN_HIDDEN,
    LOGIN_NOT_HIDDEN,
    crowded_notice,
    redact_login,
    room_readers,
)
from .membership import Memberships
from .notices import say
from .portal import Portal
from .security import looks_like_login
from .user import User

log = logging.getLogger("bridge.matrix")

# Events that carry something the sender wrote: these are answered when they fail.
MESSAGE_TYPES = ("m.room.message", "m.sticker", "m.room.encrypted")

NOT_PERMITTED_NOTICE = "Not sent to QQ: you may not use the bridge now."
UNBRIDGED_ROOM_NOTICE = (
    "This room is not bridged to QQ, so that message went nowhere. Your chats with QQ "
    "contacts are the rooms the bridge made (send `pm <uin>` to the bridge bot for one); "
    "commands go to your direct chat with the bot."
)


class Commands(Protocol):
    """The bot's commands as the router uses them: bridge/commands.Commands, handed over by
    app.py, so that routing events depends on nothing of what the commands do."""

    def line(self, body: str, prefix: str, management_room: bool) -> str | None:
        """The command in a message's body, without the prefix; None when it is not one."""

    async def run(
        self,
        bridge: Bridge,
        user: User,
        room_id: RoomID,
        event_id: EventID,
        body: str,
        edited: EventID | None,
        hidden: bool,
    ) -> None:
        """Run one command line typed in ``room_id``."""


class MatrixHandler:
    def __init__(self, bridge: Bridge, commands: Commands) -> None:
        self.bridge = bridge
        self.commands = commands
        self.background = Background(self.tell_room, _why)
        self.memberships = Memberships(bridge, self.background)
        self.encrypted = EncryptedEvents(bridge, self)
        self.pending = self.encrypted.pending

    async def handle_event(self, event: Event) -> None:
        sender = getattr(event, "sender", None)
        if sender is None or self.bridge.is_bridge_ghost(sender):
            return
        if isinstance(event, StateEvent) and event.type == EventType.ROOM_MEMBER:
            if self.bridge.encryption is not None:
                await self.bridge.encryption.member_changed(event)
            await self.memberships.handle(event)
        elif isinstance(event, MessageEvent) and event.type in (
            EventType.ROOM_MESSAGE,
            EventType.STICKER,
        ):
            # Before anything else, in any room and from anyone: a password must not stay.
            if event.type == EventType.ROOM_MESSAGE and looks_like_login(_texts(event)):
                await self._hide_login(event)
            else:
                await self._message(event)
        elif isinstance(event, StateEvent) and event.type == EventType.ROOM_ENCRYPTION:
            await self.encrypted.room_encrypted(event)
        elif isinstance(event, EncryptedEvent):
            await self.encrypted.handle(event)
        elif isinstance(event, ReactionEvent):
            if await self.claim(event.event_id, event.room_id):
                self.later(self._reaction(event))
        elif isinstance(event, RedactionEvent) and await self.claim(event.event_id, event.room_id):
            self.later(self._redaction(event), tell=event.room_id)

    async def claim(self, event_id: EventID, room_id: RoomID) -> bool:
        """Record the event as handled; False when it was handled before (a replay)."""
        return await self.bridge.db.claim_event(event_id, room_id)

    def later(self, work: Coroutine[Any, Any, object], tell: RoomID | None = None) -> None:
        """After the transaction is acknowledged; if ``work`` fails, ``tell`` hears so."""
        self.background.later(work, tell)

    async def stop(self) -> None:
        """Shutdown: cancel what still runs in the background."""
        await self.background.stop()

    # --- failures (called by the appservice) ------------------------------------------

    async def event_failed(self, event: Event, error: BaseException) -> None:
        """One event could not be handled: record why, and tell its sender once."""
        room_id, event_id = getattr(event, "room_id", None), getattr(event, "event_id", None)
        sender = getattr(event, "sender", None)
        if not (room_id and event_id and sender) or isinstance(event, StateEvent):
            return
        await self.fail(RoomID(room_id), EventID(event_id), UserID(sender), _why(error))

    async def event_unreadable(self, raw: JSON, error: BaseException) -> None:
        """An event mautrix could not even parse: the same, if it looks like a message."""
        room_id, event_id, sender = (raw.get(key) for key in ("room_id", "event_id", "sender"))
        if raw.get("type") not in MESSAGE_TYPES or "state_key" in raw:
            return
        if not all(isinstance(value, str) for value in (room_id, event_id, sender)):
            return
        content = raw.get("content")
        if isinstance(content, dict) and looks_like_login(_raw_texts(content)):
            # Malformed or not, a password must not stay in the room.
            if await self.claim(EventID(event_id), RoomID(room_id)):
                self.later(self._hide_unreadable_login(RoomID(room_id), EventID(event_id)))
            return
        reason = "the message is malformed"
        await self.fail(RoomID(room_id), EventID(event_id), UserID(sender), reason)

    async def fail(self, room_id: RoomID, event_id: EventID, sender: UserID, reason: str) -> None:
        if self.bridge.is_bridge_ghost(sender) or self.bridge.config.permission(sender) is None:
            return
        if await self.bridge.db.fail_event(event_id, room_id, reason):
            metrics.failed(metrics.TO_QQ)
            self.later(self.tell_room(room_id, f"Not sent to QQ: {reason}."))

    # --- messages -----------------------------------------------------------------------

    async def _message(self, event: MessageEvent) -> None:
        portal = await self.bridge.portal_by_room(event.room_id)
        if portal is None:
            await self._outside_portals(event)
        elif event.sender != portal.user.mxid:
            return
        elif self.bridge.config.permission(event.sender) is None:
            if await self.claim(event.event_id, event.room_id):
                self._tell(portal, Outgoing(None, NOT_PERMITTED_NOTICE))
        elif (line := self._command_line(event, management_room=False)) is not None:
            # `!qq ping` in a QQ chat is for the bridge, not for the QQ contact.
            if await self.claim(event.event_id, event.room_id):
                self.later(self._command(event, portal.user, line))
        elif self.bridge.config.encryption_required and not was_encrypted(event):
            await self.encrypted.refuse_clear(portal, event)
        else:
            await self._to_qq(portal, event)

    async def _outside_portals(self, event: MessageEvent) -> None:
        """A command in the management room, or a message in a room the bridge does not know."""
        user = await self.bridge.user(event.sender)
        management = user.management_room == event.room_id
        line = self._command_line(event, management)
        if management:
            if line is not None and await self.claim(event.event_id, event.room_id):
                self.later(self._command(event, user, line), tell=event.room_id)
        elif self.bridge.config.permission(event.sender) is not None and await self.claim(
            event.event_id, event.room_id
        ):
            if line is not None:
                self.later(self._command(event, user, line))
            else:
                self.later(self.tell_room(event.room_id, UNBRIDGED_ROOM_NOTICE))

    def _command_line(self, event: MessageEvent, management_room: bool) -> str | None:
        """The command an ``m.room.message`` holds (bridge/commands: command_line), or None."""
        if event.type != EventType.ROOM_MESSAGE:
            return None
        body = getattr(event.content, "body", "")
        prefix = self.bridge.config.command_prefix
        return self.commands.line(body, prefix, management_room) if isinstance(body, str) else None

    async def _command(
        self, event: MessageEvent, user: User, line: str, hidden: bool = False
    ) -> None:
        if user.management_room != event.room_id:
            # Answers can hold a login link: only where no one but the user reads them.
            others = await room_readers(self.bridge, event.room_id, event.sender)
            if others:
                await self.tell_room(event.room_id, crowded_notice(others, joined=False))
                return
        edited = _edited(event)
        await self.commands.run(
            self.bridge, user, event.room_id, event.event_id, line, edited, hidden
        )

    # --- messages that hold a password ----------------------------------------------------

    async def _hide_login(self, event: MessageEvent) -> None:
        if await self.claim(event.event_id, event.room_id):
            self.later(self._after_hiding(event), tell=event.room_id)

    async def _after_hiding(self, event: MessageEvent) -> None:
        """Redact first; then a command runs as usual, anything else is only answered."""
        hidden = await redact_login(self.bridge, event.room_id, event.event_id, _edited(event))
        if not hidden:
            await self.tell_room(event.room_id, LOGIN_NOT_HIDDEN)
        user = await self.bridge.user(event.sender)
        management = user.management_room == event.room_id
        if (line := self._command_line(event, management)) is not None:
            # hidden=True: the one try to redact was made, and a failure was told.
            await self._command(event, user, line, hidden=True)
        elif hidden:
            await self.tell_room(event.room_id, LOGIN_HIDDEN)

    async def _hide_unreadable_login(self, room_id: RoomID, event_id: EventID) -> None:
        hidden = await redact_login(self.bridge, room_id, event_id, None)
        await self.tell_room(room_id, LOGIN_HIDDEN if hidden else LOGIN_NOT_HIDDEN)

    async def _to_qq(self, portal: Portal, event: MessageEvent) -> None:
        """In line: the text for QQ is stored, with the event's record, before the
        transaction is acknowledged."""
        if event.type == EventType.STICKER:
            outgoing = sticker_to_qq(event.content)
        else:
            outgoing = await matrix_to_qq(
                event.content,
                sender_name=await self._displayname(event.room_id, event.sender),
                fetch_event=lambda event_id: self._fetch(portal, event_id),
            )
        db = self.bridge.db
        if outgoing.text:
            text = storable(outgoing.text)
            item = NewOutbound(portal.user.mxid, portal.uin, event.room_id, event.event_id, text)
            claimed, row = await db.claim_message(event.event_id, event.room_id, item)
            if claimed:
                portal.user.outbound.queued(row)
        else:
            claimed = await db.claim_event(event.event_id, event.room_id)
        if not claimed:
            return  # handled before: Synapse sent this event again
        self._tell(portal, outgoing)

    async def _reaction(self, event: ReactionEvent) -> None:
        portal = await self._owned_portal(event.room_id, event.sender)
        if portal:
            self._tell(portal, reaction_to_qq(event.content.relates_to.key or ""))

    async def _redaction(self, event: RedactionEvent) -> None:
        portal = await self._owned_portal(event.room_id, event.sender)
        if portal and await portal.user.outbound.redacted(event.redacts):
            self._tell(portal, redaction_to_qq())

    def _tell(self, portal: Portal, outgoing: Outgoing) -> None:
        if outgoing.notice:
            self.later(portal.notice(outgoing.notice))

    async def tell_room(self, room_id: RoomID, text: str) -> None:
        """A notice in any room: from the portal's puppet, else the bot or a puppet there."""
        await say(self.bridge, room_id, text)

    async def _owned_portal(self, room_id: RoomID, sender: UserID) -> Portal | None:
        return await self.bridge.owned_portal(room_id, sender)

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
        if isinstance(fetched, EncryptedEvent) and self.bridge.encryption is not None:
            try:
                fetched = await self.bridge.encryption.decrypt(fetched)
            except DecryptionError:
                log.info("Could not decrypt %s for a reply quote", event_id)
                return None
        content = getattr(fetched, "content", None)
        if isinstance(content, BaseMessageEventContent):
            return cast(MessageEventContent, content)
        return None


def _edited(event: MessageEvent) -> EventID | None:
    """The event an edit replaces (mautrix hands over the edit's new content)."""
    relation = getattr(event.content, "relates_to", None)
    if relation is not None and relation.rel_type == RelationType.REPLACE:
        return cast(EventID, relation.event_id)
    return None


def _texts(event: MessageEvent) -> list[str]:
    """Every text of a message a user reads or a client renders, an edit's new one included."""
    return _raw_texts(event.content.serialize())


def _raw_texts(raw: dict[str, Any]) -> list[str]:
    parts = [raw, raw.get("m.new_content")]
    return [
        value
        for part in parts
        if isinstance(part, dict)
        for key in ("body", "formatted_body")
        if isinstance(value := part.get(key), str)
    ]


def _why(error: BaseException) -> str:
    """What to tell a sender about an event the bridge failed on; never the event's content."""
    if isinstance(error, RecursionError):
        return "the message is nested too deeply to convert"
    return f"the bridge could not handle this message ({type(error).__name__})"
