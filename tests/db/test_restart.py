"""Closing and reopening the same database keeps everything, and journal ids keep increasing."""

from __future__ import annotations

from mautrix.types import Membership, PowerLevelStateEventContent, RoomID, UserID

from bridge.db import LoginState, NewOutbound, OutboundState, PortalRow, PuppetRow, UserRow
from bridge.qq.client import TextMessage

from .conftest import DatabaseLocation

ALICE = "@alice:example.org"
ROOM = RoomID("!dm:example.org")
PUPPET = UserID("@qq_10002:example.org")


async def test_restart_keeps_everything(location: DatabaseLocation) -> None:
    user = UserRow(
        ALICE, uin=10001, password_md5="md5", login_state=LoginState.LOGGED_IN, status=30
    )
    puppet = PuppetRow(10002, nick="小红", face=5, name_set=True)
    portal = PortalRow(ALICE, 10002, room_id=ROOM)
    levels = PowerLevelStateEventContent(users={PUPPET: 100})

    database = await location.open()
    try:
        await database.save_user(user)
        await database.save_puppet(puppet)
        await database.save_portal(portal)
        await database.save_face_mxc(5, "mxc://hs/five")
        done, waiting = await database.add_inbound(
            ALICE, [TextMessage(10002, "done"), TextMessage(10002, "waiting")]
        )
        await database.finish_inbound({done.id: "$delivered"})
        sent, queued = await database.add_outbound(
            [
                NewOutbound(ALICE, 10002, ROOM, "$sent", "sent"),
                NewOutbound(ALICE, 10002, ROOM, "$queued", "queued"),
            ]
        )
        await database.finish_outbound(sent.id, OutboundState.SENT)
        await database.state_store.registered(PUPPET)
        await database.state_store.set_membership(ROOM, PUPPET, Membership.JOIN)
        await database.state_store.set_power_levels(ROOM, levels)
    finally:
        await database.close()

    database = await location.open()
    try:
        assert await database.all_users() == [user]
        assert await database.get_puppet(10002) == puppet
        assert await database.get_portal(ALICE, 10002) == portal
        assert await database.get_face_mxc(5) == "mxc://hs/five"
        assert await database.pending_inbound() == [waiting]
        assert await database.pending_outbound() == [queued]
        # A retried Matrix transaction is still recognised after the restart.
        assert await database.add_outbound([NewOutbound(ALICE, 10002, ROOM, "$sent", "x")]) == []
        (newer,) = await database.add_inbound(ALICE, [TextMessage(10002, "after restart")])
        assert newer.id > waiting.id

        store = database.state_store
        assert await store.is_registered(PUPPET)
        assert await store.is_joined(ROOM, PUPPET)
        stored_levels = await store.get_power_levels(ROOM)
        assert stored_levels is not None
        assert stored_levels.get_user_level(PUPPET) == 100
    finally:
        await database.close()
