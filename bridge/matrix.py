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

With ``bridge.encryption.allow`` an encrypted event is decrypted here and the decrypted event
(same event id) takes the path of any other; one whose key has not arrived waits for it
(bridge/e2ee/pending.py). Without it, the sender is told that the bridge cannot read it.
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine
from typing import Any, cast

from mautrix.errors import DecryptionError, SessionNotFound
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
from .commands import command_line, handle_command
from .core import Bridge
from .db import NewOutbound
from .db.text import storable
from .e2ee.pending import PendingDecryptions
from .formatter import Outgoing, matrix_to_qq, reaction_to_qq, redaction_to_qq, sticker_to_qq
from .management import (
    LOGIN_HIDDEN,
    LOGIN_NOT_HIDDEN,
    crowded_notice,
    redact_login,
    room_readers,
)
from .membership import CLEAR_ROOM_REFUSED, Memberships
from .notices import say
from .portal import Portal
from .security import looks_like_login
from .user import User

log = logging.getLogger("bridge.matrix")

# Events that carry something the sender wrote: these are answered when they fail.
MESSAGE_TYPES = ("m.room.message", "m.sticker", "m.room.encrypted")

ENCRYPTED_NOTICE = (
    "Not sent to QQ: this chat is encrypted, and the bridge cannot read encrypted messages. "
    "Send `pm <uin>` to the bridge bot for a chat without encryption."
)
ENCRYPTED_COMMAND_NOTICE = (
    "I cannot read encrypted messages, so I did not see that. Start a new direct chat with me "
    "with encryption turned off, and send `help` there."
)
KEY_MISSING_NOTICE = (
    "That message is not sent to QQ yet: the bridge has not received its encryption key from "
    "your device. It will be sent when the key arrives."
)
UNDECRYPTABLE_REASON = "the bridge could not decrypt it"
CLEAR_REFUSED = (
    "this bridge sends only encrypted messages to QQ, and this one came unencrypted; send it "
    "again with encryption on in this chat"
)
KEY_NEVER_ARRIVED_REASON = "the bridge never received its encryption key"
NOT_PERMITTED_NOTICE = "Not sent to QQ: you may not use the bridge now."
UNBRIDGED_ROOM_NOTICE = (
    "This room is not bridged to QQ, so that message went nowhere. Your chats with QQ "
    "contacts are the rooms the bridge made (send `pm <uin>` to the bridge bot for one); "
    "commands go to your direct chat with the bot."
)


