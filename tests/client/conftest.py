"""Fixtures for the client's I/O tests: the real simulator on 127.0.0.1, on a FakeClock
shared with the clients, so penalties and lapses take no real time."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bridge.qq.client import QQTransport
from bridge.qq.clock import FakeClock
from bridge.qq.simulator import Simulator, SimulatorSettings


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock(start=1000.0)


@pytest.fixture
def simulator_settings() -> SimulatorSettings:
    return SimulatorSettings()


@pytest.fixture
async def simulator(
    fake_clock: FakeClock, simulator_settings: SimulatorSettings
) -> AsyncIterator[Simulator]:
    simulator = Simulator(settings=simulator_settings, clock=fake_clock)
    await simulator.start(host="127.0.0.1", port=0)
    try:
        yield simulator
    finally:
        await simulator.stop()


@pytest.fixture
async def transport(simulator: Simulator, fake_clock: FakeClock) -> AsyncIterator[QQTransport]:
    # The shared probe runs on the fake clock too; aiohttp's time-outs are real seconds.
    transport = QQTransport(simulator.url, timeout=10.0, clock=fake_clock)
    try:
        yield transport
    finally:
        await transport.close()
