"""The bridge bot's encryption device, after mautrix's bridge helper (mautrix/bridge/e2ee.py).

Shapes and sources:

- The device: an appservice login of the bot (``m.login.application_service``, MSC2778, which
  Synapse supports without configuration) with the device id kept in ``crypto_account``; the
  Olm account and every session live in the bridge database (bridge/db/crypto_store.py).
- Keys from others (to-device events), device list changes and one-time key counts arrive in
  appservice transactions (MSC2409/MSC3202, see bridge/appservice.py), not through /sync.
- ``decrypt(event)`` gives the decrypted event with the encrypted event's id, room and sender;
  ``encrypt(room_id, type, content)`` gives ``m.room.encrypted`` content, sharing the room's
  Megolm session first with every member's devices (not the puppets': they have none).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

from mautrix.client import Client
from mautrix.crypto import InboundGroupSession, OlmMachine
from mautrix.errors import EncryptionError
from mautrix.types import (
    DeviceIdentity,
    DeviceLists,
    DeviceOTKCount,
    EncryptedEvent,
    EncryptedMegolmEventContent,
    Event,
    EventType,
    LoginType,
    Membership,
    RequestedKeyInfo,
    RoomID,
    SessionID,
    StateEvent,
    UserID,
)
from olm.account import OlmAccountError

from ..db import Database

log = logging.getLogger("bridge.e2ee")

DEVICE_NAME = "QQ bridge"


PICKLE_KEY_PURPOSE = "qq-bridge e2ee pickle key"


class BridgeOlmMachine(OlmMachine):
    """mautrix's OlmMachine without the per-message write of ratchet bookkeeping.

    After each decryption mautrix records which message indices of the sender's session it
    has seen and saves the whole session again (crypto/decrypt_megolm.py, _ratchet_session),
    a database write per message. That record only serves two options the bridge leaves off
    (``ratchet_keys_on_decrypt``, ``delete_fully_used_keys_on_decrypt``: forgetting keys once
    used, which would also lose the key an edit or a late replay needs); replays are still
    refused by the message index record (``validate_message_index``)."""

    async def _ratchet_session(self, sess: InboundGroupSession, index: int) -> None:
        if self.ratchet_keys_on_decrypt or self.delete_fully_used_keys_on_decrypt:
            await super()._ratchet_session(sess, index)


class Encryption:
    """``enc = Encryption(db, homeserver_url, bot_mxid, as_token, pickle_key, is_ghost)``, then
    ``await enc.start()``.

    ``pickle_key`` encrypts the stored account and sessions (libolm's pickles); the bridge
    derives it from the key file of its stored logins (security/vault.py), so a copy of the
    database without that file holds no usable key.
    """

    def __init__(
        self,
        db: Database,
        homeserver: str,
        bot_mxid: str,
        as_token: str,
        pickle_key: str,
        is_ghost: Any,
    ) -> None:
        self.db = db
        self._as_token = as_token
        self._is_ghost = is_ghost
        self.store = db.crypto_store(bot_mxid, pickle_key)
        self.client = Client(
            mxid=UserID(bot_mxid),
            base_url=homeserver,
            state_store=db.state_store,
            default_retry_count=1,
        )
        self.machine = BridgeOlmMachine(
            self.client, self.store, db.state_store, log=cast(Any, log.getChild("olm"))
        )
        # Room keys go to users' devices through the homeserver; no one gets keys on request.
        self.machine.allow_key_share = self._refuse_key_share
        self._sharing: dict[RoomID, asyncio.Lock] = {}

    @property
    def device_id(self) -> str:
        return str(self.client.device_id)

    async def start(self) -> None:
        """Log the bot's device in (the same device as before, if there was one) and make sure
        its keys are on the homeserver."""
        try:
            device_id = await self.store.get_device_id()
            await self.machine.load()
        except OlmAccountError as error:  # a pickle under another key: a new key file
            log.warning(
                "The stored encryption device is unreadable (%s); making a new one",
                type(error).__name__,
            )
            await self.store.delete()
            device_id = None
            await self.machine.load()
        self.client.api.token = self._as_token
        await self.client.login(
            login_type=LoginType.APPSERVICE,
            identifier=self.client.mxid,
            device_name=DEVICE_NAME,
            device_id=device_id or None,
            store_access_token=True,
        )
        if not device_id:
            await self.store.put_device_id(self.client.device_id)
            log.info("The bridge bot's encryption device is %s", self.client.device_id)
        assert self.machine.account is not None
        if not self.machine.account.shared:
            await self.machine.share_keys()
        # Afterwards the homeserver's one-time key counts (in transactions) say when to upload
        # more.

    async def stop(self) -> None:
        await self.client.api.session.close()

    # --- from appservice transactions ------------------------------------------------------

    async def to_device(self, event: Any) -> None:
        await self.machine.handle_as_to_device_event(event)

    async def device_lists(self, lists: DeviceLists) -> None:
        # In the background, as mautrix does: it asks the homeserver for the changed users'
        # keys, which must not hold up the transaction (nor fail it when the query fails).
        await self.machine.handle_as_device_lists(lists)

    async def otk_counts(self, counts: dict[UserID, dict[Any, DeviceOTKCount]]) -> None:
        await self.machine.handle_as_otk_counts(counts)

    async def member_changed(self, event: StateEvent) -> None:
        """A real member joined or left an encrypted room: the next message needs a new
        Megolm session. Puppets come and go without one."""
        if not self._is_ghost(event.state_key):
            await self.machine.handle_member_event(event)

    # --- events ---------------------------------------------------------------------------

    async def decrypt(self, event: EncryptedEvent) -> Event:
        """The decrypted event (same event id); raises SessionNotFound if the key is not
        here yet, DecryptionError if it cannot be decrypted at all."""
        return await self.machine.decrypt_megolm_event(event)

    async def wait_for_key(self, event: EncryptedEvent, timeout: float) -> bool:
        """True once the event's room key is here (at once if it already is)."""
        content = event.content
        assert isinstance(content, EncryptedMegolmEventContent)
        session_id = SessionID(content.session_id)
        # mautrix's wait only hears of keys that come after it starts: start it, then look in
        # the store, so that a key stored just before (say, between a restart's first
        # transaction and the waits taken up again) counts too.
        waiting = asyncio.ensure_future(
            self.machine.wait_for_session(event.room_id, session_id, timeout=timeout)
        )
        await asyncio.sleep(0)
        if await self.store.has_group_session(event.room_id, session_id):
            waiting.cancel()
            return True
        return await waiting

    async def encrypt(
        self, room_id: RoomID, event_type: EventType, content: Any
    ) -> EncryptedMegolmEventContent:
        try:
            return await self.machine.encrypt_megolm_event(room_id, event_type, content)
        except EncryptionError:
            # No session yet, or it expired: share a new one with the room's people, once even
            # when several messages for the room arrive together.
            lock = self._sharing.setdefault(room_id, asyncio.Lock())
            async with lock:
                if not await self._session_usable(room_id):
                    await self.machine.share_group_session(room_id, await self._people(room_id))
            return await self.machine.encrypt_megolm_event(room_id, event_type, content)

    async def _session_usable(self, room_id: RoomID) -> bool:
        session = await self.store.get_outbound_group_session(room_id)
        return session is not None and session.shared and not session.expired

    async def _people(self, room_id: RoomID) -> list[UserID]:
        """The room's real members. The bridge sees a room's events only from when one of its
        users joined, so the first time the joined members come from the homeserver (which
        stores them in the state store; later changes arrive as events)."""
        if not await self.db.state_store.has_full_member_list(room_id):
            await self.client.get_joined_members(room_id)
        members = await self.db.state_store.get_member_profiles(
            room_id, memberships=(Membership.JOIN, Membership.INVITE)
        )
        return [user for user in members if not self._is_ghost(user)]

    async def _refuse_key_share(self, device: DeviceIdentity, request: RequestedKeyInfo) -> bool:
        return False
