"""The crypto store's in-memory copies (bridge/db/crypto_cache.py): the database stays the truth.

On SQLite and PostgreSQL (tests/db/conftest.py). A copy is made by a read and set by a write
that committed; a write that fails leaves the copy unset, so the next read is the database's.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from mautrix.crypto import InboundGroupSession, OlmAccount, OutboundGroupSession
from mautrix.errors import GroupSessionWithheldError
from mautrix.types import (
    DeviceID,
    DeviceIdentity,
    IdentityKey,
    RoomID,
    SessionID,
    SigningKey,
    TrustState,
    UserID,
)

from bridge.db import Database
from bridge.db.crypto_cache import CachedCryptoStore
from bridge.db.crypto_store import SQLCryptoStore

BOT = "@qqbot:example.org"
ALICE = UserID("@alice:example.org")
ROOM = RoomID("!portal:example.org")


def cached(database: Database) -> CachedCryptoStore:
    store = database.crypto_store(BOT, "pickle key")
    assert isinstance(store, CachedCryptoStore)
    return store


async def test_a_failed_save_of_an_outbound_session_is_not_kept(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """libolm advances the session in place; if saving it fails, the next message must use
    the saved session, not the advanced one (its index was never sent)."""
    store = cached(database)
    session = OutboundGroupSession(ROOM)
    session.shared = True
    await store.add_outbound_group_session(session)
    assert (await store.get_outbound_group_session(ROOM)) is session  # from memory

    session.encrypt("not sent")  # type: ignore[no-untyped-call]

    async def fail(self: SQLCryptoStore, session: OutboundGroupSession) -> None:
        raise OSError("database gone")

    monkeypatch.setattr(SQLCryptoStore, "update_outbound_group_session", fail)
    with pytest.raises(OSError):
        await store.update_outbound_group_session(session)
    monkeypatch.undo()
    saved = await store.get_outbound_group_session(ROOM)
    assert saved is not None and saved is not session
    assert saved.message_count == 0


async def test_a_redaction_reaches_a_session_read_before(database: Database) -> None:
    store = cached(database)
    sender = OlmAccount()
    outbound = OutboundGroupSession(ROOM)
    inbound = InboundGroupSession(
        outbound.session_key, sender.signing_key, sender.identity_key, ROOM
    )
    session_id = SessionID(inbound.id)
    await store.put_group_session(ROOM, sender.identity_key, session_id, inbound)
    assert await store.get_group_session(ROOM, session_id) is inbound
    await store.redact_group_sessions(ROOM, IdentityKey(""), "test")
    with pytest.raises(GroupSessionWithheldError):
        await store.get_group_session(ROOM, session_id)


async def test_devices_are_handed_out_as_copies(database: Database) -> None:
    store = cached(database)
    device = DeviceIdentity(
        user_id=ALICE,
        device_id=DeviceID("PHONE"),
        identity_key=IdentityKey("curve"),
        signing_key=SigningKey("ed"),
        trust=TrustState.UNVERIFIED,
        deleted=False,
        name="phone",
    )
    await store.put_devices(ALICE, {DeviceID("PHONE"): device})
    devices = await store.get_devices(ALICE)
    assert devices == {DeviceID("PHONE"): device}
    devices.clear()  # the caller's change is not the store's
    assert await store.get_devices(ALICE) == {DeviceID("PHONE"): device}
    assert await store.find_device_by_key(ALICE, IdentityKey("curve")) == device
    assert await store.find_device_by_key(ALICE, IdentityKey("other")) is None
    assert await store.get_device(ALICE, DeviceID("PHONE")) == device
    assert await store.get_devices(UserID("@bob:example.org")) is None


async def test_a_removal_during_a_save_is_not_undone(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """mautrix removes a room's outbound session when a member leaves, while a message's save
    may be waiting for the database: the save must not put the removed session back."""
    store = cached(database)
    session = OutboundGroupSession(ROOM)
    session.shared = True
    await store.add_outbound_group_session(session)
    save = SQLCryptoStore.update_outbound_group_session
    go, waiting = asyncio.Event(), asyncio.Event()

    async def slow_save(self: SQLCryptoStore, session: OutboundGroupSession) -> None:
        waiting.set()
        await go.wait()
        await save(self, session)

    monkeypatch.setattr(SQLCryptoStore, "update_outbound_group_session", slow_save)
    session.encrypt("hello")  # type: ignore[no-untyped-call]
    saving = asyncio.create_task(store.update_outbound_group_session(session))
    await waiting.wait()  # the save is waiting for the database
    await store.remove_outbound_group_session(ROOM)
    go.set()
    await saving
    assert await store.get_outbound_group_session(ROOM) is None


async def test_a_slow_read_does_not_undo_a_newer_device_list(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = cached(database)
    phone, laptop = device("PHONE"), device("LAPTOP")
    await store.put_devices(ALICE, {DeviceID("PHONE"): phone})
    store._devices.changing()  # as after a start: nothing in memory yet
    read = SQLCryptoStore.get_devices
    go, answered = asyncio.Event(), asyncio.Event()

    async def slow_read(self: SQLCryptoStore, user_id: UserID) -> Any:
        devices = await read(self, user_id)
        answered.set()
        await go.wait()
        return devices

    monkeypatch.setattr(SQLCryptoStore, "get_devices", slow_read)
    reading = asyncio.create_task(store.get_devices(ALICE))
    await answered.wait()  # the read has its (old) answer and waits
    await store.put_devices(ALICE, {DeviceID("PHONE"): phone, DeviceID("LAPTOP"): laptop})
    go.set()
    await reading
    monkeypatch.undo()
    assert set(await store.get_devices(ALICE) or {}) == {"PHONE", "LAPTOP"}


def device(name: str) -> DeviceIdentity:
    return DeviceIdentity(
        user_id=ALICE,
        device_id=DeviceID(name),
        identity_key=IdentityKey(name),
        signing_key=SigningKey(name),
        trust=TrustState.UNVERIFIED,
        deleted=False,
        name=name,
    )
