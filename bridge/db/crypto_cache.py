"""The crypto store with what every encrypted message reads kept in memory.

Each encrypted message in or out reads the same few rows: the sender's inbound Megolm session,
the room's outbound session, the sender's devices and cross-signing keys. Read from the
database and unpickled every time, they cost the bridge several milliseconds of CPU per
message (bench/e2ee_cpu.py); kept here, none. The database stays the truth: a read fills the
copy, a write forgets the copy before it writes and sets it only once the write committed, so a
write that fails leaves nothing in memory that the database does not hold (an outbound session
that libolm advanced in place but that could not be saved is read again, unadvanced).

Every copy is bounded (least recently used out first) so that a bridge with many rooms and
people keeps a few MiB here at most.
"""

from __future__ import annotations

from typing import Any

from cachetools import LRUCache
from mautrix.crypto import InboundGroupSession, OutboundGroupSession
from mautrix.types import (
    CrossSigningUsage,
    DeviceID,
    DeviceIdentity,
    IdentityKey,
    RoomID,
    SessionID,
    SigningKey,
    TOFUSigningKey,
    UserID,
)

from .crypto_store import SQLCryptoStore

# Entries kept of each kind: sessions are a few KiB pickled, device lists and keys less.
INBOUND_SESSIONS = 2048
ROOMS = 2048
USERS = 2048


class CachedCryptoStore(SQLCryptoStore):
    """SQLCryptoStore, with the reads of every message answered from memory once read."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._inbound: LRUCache[SessionID, InboundGroupSession] = LRUCache(INBOUND_SESSIONS)
        self._outbound: LRUCache[RoomID, OutboundGroupSession | None] = LRUCache(ROOMS)
        self._devices: LRUCache[UserID, dict[DeviceID, DeviceIdentity] | None] = LRUCache(USERS)
        self._cross_signing: LRUCache[UserID, dict[CrossSigningUsage, TOFUSigningKey]] = LRUCache(
            USERS
        )

    async def delete(self) -> None:
        for cache in (self._inbound, self._outbound, self._devices, self._cross_signing):
            cache.clear()
        await super().delete()

    # --- inbound Megolm sessions: read for every message from Matrix ---------------------

    async def get_group_session(
        self, room_id: RoomID, session_id: SessionID
    ) -> InboundGroupSession | None:
        session = self._inbound.get(session_id)
        if session is not None and session.room_id == room_id:
            return session
        session = await super().get_group_session(room_id, session_id)
        if session is not None:
            self._inbound[session_id] = session
        return session

    async def put_group_session(
        self,
        room_id: RoomID,
        sender_key: IdentityKey,
        session_id: SessionID,
        session: InboundGroupSession,
    ) -> None:
        self._inbound.pop(session_id, None)
        await super().put_group_session(room_id, sender_key, session_id, session)
        self._inbound[session_id] = session

    async def _redact(self, reason: str, *conditions: Any) -> list[SessionID]:
        # Which sessions a redaction reaches is the database's to say: forget them all.
        self._inbound.clear()
        return await super()._redact(reason, *conditions)

    # --- outbound Megolm sessions: read and saved for every message to Matrix ------------

    async def get_outbound_group_session(self, room_id: RoomID) -> OutboundGroupSession | None:
        if room_id in self._outbound:
            return self._outbound[room_id]
        session = await super().get_outbound_group_session(room_id)
        self._outbound[room_id] = session
        return session

    async def add_outbound_group_session(self, session: OutboundGroupSession) -> None:
        self._outbound.pop(session.room_id, None)
        await super().add_outbound_group_session(session)
        self._outbound[session.room_id] = session

    async def update_outbound_group_session(self, session: OutboundGroupSession) -> None:
        self._outbound.pop(session.room_id, None)
        await super().update_outbound_group_session(session)
        self._outbound[session.room_id] = session

    async def remove_outbound_group_sessions(self, rooms: list[RoomID]) -> None:
        for room_id in rooms:
            self._outbound.pop(room_id, None)
        await super().remove_outbound_group_sessions(rooms)

    # --- devices and cross-signing keys: read to judge every sender ----------------------

    async def get_devices(self, user_id: UserID) -> dict[DeviceID, DeviceIdentity] | None:
        if user_id in self._devices:
            cached = self._devices[user_id]
        else:
            cached = self._devices[user_id] = await super().get_devices(user_id)
        # A copy: what the caller changes is not the database's until put_devices.
        return dict(cached) if cached is not None else None

    async def get_device(self, user_id: UserID, device_id: DeviceID) -> DeviceIdentity | None:
        devices = await self.get_devices(user_id)
        return devices.get(device_id) if devices else None

    async def find_device_by_key(
        self, user_id: UserID, identity_key: IdentityKey
    ) -> DeviceIdentity | None:
        devices = await self.get_devices(user_id)
        return next(
            (device for device in (devices or {}).values() if device.identity_key == identity_key),
            None,
        )

    async def put_devices(self, user_id: UserID, devices: dict[DeviceID, DeviceIdentity]) -> None:
        self._devices.pop(user_id, None)
        await super().put_devices(user_id, devices)
        self._devices[user_id] = dict(devices)

    async def get_cross_signing_keys(
        self, user_id: UserID
    ) -> dict[CrossSigningUsage, TOFUSigningKey]:
        if user_id not in self._cross_signing:
            self._cross_signing[user_id] = await super().get_cross_signing_keys(user_id)
        return dict(self._cross_signing[user_id])

    async def put_cross_signing_key(
        self, user_id: UserID, usage: CrossSigningUsage, key: SigningKey
    ) -> None:
        # The stored first-seen key is the database's to keep: read it again next time.
        self._cross_signing.pop(user_id, None)
        await super().put_cross_signing_key(user_id, usage, key)
