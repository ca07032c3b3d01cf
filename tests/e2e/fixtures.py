"""Fixtures for the bridge's end-to-end tests (imported by conftest.py, so there is one of each).

One QQ simulator and one bridge run for the whole session, beside the session's Synapse; each
test makes its own Matrix users and uses its own QQ accounts (harness.E2E_ACCOUNTS), so tests do
not see each other's messages.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import secrets
from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from sqlalchemy import make_url

from bridge.demo.synapse import SynapseServer, free_port
from bridge.qq.client import ClientSettings
from bridge.qq.simulator import Simulator, SimulatorSettings, sample_accounts

from .crypto_user import EncryptedMatrixUser
from .harness import (
    E2E_ACCOUNTS,
    BridgeRunner,
    LoggedIn,
    LoggedInSession,
    QQPeer,
    QQPeerFactory,
    UserFactory,
)
from .matrix_user import MatrixUser

# Quicker than the seeds' 1 s pacing and 20 s penalty, with the same rules.
SIMULATOR_SETTINGS = SimulatorSettings(message_interval=0.1, penalty=2.0, status_interval=0.1)
BRIDGE_QQ_SETTINGS = {
    "poll_interval": 0.2,
    "max_poll_interval": 1.0,
    "send_interval": 0.25,
    "penalty_wait": 2.5,
    "max_penalties": 3,
}
# Synapse turns a presence no one refreshes to offline once presence.sync_online_timeout has
# passed (30 s by default) at its next look, which for a user who never syncs comes when
# presence.last_active_granularity (60 s) ends, and then every 5 s. Here 3 s and 1 s, so that
# a test sees in seconds both that decay (for a user who set presence once) and the bridge's
# refresh (every BRIDGE_PRESENCE_REFRESH s) holding a puppet's presence past it.
SYNAPSE_PRESENCE = {
    "presence": {"enabled": True, "sync_online_timeout": 3000, "last_active_granularity": 1000}
}
BRIDGE_PRESENCE_REFRESH = 1.0
PEER_SETTINGS = ClientSettings(poll_interval=0.2, idle_poll_interval=1.0, send_interval=0.25)
_unique = itertools.count(1)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def qq_server() -> AsyncIterator[Simulator]:
    accounts = sample_accounts() + list(E2E_ACCOUNTS.values())
    async with Simulator(accounts=accounts, settings=SIMULATOR_SETTINGS) as simulator:
        yield simulator


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def bridge_runner(
    bridge_config: Any, qq_server: Simulator, synapse: SynapseServer
) -> AsyncIterator[BridgeRunner]:
    bridge_config["qq.server"] = qq_server.url
    for key, value in BRIDGE_QQ_SETTINGS.items():
        bridge_config[f"qq.{key}"] = value
    bridge_config["bridge.presence_refresh"] = BRIDGE_PRESENCE_REFRESH
    # Metrics on, as an operator would have them: tests/e2e/test_bridge_metrics.py scrapes them.
    bridge_config["metrics.enabled"] = True
    bridge_config["metrics.listen"] = f"127.0.0.1:{free_port()}"
    runner = BridgeRunner(bridge_config)
    await runner.start()
    yield runner
    await runner.stop()


@pytest.fixture(scope="session")
def bot(bridge_config: Any) -> str:
    return str(bridge_config.bot_mxid)


@pytest.fixture(scope="session")
def puppet(bridge_config: Any) -> Callable[[int], str]:
    return lambda uin: str(bridge_config.puppet_mxid(uin))


@pytest_asyncio.fixture(loop_scope="session")
async def new_user(
    synapse: SynapseServer, bridge_runner: BridgeRunner
) -> AsyncIterator[UserFactory]:
    users: list[MatrixUser] = []

    async def make(name: str) -> MatrixUser:
        user = await MatrixUser(synapse, f"{name}{next(_unique)}").start()
        users.append(user)
        return user

    yield make
    for user in users:
        await user.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def qq_peer(qq_server: Simulator) -> AsyncIterator[QQPeerFactory]:
    peers: list[QQPeer] = []

    async def make(uin: int) -> QQPeer:
        peer = await QQPeer(qq_server.url, E2E_ACCOUNTS[uin], PEER_SETTINGS).start()
        peers.append(peer)
        return peer

    yield make
    for peer in peers:
        await peer.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def logged_in(
    new_user: UserFactory, bot: str, puppet: Callable[[int], str]
) -> AsyncIterator[LoggedIn]:
    async def make(name: str, uin: int) -> LoggedInSession:
        user = await new_user(name)
        room = await user.dm(bot)
        await user.wait_for_text(room, "Send `login", sender=bot)
        session = LoggedInSession(user, room, bot, uin, puppet)
        await session.command(f"login {uin} {E2E_ACCOUNTS[uin].password}", "Logged in to QQ")
        return session

    yield make


@contextlib.asynccontextmanager
async def _restarted_with(
    bridge_runner: BridgeRunner, settings: dict[str, Any]
) -> AsyncIterator[BridgeRunner]:
    """The session's bridge restarted with ``settings``, and restarted as it was afterwards."""
    config = bridge_runner.config
    before = {key: config[key] for key in settings}
    await bridge_runner.stop()
    for key, value in settings.items():
        config[key] = value
    try:
        await bridge_runner.start()
        yield bridge_runner
    finally:
        await bridge_runner.stop()
        for key, value in before.items():
            config[key] = value
        await bridge_runner.start()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def encrypting_bridge(bridge_runner: BridgeRunner) -> AsyncIterator[BridgeRunner]:
    """The session's bridge, restarted for one module with encryption allowed and portals
    encrypted by default: the example config's defaults."""
    settings = {"bridge.encryption.allow": True, "bridge.encryption.default": True}
    async with _restarted_with(bridge_runner, settings) as runner:
        yield runner


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def requiring_bridge(bridge_runner: BridgeRunner) -> AsyncIterator[BridgeRunner]:
    """The session's bridge, restarted for one module with ``bridge.encryption.require`` (and
    ``default`` off, which require overrides)."""
    settings = {
        "bridge.encryption.allow": True,
        "bridge.encryption.default": False,
        "bridge.encryption.require": True,
    }
    async with _restarted_with(bridge_runner, settings) as runner:
        yield runner


