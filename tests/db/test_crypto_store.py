"""The bot device's crypto store: what mautrix's OlmMachine saves comes back, on both databases.

Each check reads through a second store object, so nothing is answered from the first one's
memory: the database holds it all.
"""

from __future__ import annotations

import pytest
from mautrix.crypto import InboundGroupSession, OlmAccount, OutboundGroupSession
from mautrix.errors import GroupSessionWithheldError
from mautrix.types import (
    CrossSigner,
    CrossSigningUsage,
    DeviceID,
    DeviceIdentity,
    EventID,
    IdentityKey,
    RoomID,
    SessionID,
    SigningKey,
    TrustState,
    UserID,
)
from olm.account import OlmAccountError

from bridge.db import Database
from bridge.db.crypto_store import SQLCryptoStore

BOT = "@bot:example.org"
ROOM = RoomID("!room:example.org")
ALICE = UserID("@alice:example.org")


def stores(database: Database, key: str = "pickle key") -> tuple[SQLCryptoStore, SQLCryptoStore]:
    """Two stores on one database, without the bridge's in-memory copies (crypto_cache.py,
    tested apart): what one writes, the other must read from the database."""

    def store() -> SQLCryptoStore:
        return SQLCryptoStore(database._sessions, database._dialect, account_id=BOT, pickle_key=key)

    return store(), store()


async def test_the_account_and_device_id_survive(database: Database) -> None:
    first, second = stores(database)
    account = OlmAccount()
    await first.put_account(account)
    await first.put_device_id(DeviceID("BOTDEVICE"))
    account.shared = True
    await first.put_account(account)

    loaded = await second.get_account()
    assert loaded is not None and loaded.shared
    assert loaded.identity_key == account.identity_key
    assert await second.get_device_id() == "BOTDEVICE"

    await second.delete()
    third = database.crypto_store(BOT, "pickle key")
    assert await third.get_account() is None and await third.get_device_id() is None


async def test_a_pickle_under_another_key_is_refused(database: Database) -> None:
    first, _ = stores(database)
    await first.put_account(OlmAccount())
    with pytest.raises(OlmAccountError, match="BAD_ACCOUNT_KEY"):
        await database.crypto_store(BOT, "another key").get_account()


async def test_olm_sessions_are_kept_and_updated(database: Database) -> None:
    first, second = stores(database)
    ours, theirs = OlmAccount(), OlmAccount()
    theirs.generate_one_time_keys(1)
    one_time_key = IdentityKey(next(iter(theirs.one_time_keys["curve25519"].values())))
    session = ours.new_outbound_session(theirs.identity_key, one_time_key)
    key = theirs.identity_key

    assert not await second.has_session(key)
    await first.add_session(key, session)
    session.encrypt("hello")  # the ratchet moves on; mautrix saves it back
    await first.update_session(key, session)

    [loaded] = await second.get_sessions(key)
    assert loaded.id == session.id
    assert loaded.pickle("k") != b"" and await second.has_session(key)
    latest = await second.get_latest_session(key)
    assert latest is not None and latest.id == session.id


async def test_inbound_group_sessions_decrypt_and_can_be_redacted(database: Database) -> None:
    first, second = stores(database)
    sender = OlmAccount()
    outbound = OutboundGroupSession(ROOM)
    outbound.shared = True
    inbound = InboundGroupSession(
        outbound.session_key, sender.signing_key, sender.identity_key, ROOM
    )
    ciphertext = outbound.encrypt("secret text")  # type: ignore[no-untyped-call]
    session_id = SessionID(inbound.id)
    await first.put_group_session(ROOM, sender.identity_key, session_id, inbound)

    assert await second.has_group_session(ROOM, session_id)
    loaded = await second.get_group_session(ROOM, session_id)
    assert loaded is not None
    assert loaded.decrypt(ciphertext)[0] == "secret text"
    assert loaded.sender_key == sender.identity_key
    assert await second.get_group_session(RoomID("!other:example.org"), session_id) is None

    redacted = await second.redact_group_sessions(ROOM, IdentityKey(""), "test")
    assert redacted == [session_id]
    assert not await first.has_group_session(ROOM, session_id)
    with pytest.raises(GroupSessionWithheldError):
        await first.get_group_session(ROOM, session_id)


async def test_outbound_group_sessions(database: Database) -> None:
    first, second = stores(database)
    session = OutboundGroupSession(ROOM)
    await first.add_outbound_group_session(session)
    session.shared = True
    session.encrypt("one")  # type: ignore[no-untyped-call]
    await first.update_outbound_group_session(session)

    loaded = await second.get_outbound_group_session(ROOM)
    assert loaded is not None
    assert (loaded.id, loaded.shared, loaded.message_count) == (session.id, True, 1)

    replacement = OutboundGroupSession(ROOM)
    await second.add_outbound_group_session(replacement)
    again = await first.get_outbound_group_session(ROOM)
    assert again is not None and again.id == replacement.id
    await first.remove_outbound_group_session(ROOM)
    assert await second.get_outbound_group_session(ROOM) is None


async def test_a_message_index_belongs_to_one_event(database: Database) -> None:
    first, second = stores(database)
    args = (IdentityKey("sender"), SessionID("session"))
    assert await first.validate_message_index(*args, EventID("$a"), 0, 100)
    assert await second.validate_message_index(*args, EventID("$a"), 0, 100)  # a replay
    assert not await second.validate_message_index(*args, EventID("$b"), 0, 200)
    assert await second.validate_message_index(*args, EventID("$b"), 1, 200)


async def test_devices_and_tracked_users(database: Database) -> None:
    first, second = stores(database)
    assert await second.get_devices(ALICE) is None
    device = DeviceIdentity(
        user_id=ALICE,
        device_id=DeviceID("PHONE"),
        identity_key=IdentityKey("curve"),
        signing_key=SigningKey("ed"),
        trust=TrustState.UNVERIFIED,
        deleted=False,
        name="Alice's phone",
    )
    await first.put_devices(ALICE, {DeviceID("PHONE"): device})
    assert await second.get_devices(ALICE) == {DeviceID("PHONE"): device}
    assert await second.get_device(ALICE, DeviceID("PHONE")) == device
    assert await second.find_device_by_key(ALICE, IdentityKey("curve")) == device
    assert await second.filter_tracked_users([ALICE, UserID("@bob:example.org")]) == [ALICE]
    await first.put_devices(ALICE, {})
    assert await second.get_devices(ALICE) == {}


async def test_cross_signing_keys_and_signatures(database: Database) -> None:
    first, second = stores(database)
    await first.put_cross_signing_key(ALICE, CrossSigningUsage.MASTER, SigningKey("k1"))
    await first.put_cross_signing_key(ALICE, CrossSigningUsage.MASTER, SigningKey("k2"))
    keys = await second.get_cross_signing_keys(ALICE)
    assert (keys[CrossSigningUsage.MASTER].key, keys[CrossSigningUsage.MASTER].first) == (
        "k2",
        "k1",
    )
    target, signer = CrossSigner(ALICE, SigningKey("dev")), CrossSigner(ALICE, SigningKey("k2"))
    await first.put_signature(target, signer, "sig")
    assert await second.is_key_signed_by(target, signer)
    assert await second.drop_signatures_by_key(signer) == 1
    assert not await first.is_key_signed_by(target, signer)
