"""Every method of the SQL state store, against the behaviour of mautrix's memory store."""

from __future__ import annotations

import asyncio
from typing import cast

import pytest
from mautrix.appservice.state_store import ASStateStore
from mautrix.types import (
    JSON,
    ContentURI,
    EncryptionAlgorithm,
    EventType,
    Member,
    Membership,
    MemberStateEventContent,
    PowerLevelStateEventContent,
    RoomCreateStateEventContent,
    RoomEncryptionStateEventContent,
    RoomID,
    StateEvent,
    UserID,
)

from bridge.db import Database, SQLStateStore

ROOM = RoomID("!room:example.org")
OTHER_ROOM = RoomID("!other:example.org")
BOT = UserID("@qqbot:example.org")
PUPPET = UserID("@qq_10002:example.org")
ALICE = UserID("@alice:example.org")
BOB = UserID("@bob:example.org")


@pytest.fixture
def store(database: Database) -> SQLStateStore:
    return database.state_store


def test_it_is_an_appservice_state_store(store: SQLStateStore) -> None:
    # AppService(state_store=...) accepts only ASStateStore instances.
    assert isinstance(store, ASStateStore)


async def test_registration(store: SQLStateStore) -> None:
    assert not await store.is_registered(PUPPET)
    await store.registered(PUPPET)
    await store.registered(PUPPET)  # twice is fine
    assert await store.is_registered(PUPPET)
    assert not await store.is_registered(BOT)
    with pytest.raises(ValueError):
        await store.is_registered(UserID(""))
    with pytest.raises(ValueError):
        await store.registered(UserID(""))


async def test_member_profiles_and_membership(store: SQLStateStore) -> None:
    assert await store.get_member(ROOM, ALICE) is None
    assert await store.get_membership(ROOM, ALICE) == Membership.LEAVE

    await store.set_member(
        ROOM,
        ALICE,
        MemberStateEventContent(
            membership=Membership.JOIN, displayname="Alice", avatar_url=ContentURI("mxc://hs/alice")
        ),
    )
    assert await store.get_member(ROOM, ALICE) == Member(
        membership=Membership.JOIN, displayname="Alice", avatar_url=ContentURI("mxc://hs/alice")
    )
    assert await store.is_joined(ROOM, ALICE)
    assert not await store.is_joined(OTHER_ROOM, ALICE)

    # A membership change keeps the profile, as the memory store does.
    await store.set_membership(ROOM, ALICE, Membership.LEAVE)
    assert await store.get_member(ROOM, ALICE) == Member(
        membership=Membership.LEAVE, displayname="Alice", avatar_url=ContentURI("mxc://hs/alice")
    )
    await store.set_member(ROOM, ALICE, Member(membership=Membership.JOIN))
    assert await store.get_member(ROOM, ALICE) == Member(membership=Membership.JOIN)

    await store.invited(ROOM, BOB)
    assert await store.get_membership(ROOM, BOB) == Membership.INVITE
    await store.joined(ROOM, BOB)
    assert await store.get_membership(ROOM, BOB) == Membership.JOIN
    await store.left(ROOM, BOB)
    assert await store.get_membership(ROOM, BOB) == Membership.LEAVE


async def test_member_lists(store: SQLStateStore) -> None:
    await store.set_member(ROOM, ALICE, Member(membership=Membership.JOIN, displayname="A"))
    await store.set_membership(ROOM, BOB, Membership.INVITE)
    await store.set_membership(ROOM, PUPPET, Membership.JOIN)
    await store.set_membership(ROOM, BOT, Membership.LEAVE)
    await store.set_membership(OTHER_ROOM, BOT, Membership.JOIN)

    assert await store.get_member_profiles(ROOM) == {
        ALICE: Member(membership=Membership.JOIN, displayname="A"),
        BOB: Member(membership=Membership.INVITE),
        PUPPET: Member(membership=Membership.JOIN),
    }
    assert sorted(await store.get_members(ROOM, (Membership.JOIN,))) == [ALICE, PUPPET]
    assert await store.get_members(ROOM, (Membership.LEAVE,)) == [BOT]
    filtered = await store.get_members_filtered(ROOM, "@qq_", ":example.org", BOB)
    assert filtered == [ALICE]
    assert await store.get_members(RoomID("!empty:hs")) == []


async def test_set_members_replaces_the_list(store: SQLStateStore) -> None:
    await store.set_membership(ROOM, BOT, Membership.JOIN)
    assert not await store.has_full_member_list(ROOM)

    await store.set_members(
        ROOM,
        {
            ALICE: MemberStateEventContent(membership=Membership.JOIN, displayname="Alice"),
            BOB: Member(membership=Membership.INVITE),
        },
    )
    assert await store.has_full_member_list(ROOM)
    assert await store.get_member_profiles(ROOM) == {
        ALICE: Member(membership=Membership.JOIN, displayname="Alice"),
        BOB: Member(membership=Membership.INVITE),
    }
    assert not await store.has_full_member_list(OTHER_ROOM)


