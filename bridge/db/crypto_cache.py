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

from typing import Any, Generic, TypeVar, cast

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

K = TypeVar("K")
V = TypeVar("V")
MISSING: Any = object()


class Copies(Generic[K, V]):
    """Bounded copies of one kind of row, and a count of the changes begun to that kind.

    ``version = copies.changing(key)`` before a write (or ``changing()`` before one that
    reaches rows it cannot name), ``copies.keep(key, value, version)`` after it, and after a
    read that started at ``copies.version``: a copy is kept only if no change began meanwhile,
    so a slow read or write never puts back what a newer change replaced or removed."""

    def __init__(self, size: int) -> None:
        self._copies: LRUCache[K, V] = LRUCache(size)
        self.version = 0

    def get(self, key: K) -> V:
        """The copy, or MISSING."""
        return cast(V, self._copies.get(key, MISSING))

    def changing(self, key: K | None = None) -> int:
        self.version += 1
        if key is None:
            self._copies.clear()
        else:
            self._copies.pop(key, None)
        return self.version

    def keep(self, key: K, value: V, version: int) -> None:
        if version == self.version:
            self._copies[key] = value


class CachedCryptoStore(SQLCryptoStore):
    """SQLCryptoStore, with the reads of every message answered from memory once read."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._inbound: Copies[SessionID, InboundGroupSession | None] = Copies(INBOUND_SESSIONS)
        self._outbound: Copies[RoomID, OutboundGroupSession | None] = Copies(ROOMS)
        self._devices: Copies[UserID, dict[DeviceID, DeviceIdentity] | None] = Copies(USERS)
        self._cross_signing: Copies[UserID, dict[CrossSigningUsage, TOFUSigningKey]] = Copies(USERS)

    async def delete(self) -> None:
        for copies in (self._inbound, self._outbound, self._devices, self._cross_signing):
            copies.changing()
        await super().delete()

    # --- inbound Megolm sessions: read for every message from Matrix ---------------------

    async def get_group_session(
        self, room_id: RoomID, session_id: SessionID
    ) -> InboundGroupSession | None:
        session = self._inbound.get(session_id)
        if session is not MISSING and session is not None and session.room_id == room_id:
            return session
        version = self._inbound.version
        session = await super().get_group_session(room_id, session_id)
        if session is not None:  # a miss is not kept: the key may come any moment
            self._inbound.keep(session_id, session, version)
        return session

    async def put_group_session(
        self,
        room_id: RoomID,
        sender_key: IdentityKey,
        session_id: SessionID,
        session: InboundGroupSession,
    ) -> None:
        version = self._inbound.changing(session_id)
        await super().put_group_session(room_id, sender_key, session_id, session)
        self._inbound.keep(session_id, session, version)

    async def _redact(self, reason: str, *conditions: Any) -> list[SessionID]:
        # Which sessions a redaction reaches is the database's to say: forget them all.
        self._inbound.changing()
        return await super()._redact(reason, *conditions)

    # --- outbound Megolm sessions: read and saved for every message to Matrix ------------

    async def get_outbound_group_session(self, room_id: RoomID) -> OutboundGroupSession | None:
        session = self._outbound.get(room_id)
        if session is not MISSING:
            return session
        version = self._outbound.version
        session = await super().get_outbound_group_session(room_id)
        self._outbound.keep(room_id, session, version)
        return session

    async def add_outbound_group_session(self, session: OutboundGroupSession) -> None:
        version = self._outbound.changing(session.room_id)
        await super().add_outbound_group_session(session)
        self._outbound.keep(session.room_id, session, version)

    async def update_outbound_group_session(self, session: OutboundGroupSession) -> None:
        version = self._outbound.changing(session.room_id)
        await super().update_outbound_group_session(session)
        self._outbound.keep(session.room_id, session, version)

    async def remove_outbound_group_sessions(self, rooms: list[RoomID]) -> None:
        for room_id in rooms:
            self._outbound.changing(room_id)
        await super().remove_outbound_group_sessions(rooms)

    # --- devices and cross-signing keys: read to judge every sender ----------------------

    async def get_devices(self, user_id: UserID) -> dict[DeviceID, DeviceIdentity] | None:
        devices = self._devices.get(user_id)
        if devices is MISSING:
            version = self._devices.version
            devices = await super().get_devices(user_id)
            self._devices.keep(user_id, devices, version)
        # A copy: what the caller changes is not the database's until put_devices.
        return dict(devices) if devices is not None else None

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
        version = self._devices.changing(user_id)
        await super().put_devices(user_id, devices)
        self._devices.keep(user_id, dict(devices), version)

    async def get_cross_signing_keys(
        self, user_id: UserID
    ) -> dict[CrossSigningUsage, TOFUSigningKey]:
        keys = self._cross_signing.get(user_id)
        if keys is MISSING:
            version = self._cross_signing.version
            keys = await super().get_cross_signing_keys(user_id)
            self._cross_signing.keep(user_id, keys, version)
        return dict(keys)

    async def put_cross_signing_key(
        self, user_id: UserID, usage: CrossSigningUsage, key: SigningKey
    ) -> None:
        # The stored first-seen key is the database's to keep: read it again next time.
        self._cross_signing.changing(user_id)
        await super().put_cross_signing_key(user_id, usage, key)
