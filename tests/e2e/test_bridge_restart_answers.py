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
from bridge.qq.simulator import Simulator
from bridge.qq.wire.replies import RequestAccepted

from .fixtures import PEER_SETTINGS, SIMULATOR_SETTINGS
from .harness import E2E_ACCOUNTS, BridgeRunner, LoggedIn, QQPeer

pytestmark = pytest.mark.asyncio(loop_scope="session")


class AwayQQServer:
    """A simulator that can go away and come back on its port, its world unchanged."""

    def __init__(self) -> None:
        self.simulator = Simulator(
            accounts=list(E2E_ACCOUNTS.values()), settings=SIMULATOR_SETTINGS
        )
        self.port = 0

    async def start(self) -> None:
        await self.simulator.start(port=self.port)
        self.port = self.simulator.port

    async def stop(self) -> None:
        await self.simulator.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def away_qq_server(
    bridge_runner: BridgeRunner, bridge_config: Any
) -> AsyncIterator[AwayQQServer]:
    original = bridge_config["qq.server"]
    server = AwayQQServer()
    await server.start()
    await bridge_runner.stop()
    bridge_config["qq.server"] = server.simulator.url
    await bridge_runner.start()
    yield server
    await bridge_runner.stop()
    await server.stop()
    bridge_config["qq.server"] = original
    await bridge_runner.start()


async def test_accepting_by_joining_while_qq_is_away_is_told_and_can_be_repeated(
    logged_in: LoggedIn, away_qq_server: AwayQQServer, puppet: Callable[[int], str]
) -> None:
    session = await logged_in("qqaway", 30330)
    url = away_qq_server.simulator.url
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
