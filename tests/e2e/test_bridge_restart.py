"""Nothing lost, nothing twice: a bridge restart with messages in flight both ways, and health.

These tests stop and start the session's bridge, so they run after the others (file order).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import pytest
import pytest_asyncio

from .fixtures import PEER_SETTINGS, OwnQQServer, bridge_on
from .harness import E2E_ACCOUNTS, BridgeRunner, LoggedIn, QQPeer, QQPeerFactory

pytestmark = pytest.mark.asyncio(loop_scope="session")

T = TypeVar("T")


async def test_restart_with_messages_in_flight_both_ways(
    logged_in: LoggedIn,
    qq_peer: QQPeerFactory,
    puppet: Callable[[int], str],
    bridge_runner: BridgeRunner,
) -> None:
    session = await logged_in("restart", 30011)
    peer = await qq_peer(30012)
    await peer.client.send_text(30011, "before the restart")
    room = await session.user.wait_for_invite(puppet(30012))
    await session.user.join(room)
    await session.user.wait_for_text(room, "before the restart")

    await bridge_runner.stop()
    # While the bridge is down: QQ keeps the peer's messages for the bridged account, and
    # Synapse keeps the user's message in the appservice transaction it cannot deliver yet.
    for index in range(3):
        await peer.client.send_text(30011, f"while down {index}")
    await session.user.send(room, "sent while the bridge was down")
    await bridge_runner.start()

    for index in range(3):
        await session.user.wait_for_text(room, f"while down {index}", sender=puppet(30012))
    assert await peer.texts_from(30011, 1, timeout=60) == ["sent while the bridge was down"]
    # Nothing twice: replaying the journal and the queue made no duplicates. Once both of the
    # user's workers are idle, whatever the replay sends has been sent: history is complete.
    user = await bridge_runner.bridge.user(session.user.mxid)
    await asyncio.wait_for(user.inbound.worker.idle.wait(), 30)
    await asyncio.wait_for(user.outbound.worker.idle.wait(), 30)
    texts = await session.user.texts(room, sender=puppet(30012))
    assert texts == ["before the restart", "while down 0", "while down 1", "while down 2"]


@pytest_asyncio.fixture(loop_scope="session")
async def own_qq_server(
    bridge_runner: BridgeRunner, bridge_config: Any
) -> AsyncIterator[OwnQQServer]:
    """The session's bridge, restarted to use a QQ server of this test's own (fresh at each
    start)."""
    async with bridge_on(bridge_runner, bridge_config, OwnQQServer(keep_world=False)) as server:
        yield server


async def test_one_notice_when_qq_goes_away_and_one_when_back(
    logged_in: LoggedIn, own_qq_server: OwnQQServer
) -> None:
    session = await logged_in("health", 30015)
    mark = session.user.mark()
    await own_qq_server.stop()
    await session.user.wait_for_text(session.room, "Lost the connection", after=mark)
    await own_qq_server.start()
    await session.user.wait_for_text(session.room, "Reconnected", after=mark, timeout=90)
    lost = [e for e in session.user.events[mark:] if "Lost the connection" in e.body]
    assert len(lost) == 1
    await session.command("ping", "online")


async def test_login_resumes_when_qq_is_down_at_start_up(
    logged_in: LoggedIn, own_qq_server: OwnQQServer, bridge_runner: BridgeRunner
) -> None:
    session = await logged_in("resume", 30018)
    await bridge_runner.stop()
    await own_qq_server.stop()
    await bridge_runner.start()  # the stored login cannot resume yet: QQ is away
    await session.command("ping", "has not answered yet")
    await own_qq_server.start()
    user = await bridge_runner.bridge.user(session.user.mxid)
    # The resume retries with back-off; the user's client is there once a login got through.
    assert await asyncio.wait_for(user.wait_for_client(), 60) is not None
    await session.command("ping", "30018: online")


async def test_redacting_a_message_still_queued_cancels_it(
    logged_in: LoggedIn, own_qq_server: OwnQQServer, bridge_runner: BridgeRunner
) -> None:
    session = await logged_in("redact", 30050)
    peer = await QQPeer(own_qq_server.url, E2E_ACCOUNTS[30051], PEER_SETTINGS).start()
    try:
        room = await session.open_portal(30051)
        mark = session.user.mark()
        await own_qq_server.stop()
        await session.user.wait_for_text(session.room, "Lost the connection", after=mark)
        await session.user.send(room, "keep me")
        doomed = await session.user.send(room, "redact me")
        await session.user.send(room, "and me too")
        await session.user.client.redact(room, doomed)
        # QQ comes back only once the bridge has taken the redaction: the row is failed.
        db, owner = bridge_runner.bridge.db, session.user.mxid
        await eventually(lambda: _pending_events(db, owner), lambda ids: doomed not in ids)
        await own_qq_server.start()
        assert await peer.texts_from(30050, 2, timeout=60) == ["keep me", "and me too"]
    finally:
        await peer.stop()


@pytest.mark.skipif(
    not os.environ.get("QQ_BRIDGE_TEST_POSTGRES"),
    reason="QQ_BRIDGE_TEST_POSTGRES is not set: no PostgreSQL to run the bridge on",
)
async def test_chat_and_restart_on_postgresql(
    logged_in: LoggedIn,
    qq_peer: QQPeerFactory,
    puppet: Callable[[int], str],
    bridge_runner: BridgeRunner,
    bridge_config: object,
    postgres_url: str,
) -> None:
    original = bridge_config["appservice.database"]  # type: ignore[index]
    await bridge_runner.stop()
    await bridge_runner.start(database_url=postgres_url)
    try:
        session = await logged_in("postgres", 30016)
        peer = await qq_peer(30017)
        await peer.client.send_text(30016, "über PostgreSQL, 100%")
        room = await session.user.wait_for_invite(puppet(30017))
        await session.user.join(room)
        await session.user.wait_for_text(room, "über PostgreSQL, 100%")
        await bridge_runner.stop()
        await peer.client.send_text(30016, "after restart")
        await bridge_runner.start(database_url=postgres_url)
        await session.user.wait_for_text(room, "after restart")
        await session.user.send(room, "back to you")
        assert await peer.texts_from(30016, 1) == ["back to you"]
    finally:
        await bridge_runner.stop()
        await bridge_runner.start(database_url=original)


async def _pending_events(db: Any, owner: str) -> set[str]:
    return {row.event_id for row in await db.pending_outbound(owner)}


async def eventually(
    read: Callable[[], Awaitable[T]], holds: Callable[[T], bool], timeout: float = 30.0
) -> T:
    """Read the bridge's state until ``holds`` is true of it; fail after ``timeout`` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not holds(value := await read()):
        if loop.time() > deadline:
            raise AssertionError(f"still {value!r} after {timeout} s")
        await asyncio.sleep(0.05)
    return value