async def test_set_members_of_one_membership_keeps_the_others(store: SQLStateStore) -> None:
    await store.set_membership(ROOM, ALICE, Membership.JOIN)
    await store.set_membership(ROOM, BOB, Membership.INVITE)
    await store.set_membership(ROOM, BOT, Membership.INVITE)

    # A fresh list of the invited: BOT's invite is gone, ALICE accepted hers, BOB is re-listed.
    await store.set_members(
        ROOM,
        {BOB: Member(membership=Membership.INVITE), PUPPET: Member(membership=Membership.INVITE)},
        only_membership=Membership.INVITE,
    )
    assert await store.get_member_profiles(ROOM, tuple(Membership)) == {
        ALICE: Member(membership=Membership.JOIN),
        BOB: Member(membership=Membership.INVITE),
        PUPPET: Member(membership=Membership.INVITE),
    }
    # Knowing everyone invited says nothing about everyone joined.
    assert not await store.has_full_member_list(ROOM)

    await store.set_members(
        ROOM, {ALICE: Member(membership=Membership.JOIN)}, only_membership=Membership.JOIN
    )
    assert await store.has_full_member_list(ROOM)


async def test_power_levels(store: SQLStateStore) -> None:
    assert not await store.has_power_levels_cached(ROOM)
    assert await store.get_power_levels(ROOM) is None
    assert await store.has_power_level(ROOM, BOT, EventType.ROOM_MESSAGE) is None

    levels = PowerLevelStateEventContent(users={BOT: 100}, events={EventType.ROOM_NAME: 50})
    await store.set_power_levels(ROOM, levels)
    assert await store.has_power_levels_cached(ROOM)
    stored = await store.get_power_levels(ROOM)
    assert stored is not None
    assert stored.serialize() == levels.serialize()
    assert await store.has_power_level(ROOM, BOT, EventType.ROOM_NAME)
    assert not await store.has_power_level(ROOM, ALICE, EventType.ROOM_NAME)
    assert not await store.has_power_levels_cached(OTHER_ROOM)

    # Raw dicts are accepted too, as by mautrix's own stores.
    await store.set_power_levels(ROOM, {"users": {ALICE: 50}, "users_default": 0})
    stored = await store.get_power_levels(ROOM)
    assert stored is not None
    assert stored.get_user_level(ALICE) == 50
    assert stored.get_user_level(BOT) == 0


async def test_power_levels_and_members_share_the_room_row(store: SQLStateStore) -> None:
    await store.set_members(ROOM, {ALICE: Member(membership=Membership.JOIN)})
    await store.set_power_levels(ROOM, PowerLevelStateEventContent(users={BOT: 100}))
    await store.set_encryption_info(
        ROOM, RoomEncryptionStateEventContent(algorithm=EncryptionAlgorithm.MEGOLM_V1)
    )
    assert await store.has_full_member_list(ROOM)
    assert await store.has_power_levels_cached(ROOM)
    assert await store.is_encrypted(ROOM)


async def test_create_event(store: SQLStateStore) -> None:
    assert not await store.has_create_cached(ROOM)
    assert await store.get_create(ROOM) is None
    create = {
        "type": "m.room.create",
        "room_id": ROOM,
        "event_id": "$create",
        "sender": ALICE,
        "state_key": "",
        "origin_server_ts": 1,
        "content": {"room_version": "12"},
    }
    # mautrix's JSON is a NewType over a union: plain dict literals never match it.
    await store.set_create(StateEvent.deserialize(cast(JSON, create)))
    assert await store.has_create_cached(ROOM)
    stored = await store.get_create(ROOM)
    assert stored is not None
    assert (stored.event_id, stored.sender, stored.room_id) == ("$create", ALICE, ROOM)
    assert isinstance(stored.content, RoomCreateStateEventContent)
    assert stored.content.room_version == "12"
    await store.set_create({**create, "room_id": OTHER_ROOM, "event_id": "$other"})
    other = await store.get_create(OTHER_ROOM)
    assert other is not None
    assert other.event_id == "$other"