@pytest_asyncio.fixture(loop_scope="session")
async def postgres_url() -> AsyncIterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards (or a skip saying why)."""
    base = os.environ.get("QQ_BRIDGE_TEST_POSTGRES")
    if not base:
        pytest.skip("QQ_BRIDGE_TEST_POSTGRES is not set")
    url = make_url(base)
    name = f"qq_bridge_e2e_{secrets.token_hex(4)}"
    try:
        admin = await asyncpg.connect(
            host=url.host, port=url.port or 5432, user=url.username, database=url.database
        )
    except (OSError, asyncpg.PostgresError) as error:
        pytest.skip(f"PostgreSQL at {url.host}:{url.port} is not reachable: {error}")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest_asyncio.fixture(loop_scope="session")
async def crypto_user(
    synapse: SynapseServer,
) -> AsyncIterator[Callable[[str], EncryptedMatrixUser]]:
    """Users with an encryption device of their own (crypto_user.py), stopped afterwards; the
    test module picks the bridge they talk to (``encrypting_bridge``, ``requiring_bridge``)."""
    users: list[EncryptedMatrixUser] = []

    def make(name: str) -> EncryptedMatrixUser:
        user = EncryptedMatrixUser(synapse, f"{name}{next(_unique)}")
        users.append(user)
        return user

    yield make
    for user in users:
        await user.stop()


class OwnQQServer:
    """A QQ simulator of one test's own, which it may stop and start again on the same port.
    ``keep_world``: its accounts' sessions and queued messages survive a stop (a server that
    comes back with its state); otherwise each start is a fresh server."""

    def __init__(self, keep_world: bool) -> None:
        self.keep_world = keep_world
        self.simulator: Simulator | None = None
        self.port = 0

    @property
    def url(self) -> str:
        assert self.simulator is not None
        return str(self.simulator.url)

    async def start(self) -> None:
        if self.simulator is None or not self.keep_world:
            self.simulator = Simulator(
                accounts=list(E2E_ACCOUNTS.values()), settings=SIMULATOR_SETTINGS
            )
        await self.simulator.start(port=self.port)
        self.port = self.simulator.port

    async def stop(self) -> None:
        assert self.simulator is not None
        await self.simulator.stop()


@contextlib.asynccontextmanager
async def bridge_on(
    bridge_runner: BridgeRunner, bridge_config: Any, server: OwnQQServer
) -> AsyncIterator[OwnQQServer]:
    """The session's bridge, restarted to use ``server``, and as it was afterwards."""
    original = bridge_config["qq.server"]
    await server.start()
    await bridge_runner.stop()
    bridge_config["qq.server"] = server.url
    await bridge_runner.start()
    try:
        yield server
    finally:
        await bridge_runner.stop()
        await server.stop()
        bridge_config["qq.server"] = original
        await bridge_runner.start()
