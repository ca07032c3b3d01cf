"""Users, puppets, portals and face avatars: reads, upserts and uniqueness."""

from __future__ import annotations

from typing import cast

import pytest
from sqlalchemy.exc import IntegrityError

from bridge.db import Database, LoginState, PortalKind, PortalRow, PuppetRow, UserRow

ALICE = "@alice:example.org"
BOB = "@bob:example.org"


async def test_users_are_inserted_then_updated(database: Database) -> None:
    assert await database.get_user(ALICE) is None
    await database.save_user(UserRow(ALICE))
    assert await database.get_user(ALICE) == UserRow(ALICE)

    logged_in = UserRow(
        ALICE,
        uin=3_000_000_001,  # past 2**31: QQ numbers need 64-bit columns
        password_md5="e10adc3949ba59abbe56e057f20f883e",
        management_room="!manage:example.org",
        login_state=LoginState.LOGGED_IN,
        status=30,
    )
    await database.save_user(logged_in)
    assert await database.get_user(ALICE) == logged_in
    assert await database.get_user_by_uin(3_000_000_001) == logged_in
    assert await database.get_user_by_uin(42) is None

    await database.save_user(UserRow(ALICE, uin=None, login_state=LoginState.LOGGED_OUT))
    assert await database.get_user(ALICE) == UserRow(ALICE)
    assert await database.get_user_by_uin(3_000_000_001) is None


async def test_a_status_change_touches_only_the_status(database: Database) -> None:
    row = UserRow(ALICE, uin=1, password_md5="e10adc3949ba59abbe56e057f20f883e", status=10)
    await database.save_user(row)
    await database.set_user_status(ALICE, 40)
    assert await database.get_user(ALICE) == UserRow(**{**vars(row), "status": 40})


async def test_all_users_in_mxid_order(database: Database) -> None:
    assert await database.all_users() == []
    await database.save_user(UserRow(BOB, uin=2))
    await database.save_user(UserRow(ALICE, uin=1))
    assert await database.all_users() == [UserRow(ALICE, uin=1), UserRow(BOB, uin=2)]


async def test_one_matrix_user_per_qq_account(database: Database) -> None:
    await database.save_user(UserRow(ALICE, uin=10001))
    # Any number of users without a QQ account.
    await database.save_user(UserRow(BOB))
    await database.save_user(UserRow("@carol:example.org"))
    with pytest.raises(IntegrityError):
        await database.save_user(UserRow(BOB, uin=10001))
    assert await database.get_user(BOB) == UserRow(BOB)
    assert await database.get_user_by_uin(10001) == UserRow(ALICE, uin=10001)


async def test_puppets_are_inserted_then_updated(database: Database) -> None:
    assert await database.get_puppet(10002) is None
    await database.save_puppet(PuppetRow(10002))
    assert await database.get_puppet(10002) == PuppetRow(10002)

    named = PuppetRow(
        10002, nick="小明", face=3, name_set=True, avatar_set=True, avatar_mxc="mxc://hs/face3"
    )
    await database.save_puppet(named)
    assert await database.get_puppet(10002) == named
    assert await database.get_puppet(10003) is None


async def test_portals_by_pair_and_by_room(database: Database) -> None:
    await database.save_user(UserRow(ALICE))
    await database.save_user(UserRow(BOB))
    assert await database.get_portal(ALICE, 10002) is None

    await database.save_portal(PortalRow(ALICE, 10002))
    assert await database.get_portal(ALICE, 10002) == PortalRow(ALICE, 10002, None, PortalKind.DM)

    created = PortalRow(ALICE, 10002, room_id="!dm:example.org", kind=PortalKind.REQUEST)
    await database.save_portal(created)
    assert await database.get_portal(ALICE, 10002) == created
    assert await database.get_portal_by_room("!dm:example.org") == created
    assert await database.get_portal_by_room("!other:example.org") is None
    # Same QQ contact, another Matrix user: another portal.
    assert await database.get_portal(BOB, 10002) is None


async def test_portal_rooms_are_unique_and_unroomed_portals_are_many(database: Database) -> None:
    await database.save_user(UserRow(ALICE))
    await database.save_portal(PortalRow(ALICE, 1))
    await database.save_portal(PortalRow(ALICE, 2))
    await database.save_portal(PortalRow(ALICE, 3, "!taken:hs"))
    with pytest.raises(IntegrityError):
        await database.save_portal(PortalRow(ALICE, 4, "!taken:hs"))
    assert await database.get_portal(ALICE, 4) is None


async def test_portal_needs_a_known_owner_and_a_known_kind(database: Database) -> None:
    with pytest.raises(IntegrityError):
        await database.save_portal(PortalRow("@stranger:hs", 1))
    await database.save_user(UserRow(ALICE))
    with pytest.raises(ValueError, match="kind"):
        # A kind from outside the enum, as a caller ignoring the types could pass it.
        await database.save_portal(PortalRow(ALICE, 1, kind=cast(PortalKind, "group")))


async def test_delete_portal(database: Database) -> None:
    await database.save_user(UserRow(ALICE))
    await database.save_portal(PortalRow(ALICE, 1, "!one:hs"))
    await database.save_portal(PortalRow(ALICE, 2, "!two:hs"))
    await database.delete_portal(ALICE, 1)
    await database.delete_portal(ALICE, 99)  # deleting what is not there is fine
    assert await database.get_portal(ALICE, 1) is None
    assert await database.get_portal_by_room("!one:hs") is None
    assert await database.get_portal(ALICE, 2) == PortalRow(ALICE, 2, "!two:hs")
    # The room id is free again.
    await database.save_portal(PortalRow(ALICE, 3, "!one:hs"))
    assert await database.get_portal_by_room("!one:hs") == PortalRow(ALICE, 3, "!one:hs")


async def test_face_avatars(database: Database) -> None:
    assert await database.get_face_mxc(1) is None
    await database.save_face_mxc(1, "mxc://hs/one")
    await database.save_face_mxc(2, "mxc://hs/two")
    await database.save_face_mxc(1, "mxc://hs/one-again")
    assert await database.get_face_mxc(1) == "mxc://hs/one-again"
    assert await database.get_face_mxc(2) == "mxc://hs/two"
