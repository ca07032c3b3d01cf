from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bridge.qq.clock import FakeClock
from bridge.qq.simulator import Simulator, SimulatorSettings


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings() -> SimulatorSettings:
    return SimulatorSettings()


@pytest.fixture
async def sim(clock: FakeClock, settings: SimulatorSettings) -> AsyncIterator[Simulator]:
    async with Simulator(settings=settings, clock=clock) as simulator:
        yield simulator
