"""A friend request answered while the QQ server is away: the user is told, and answers again.

The bridge is restarted onto a QQ server of this module's own, which goes away and comes back
on the same port with its state (the pending request, the sessions) kept, as a server behind
a broken network would. Like test_bridge_restart.py it restarts the session's bridge.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio

from bridge.qq.codes import AckCode
from bridge.qq.wire.replies import RequestAccepted

from .fixtures import PEER_SETTINGS, OwnQQServer, bridge_on
from .harness import E2E_ACCOUNTS, BridgeRunner, LoggedIn, QQPeer

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest_asyncio.fixture(loop_scope="session")
async def away_qq_server(
    bridge_runner: BridgeRunner, bridge_config: Any
) -> AsyncIterator[OwnQQServer]:
    """A QQ server that can go away and come back on its port, its world unchanged."""
    async with bridge_on(bridge_runner, bridge_config, OwnQQServer(keep_world=True)) as server:
        yield server


async def test_accepting_by_joining_while_qq_is_away_is_told_and_can_be_repeated(
    logged_in: LoggedIn, away_qq_server: OwnQQServer, puppet: Callable[[int], str]
) -> None:
    session = await logged_in("qqaway", 30330)
    url = away_qq_server.url
    asker = await QQPeer(url, E2E_ACCOUNTS[30331], PEER_SETTINGS).start()
    try:
        await asker.client.ack(30330, AckCode.REQUEST, "hello")
        room = await session.user.wait_for_invite(puppet(30331))
        mark = session.user.mark()
        await away_qq_server.stop()
        await session.user.wait_for_text(session.room, "Lost the connection", after=mark)
        await session.user.join(room)
        told = await session.user.wait_for_text(room, "Could not accept", sender=puppet(30331))
        assert told.msgtype == "m.notice" and told.body.startswith("QQ bridge:")
        assert "could not be reached" in told.body and "accept 30331" in told.body
        await away_qq_server.start()
        await session.user.wait_for_text(session.room, "Reconnected", after=mark, timeout=90)
        # Given again, here in the request room, after the prefix.
        prefix = session.user.mark()
        await session.user.send(room, "!qq accept 30331")
        await session.user.wait_for_text(session.room, "now QQ friends", after=prefix)
        accepted = await asker.wait_for(lambda e: isinstance(e, RequestAccepted))
        assert isinstance(accepted, RequestAccepted) and accepted.sender == 30330
        await session.user.wait_for(
            lambda e: e.room_id == room and e.type == "m.room.topic" and not e.content["topic"]
        )
    finally:
        await asker.stop()
