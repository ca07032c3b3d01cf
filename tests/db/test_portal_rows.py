"""A portal's row and its memory: the database first, memory only after a write that succeeded
(issue 10: a second contact's puppet invited into a portal once took the room in memory)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

import pytest
from mautrix.types import RoomID
from sqlalchemy.exc import IntegrityError

from bridge.db import Database, PortalKind, PortalRow
from bridge.portal import Portal

from .people import ALICE

ROOM, OTHER_ROOM = RoomID("!room:hs"), RoomID("!other:hs")


def portal(database: Database, uin: int) -> Portal:
    """A Portal on the real store; the rest of the bridge is not reached by these paths."""
    bridge = cast(Any, SimpleNamespace(db=database))
    user = cast(Any, SimpleNamespace(mxid=ALICE))
    return Portal(bridge, PortalRow(owner=ALICE, uin=uin), user, cast(Any, None))


async def test_a_room_another_portal_holds_is_refused_and_memory_stays(users: Database) -> None:
    first, second = portal(users, 10), portal(users, 20)
    assert await first.adopt_room(ROOM)
    with pytest.raises(IntegrityError):
        await second.adopt_room(ROOM)
    assert second.room_id is None
    assert await users.get_portal(ALICE, 20) is None
    assert await users.get_portal_by_room(ROOM) == PortalRow(ALICE, 10, ROOM, PortalKind.DM)


async def test_ending_a_portal_and_a_late_end_of_an_older_room(users: Database) -> None:
    chat = portal(users, 10)
    assert await chat.adopt_room(ROOM)
    assert await chat.adopt_room(ROOM)  # invited back: still its room
    assert not await chat.adopt_room(OTHER_ROOM)
    assert not await chat.end(OTHER_ROOM, leave=False)
    assert await users.get_portal(ALICE, 10) is not None
    assert await chat.end(ROOM, leave=False)
    assert chat.room_id is None and await users.get_portal(ALICE, 10) is None
    assert not await chat.end(ROOM, leave=False)  # told twice
    # The same object takes up a room again (the puppet invited back, or a new DM).
    assert await chat.adopt_room(OTHER_ROOM)
    assert await users.get_portal_by_room(OTHER_ROOM) == PortalRow(ALICE, 10, OTHER_ROOM)
