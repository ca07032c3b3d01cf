"""The crypto store's in-memory copies (bridge/db/crypto_cache.py): the database stays the truth.

On SQLite and PostgreSQL (tests/db/conftest.py). A copy is made by a read and set by a write
that committed; a write that fails leaves the copy unset, so the next read is the database's.
"""

from __future__ import annotations

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
