"""Encrypted events from Synapse, for the event router (bridge/matrix.py).

With ``bridge.encryption.allow`` an ``m.room.encrypted`` event is decrypted in line, like any
event, and the decrypted event (same event id) goes back to the router to take the path of any
other; one whose key has not arrived waits for it (pending.py), and one that cannot be
decrypted is failed with a notice. Without ``allow`` its sender is told that the bridge cannot
read it. ``m.room.encryption`` in a portal brings the bot in, and under
``bridge.encryption.require`` a message sent in clear is refused here.
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, Protocol, cast

from mautrix.errors import DecryptionError, SessionNotFound
from mautrix.types import (
    EncryptedEvent,
    Event,
    EventID,
    EventType,
    MessageEvent,
    RoomID,
    StateEvent,
    UserID,
)

from .. import metrics
from ..portal_members import CLEAR_ROOM_REFUSED
from .pending import PendingDecryptions

if TYPE_CHECKING:
    from ..core import Bridge
    from ..portal import Portal

log = logging.getLogger("bridge.e2ee.events")

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
KEY_NEVER_ARRIVED_REASON = "the bridge never received its encryption key"
CLEAR_REFUSED = (
    "this bridge sends only encrypted messages to QQ, and this one came unencrypted; send it "
    "again with encryption on in this chat"
)


class Router(Protocol):
    """What of the event router (matrix.MatrixHandler) encrypted events go through."""

    async def handle_event(self, event: Event) -> None: ...
    async def event_failed(self, event: Event, error: BaseException) -> None: ...
    async def fail(self, room_id: RoomID, event_id: EventID, sender: UserID, reason: str) -> None:
        """Record the event as failed and tell its sender, once."""

    async def claim(self, event_id: EventID, room_id: RoomID) -> bool:
        """Record the event as handled; False when it was before."""

    def later(self, work: Coroutine[Any, Any, object], tell: RoomID | None = None) -> None:
        """Run ``work`` after the transaction."""

    async def tell_room(self, room_id: RoomID, text: str) -> None:
        """A notice in the room."""


class EncryptedEvents:
    def __init__(self, bridge: Bridge, router: Router) -> None:
        self.bridge = bridge
        self.router = router
        self.pending = PendingDecryptions(
            bridge.db,
            self._wait_for_key,
            self._key_arrived,
            self._key_missing,
            self._key_never_arrived,
        )

    async def handle(self, event: EncryptedEvent) -> None:
        """In line: decrypted and routed, or its key awaited, or failed; or, with encryption
        off, answered."""
        if self.bridge.config.permission(event.sender) is None or event.event_id in self.pending:
            return
        portal = await self.bridge.portal_by_room(event.room_id)
        if portal is not None and event.sender != portal.user.mxid:
            return
        if self.bridge.encryption is None:
            await self._unreadable(event)
        else:
            await self._decrypt_and_route(event, key_may_come=True)

    async def room_encrypted(self, event: StateEvent) -> None:
        """Encryption was turned on in a room: in a portal, the bot joins, so that the owner's
        devices share their keys with the bot's device."""
        if self.bridge.encryption is not None and await self.router.claim(
            event.event_id, event.room_id
        ):
            self.router.later(self._bring_the_bot(event.room_id))

    async def refuse_clear(self, portal: Portal, event: MessageEvent) -> None:
        """bridge.encryption.require: a message sent in clear is recorded as failed in line;
        its sender hears why, and the room is made encrypted (or given up) afterwards."""
        if await self.bridge.db.fail_event(event.event_id, event.room_id, CLEAR_REFUSED):
            metrics.failed(metrics.TO_QQ)
            self.router.later(self._clear_refused(portal, event.room_id), tell=event.room_id)

    # --- in line -------------------------------------------------------------------------

    async def _unreadable(self, event: EncryptedEvent) -> None:
        user = await self.bridge.user(event.sender)
        management = user.management_room == event.room_id
        text = ENCRYPTED_COMMAND_NOTICE if management else ENCRYPTED_NOTICE
        if await self.router.claim(event.event_id, event.room_id):
            self.router.later(self.router.tell_room(event.room_id, text))

    async def _decrypt_and_route(self, event: EncryptedEvent, *, key_may_come: bool) -> None:
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
        await self.router.handle_event(decrypted)

    async def _undecryptable(self, event: EncryptedEvent, why: str) -> None:
        log.warning("Could not decrypt %s: %s", event.event_id, why)
        await self.router.fail(event.room_id, event.event_id, event.sender, UNDECRYPTABLE_REASON)

    # --- after the transaction -----------------------------------------------------------

    async def _wait_for_key(self, event: EncryptedEvent, timeout: float) -> bool:
        assert self.bridge.encryption is not None
        return await self.bridge.encryption.wait_for_key(event, timeout)

    async def _key_arrived(self, event: EncryptedEvent) -> None:
        """A failure here can only be told, not answered with a 500."""
        try:
            await self._decrypt_and_route(event, key_may_come=False)
        except Exception as error:
            log.exception("Event %s failed after its key arrived", event.event_id)
            await self.router.event_failed(cast(Event, event), error)

    async def _key_missing(self, event: EncryptedEvent) -> None:
        await self.router.tell_room(event.room_id, KEY_MISSING_NOTICE)

    async def _key_never_arrived(self, event: EncryptedEvent) -> None:
        await self.router.fail(
            event.room_id, event.event_id, event.sender, KEY_NEVER_ARRIVED_REASON
        )

    async def _bring_the_bot(self, room_id: RoomID) -> None:
        portal = await self.bridge.portal_by_room(room_id)
        if portal is not None:
            await portal.invite_bot()

    async def _clear_refused(self, portal: Portal, room_id: RoomID) -> None:
        await self.router.tell_room(room_id, f"Not sent to QQ: {CLEAR_REFUSED}.")
        if not await portal.enforce_encryption():
            await self.router.tell_room(room_id, CLEAR_ROOM_REFUSED.format(uin=portal.uin))
            await portal.end(room_id)


def was_encrypted(event: MessageEvent) -> bool:
    """mautrix marks what its OlmMachine decrypted (crypto/decrypt_megolm.py)."""
    try:
        return bool(event["mautrix"]["was_encrypted"])
    except (KeyError, TypeError):
        return False