async def test_encryption_info(store: SQLStateStore) -> None:
    assert not await store.has_encryption_info_cached(ROOM)
    assert await store.is_encrypted(ROOM) is None
    assert await store.get_encryption_info(ROOM) is None

    await store.set_power_levels(ROOM, PowerLevelStateEventContent())
    assert not await store.has_encryption_info_cached(ROOM)  # the row exists, encryption unknown

    content = RoomEncryptionStateEventContent(
        algorithm=EncryptionAlgorithm.MEGOLM_V1, rotation_period_ms=604800000
    )
    await store.set_encryption_info(ROOM, content)
    assert await store.has_encryption_info_cached(ROOM)
    assert await store.is_encrypted(ROOM) is True
    stored = await store.get_encryption_info(ROOM)
    assert stored is not None
    assert stored.algorithm == EncryptionAlgorithm.MEGOLM_V1
    assert stored.rotation_period_ms == 604800000

    await store.set_encryption_info(OTHER_ROOM, {"algorithm": "m.megolm.v1.aes-sha2"})
    assert await store.is_encrypted(OTHER_ROOM) is True


async def test_update_state_routes_events(store: SQLStateStore) -> None:
    member_event = StateEvent.deserialize(
        cast(
            JSON,
            {
                "type": "m.room.member",
                "room_id": ROOM,
                "event_id": "$join",
                "sender": ALICE,
                "state_key": ALICE,
                "origin_server_ts": 2,
                "content": {"membership": "join", "displayname": "Alice"},
            },
        ),
    )
    await store.update_state(member_event)
    assert await store.get_member(ROOM, ALICE) == Member(
        membership=Membership.JOIN, displayname="Alice"
    )
    assert member_event.unsigned is not None  # Optional in the type; deserialize always sets it
    assert member_event.unsigned["mautrix_prev_membership"] is None


async def test_close_leaves_the_database_open(database: Database) -> None:
    # AppService.stop() closes its state store; the Database still serves the bridge after that.
    await database.state_store.close()
    await database.state_store.registered(PUPPET)
    assert await database.state_store.is_registered(PUPPET)


async def test_what_it_answers_from_memory_is_what_the_database_holds(
    database: Database, store: SQLStateStore
) -> None:
    """The store keeps what it read in memory (state_cache.py): after every kind of write, a
    store opened afresh on the same database, which can only read the database, agrees."""
    levels = PowerLevelStateEventContent(users={PUPPET: 100}, events={})
    create = StateEvent.deserialize(
        cast(
            JSON,
            {
                "type": "m.room.create",
                "room_id": ROOM,
                "sender": PUPPET,
                "state_key": "",
                "event_id": "$create",
                "origin_server_ts": 1,
                "content": {"room_version": "10", "creator": PUPPET},
            },
        )
    )

    async def both_agree() -> None:
        fresh = SQLStateStore(store._sessions, database.engine.dialect.name)
        for room in (ROOM, OTHER_ROOM):
            for user in (ALICE, BOB, PUPPET):
                assert await store.get_member(room, user) == await fresh.get_member(room, user)
            assert await store.is_encrypted(room) == await fresh.is_encrypted(room)
            assert await store.has_full_member_list(room) == await fresh.has_full_member_list(room)
            ours, theirs = await store.get_power_levels(room), await fresh.get_power_levels(room)
            assert (ours and ours.serialize()) == (theirs and theirs.serialize())
            assert await store.has_create_cached(room) == await fresh.has_create_cached(room)
        assert await store.is_registered(PUPPET) == await fresh.is_registered(PUPPET)

    await both_agree()  # all read (and remembered) as unknown first
    await store.registered(PUPPET)
    await store.set_member(ROOM, ALICE, Member(membership=Membership.JOIN, displayname="Alice"))
    await store.set_membership(ROOM, BOB, Membership.INVITE)
    await both_agree()
    await store.set_membership(ROOM, ALICE, Membership.LEAVE)  # the name stays
    assert (await store.get_member(ROOM, ALICE)) == Member(
        membership=Membership.LEAVE, displayname="Alice"
    )
    await store.set_members(ROOM, {PUPPET: Member(membership=Membership.JOIN)})  # replaced
    assert await store.get_member(ROOM, BOB) is None
    await both_agree()
    await store.set_power_levels(ROOM, levels)
    await store.set_create(create)
    await store.set_encryption_info(OTHER_ROOM, {"algorithm": "m.megolm.v1.aes-sha2"})
    await store.set_unencrypted(ROOM)
    await both_agree()


async def test_a_read_overlapping_a_write_leaves_nothing_stale_in_memory(
    store: SQLStateStore,
) -> None:
    """A read may find the old row while a write commits the new one; whatever the order in
    which they finish, what the store answers afterwards is the new one."""
    for steps in range(8):
        room = RoomID(f"!race{steps}:example.org")
        await store.set_member(room, ALICE, Member(membership=Membership.INVITE))
        store._cache.forget_members(room)  # as if never read: the next read goes to the database
        reader = asyncio.create_task(store.get_member(room, ALICE))
        for _ in range(steps):
            await asyncio.sleep(0)
        await store.set_membership(room, ALICE, Membership.JOIN)
        await reader
        assert await store.get_membership(room, ALICE) == Membership.JOIN, steps
        assert await store.is_joined(room, ALICE)
