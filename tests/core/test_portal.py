"""The DM room of one (user, contact) pair (bridge/portal.py): one room however many ask at
once, a new room when the old one refuses us, request rooms that become the DM."""

from __future__ import annotations

import asyncio

from mautrix.errors import MForbidden

from bridge.db import PortalKind, PortalRow

from .conftest import ALICE, Core


async def test_two_asking_at_once_make_one_room(core: Core) -> None:
    """The unit form of the `pm` twice race (tests/e2e/test_bridge_races.py)."""
    user = await core.alice()
    first, second = await asyncio.gather(
        core.bridge.portal(user, 10002), core.bridge.portal(user, 10002)
    )
    assert first is second
    created = await asyncio.gather(first.open_dm(), first.open_dm(), first.ensure_room())
    assert sorted(created[:2]) == [False, True]
    assert len(core.homeserver.rooms) == 1
    assert await core.bridge.db.get_portal(ALICE, 10002) == PortalRow(
        ALICE, 10002, first.room_id, PortalKind.DM
    )


async def test_the_room_is_made_by_the_puppet_for_the_user_as_a_direct_chat(core: Core) -> None:
    user = await core.alice()
    portal = await core.bridge.portal(user, 10002)
    room_id = await portal.ensure_room()
    made = core.homeserver.rooms[room_id]
    assert made["creator"] == "@qq_10002:example.com"
    assert made["is_direct"] is True and made["invitees"] == [ALICE]
    kinds = {state["type"] for state in made["initial_state"]}
    assert {"m.bridge", "uk.half-shot.bridge"} <= kinds


async def test_a_room_that_refuses_us_is_replaced_and_the_message_sent_there(core: Core) -> None:
    user = await core.alice()
    portal = await core.bridge.portal(user, 10002)
    old = await portal.ensure_room()
    core.homeserver.fail("send_message_event", MForbidden(403, "not in the room"))
    await portal.send("still here?", "qq-in-7")
    assert portal.room_id is not None and portal.room_id != old
    (sent,) = core.homeserver.sent
    assert (sent.room_id, sent.body, sent.txn_id) == (portal.room_id, "still here?", "qq-in-7-new")
    assert (old, "@qq_10002:example.com") in core.homeserver.left


async def test_a_request_room_becomes_the_dm_once_accepted(core: Core) -> None:
    user = await core.alice()
    portal = await core.bridge.portal(user, 10005)
    room_id = await portal.open_request_room()
    assert portal.is_request
    assert core.homeserver.rooms[room_id]["name"].startswith("Friend request from ")
    await portal.became_friend()
    assert not portal.is_request and portal.room_id == room_id
    stored = await core.bridge.db.get_portal(ALICE, 10005)
    assert stored is not None and stored.kind == "dm"


async def test_a_notice_needs_a_room(core: Core) -> None:
    user = await core.alice()
    portal = await core.bridge.portal(user, 10002)
    assert await portal.notice("nowhere to say it") is None
    assert core.homeserver.sent == []
