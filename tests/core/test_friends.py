"""A user's QQ friends (bridge/friends.py): answers to friend requests, and what they change."""

from __future__ import annotations

import pytest

from bridge.db import PortalKind
from bridge.qq.client import ServerUnreachable
from bridge.user import NotLoggedInError

from .conftest import ALICE, Core


async def test_accepting_makes_a_friend_and_the_request_room_a_dm(core: Core) -> None:
    user = await core.alice()
    portal = await core.bridge.portal(user, 10005)
    room_id = await portal.open_request_room()
    await user.friends.answer(10005, accept=True)
    assert core.qq.commands()[-1] == "Ack_AddToList"
    assert 10005 in user.friends
    stored = await core.bridge.db.get_portal(ALICE, 10005)
    assert stored is not None and (stored.room_id, stored.kind) == (room_id, PortalKind.DM)


async def test_refusing_ends_the_request_room(core: Core) -> None:
    user = await core.alice()
    portal = await core.bridge.portal(user, 10006)
    room_id = await portal.open_request_room()
    await user.friends.answer(10006, accept=False, reason="no")
    assert 10006 not in user.friends
    assert await core.bridge.db.get_portal(ALICE, 10006) is None
    assert (room_id, "@qq_10006:example.com") in core.homeserver.left


async def test_an_answer_qq_cannot_take_changes_nothing(core: Core) -> None:
    """Logged out, or the QQ server away: raised for the caller to tell, the room as it was."""
    user = await core.alice(logged_in=False)
    portal = await core.bridge.portal(user, 10007)
    await portal.open_request_room()
    with pytest.raises(NotLoggedInError):
        await user.friends.answer(10007, accept=True)
    await core.alice()
    core.qq.down = True
    with pytest.raises(ServerUnreachable):
        await user.friends.answer(10007, accept=True)
    assert 10007 not in user.friends and portal.is_request
    stored = await core.bridge.db.get_portal(ALICE, 10007)
    assert stored is not None and stored.kind is PortalKind.REQUEST