class MatrixHandler:
    def __init__(self, bridge: Bridge) -> None:
        self.bridge = bridge
        self.background = Background(self._tell_room, _why)
        self.memberships = Memberships(bridge, self.background)
        self.pending = PendingDecryptions(
            bridge.db,
            self._wait_for_key,
            self._key_arrived,
            self._key_missing,
            self._key_never_arrived,
        )

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
            if self.bridge.encryption is not None and await self._claim(
                event.event_id, event.room_id
            ):
                self._later(self._room_encrypted(event.room_id))
        elif isinstance(event, EncryptedEvent):
            if self.bridge.encryption is None:
                await self._encrypted(event)
            else:
                await self._decrypt(event)
        elif isinstance(event, ReactionEvent):
            if await self._claim(event.event_id, event.room_id):
                self._later(self._reaction(event))
        elif isinstance(event, RedactionEvent) and await self._claim(event.event_id, event.room_id):
            self._later(self._redaction(event), tell=event.room_id)

    async def _claim(self, event_id: EventID, room_id: RoomID) -> bool:
        """Record the event as handled; False when it was handled before (a replay)."""
        return await self.bridge.db.claim_event(event_id, room_id)

    def _later(self, work: Coroutine[Any, Any, object], tell: RoomID | None = None) -> None:
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
        await self._failed(RoomID(room_id), EventID(event_id), UserID(sender), _why(error))

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
            if await self._claim(EventID(event_id), RoomID(room_id)):
                self._later(self._hide_unreadable_login(RoomID(room_id), EventID(event_id)))
            return
        reason = "the message is malformed"
        await self._failed(RoomID(room_id), EventID(event_id), UserID(sender), reason)

    async def _failed(
        self, room_id: RoomID, event_id: EventID, sender: UserID, reason: str
    ) -> None:
        if self.bridge.is_bridge_ghost(sender) or self.bridge.config.permission(sender) is None:
            return
        if await self.bridge.db.fail_event(event_id, room_id, reason):
            metrics.failed(metrics.TO_QQ)
            self._later(self._tell_room(room_id, f"Not sent to QQ: {reason}."))

    # --- messages -----------------------------------------------------------------------

    async def _message(self, event: MessageEvent) -> None:
        portal = await self.bridge.portal_by_room(event.room_id)
        if portal is None:
            await self._outside_portals(event)
        elif event.sender != portal.user.mxid:
            return
        elif self.bridge.config.permission(event.sender) is None:
            if await self._claim(event.event_id, event.room_id):
                self._tell(portal, Outgoing(None, NOT_PERMITTED_NOTICE))
        elif (line := self._command_line(event, management_room=False)) is not None:
            # `!qq ping` in a QQ chat is for the bridge, not for the QQ contact.
            if await self._claim(event.event_id, event.room_id):
                self._later(self._command(event, portal.user, line))
        elif self.bridge.config.encryption_required and not _was_encrypted(event):
            # Recorded as failed (and answered) in line; the room is fixed afterwards.
            if await self.bridge.db.fail_event(event.event_id, event.room_id, CLEAR_REFUSED):
                metrics.failed(metrics.TO_QQ)
                self._later(self._clear_message_refused(portal, event.room_id), tell=event.room_id)
        else:
            await self._to_qq(portal, event)

    async def _clear_message_refused(self, portal: Portal, room_id: RoomID) -> None:
        """bridge.encryption.require: a message sent in clear is not bridged; the sender hears
        why, and the room is made encrypted (or given up) so that the next one can be."""
        await self._tell_room(room_id, f"Not sent to QQ: {CLEAR_REFUSED}.")
        if not await portal.enforce_encryption():
            await self._tell_room(room_id, CLEAR_ROOM_REFUSED.format(uin=portal.uin))
            await portal.forget()

    async def _outside_portals(self, event: MessageEvent) -> None:
        """A command in the management room, or a message in a room the bridge does not know."""
        user = await self.bridge.user(event.sender)
        management = user.management_room == event.room_id
        line = self._command_line(event, management)
        if management:
            if line is not None and await self._claim(event.event_id, event.room_id):
                self._later(self._command(event, user, line), tell=event.room_id)
        elif self.bridge.config.permission(event.sender) is not None and await self._claim(
            event.event_id, event.room_id
        ):
            if line is not None:
                self._later(self._command(event, user, line))
            else:
                self._later(self._tell_room(event.room_id, UNBRIDGED_ROOM_NOTICE))

    def _command_line(self, event: MessageEvent, management_room: bool) -> str | None:
        """The command an ``m.room.message`` holds (bridge/commands: command_line), or None."""
        if event.type != EventType.ROOM_MESSAGE:
            return None
        body = getattr(event.content, "body", "")
        prefix = self.bridge.config.command_prefix
        return command_line(body, prefix, management_room) if isinstance(body, str) else None

    async def _command(
        self, event: MessageEvent, user: User, line: str, hidden: bool = False
    ) -> None:
        if user.management_room != event.room_id:
            # Answers can hold a login link: only where no one but the user reads them.
            others = await room_readers(self.bridge, event.room_id, event.sender)
            if others:
                await self._tell_room(event.room_id, crowded_notice(others, joined=False))
                return
        edited = _edited(event)
        await handle_command(self.bridge, user, event.room_id, event.event_id, line, edited, hidden)

    # --- messages that hold a password ----------------------------------------------------

    async def _hide_login(self, event: MessageEvent) -> None:
        if await self._claim(event.event_id, event.room_id):
            self._later(self._after_hiding(event), tell=event.room_id)

    async def _after_hiding(self, event: MessageEvent) -> None:
        """Redact first; then a command runs as usual, anything else is only answered."""
        hidden = await redact_login(self.bridge, event.room_id, event.event_id, _edited(event))
        if not hidden:
            await self._tell_room(event.room_id, LOGIN_NOT_HIDDEN)
        user = await self.bridge.user(event.sender)
        management = user.management_room == event.room_id
        if (line := self._command_line(event, management)) is not None:
            # hidden=True: the one try to redact was made, and a failure was told.
            await self._command(event, user, line, hidden=True)
        elif hidden:
            await self._tell_room(event.room_id, LOGIN_HIDDEN)

    async def _hide_unreadable_login(self, room_id: RoomID, event_id: EventID) -> None:
        hidden = await redact_login(self.bridge, room_id, event_id, None)
        await self._tell_room(room_id, LOGIN_HIDDEN if hidden else LOGIN_NOT_HIDDEN)

    async def _encrypted(self, event: EncryptedEvent) -> None:
        if self.bridge.config.permission(event.sender) is None:
            return
        portal = await self.bridge.portal_by_room(event.room_id)
        if portal is not None and event.sender != portal.user.mxid:
            return
        user = await self.bridge.user(event.sender)
        text = ENCRYPTED_COMMAND_NOTICE if user.management_room == event.room_id else None
        if await self._claim(event.event_id, event.room_id):
            self._later(self._tell_room(event.room_id, text or ENCRYPTED_NOTICE))

    # --- encrypted events (bridge.encryption.allow) ----------------------------------------

    async def _decrypt(self, event: EncryptedEvent) -> None:
        """In line, like any event: decrypted and handled, or its key awaited, or failed."""
        if self.bridge.config.permission(event.sender) is None or event.event_id in self.pending:
            return
        portal = await self.bridge.portal_by_room(event.room_id)
        if portal is not None and event.sender != portal.user.mxid:
            return
        await self._decrypt_and_handle(event, key_may_come=True)

    async def _decrypt_and_handle(self, event: EncryptedEvent, *, key_may_come: bool) -> None:
        assert self.bridge.encryption is not None
        try:
            decrypted = await self.bridge.encryption.decrypt(event)
        except SessionNotFound:
            if not key_may_come:  # a key came after the wait, but not this one
                await self._undecryptable(event, "its key is not the one that arrived")
            elif await self.bridge.db.event_outcome(event.event_id) is None:
                await self.pending.add(event)
            return
        except DecryptionError as error:
            await self._undecryptable(event, type(error).__name__)
            return
        decrypted.type = decrypted.type.with_class(EventType.Class.MESSAGE)
        await self.handle_event(decrypted)

    async def _undecryptable(self, event: EncryptedEvent, why: str) -> None:
        log.warning("Could not decrypt %s: %s", event.event_id, why)
        await self._failed(event.room_id, event.event_id, event.sender, UNDECRYPTABLE_REASON)

    async def _wait_for_key(self, event: EncryptedEvent, timeout: float) -> bool:
        assert self.bridge.encryption is not None
        return await self.bridge.encryption.wait_for_key(event, timeout)

    async def _key_arrived(self, event: EncryptedEvent) -> None:
        """After the transaction: a failure here can only be told, not answered with a 500."""
        try:
            await self._decrypt_and_handle(event, key_may_come=False)
        except Exception as error:
            log.exception("Event %s failed after its key arrived", event.event_id)
            await self.event_failed(cast(Event, event), error)

    async def _key_missing(self, event: EncryptedEvent) -> None:
        await self._tell_room(event.room_id, KEY_MISSING_NOTICE)

    async def _key_never_arrived(self, event: EncryptedEvent) -> None:
        await self._failed(event.room_id, event.event_id, event.sender, KEY_NEVER_ARRIVED_REASON)

    async def _room_encrypted(self, room_id: RoomID) -> None:
        """Encryption was turned on in a portal: the bot joins, so that the owner's devices
        share their keys with the bot's device."""
        portal = await self.bridge.portal_by_room(room_id)
        if portal is not None:
            await portal.invite_bot()

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
            self._later(portal.notice(outgoing.notice))

    async def _tell_room(self, room_id: RoomID, text: str) -> None:
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


def _was_encrypted(event: MessageEvent) -> bool:
    """mautrix marks what its OlmMachine decrypted (crypto/decrypt_megolm.py)."""
    try:
        return bool(event["mautrix"]["was_encrypted"])
    except (KeyError, TypeError):
        return False
