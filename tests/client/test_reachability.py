"""The shared reachability on a FakeClock: one probe however many clients wait, and every
client back within a probe interval (plus its share of the spread) of the server's return."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import pytest

from bridge.qq.client.reachability import Reachability, sleep_or_until
from bridge.qq.clock import FakeClock, settle


class Server:
    """What the probe sees: up or down, and when it was asked."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.up = False
        self.probes: list[float] = []
        self.broken = False

    async def probe(self) -> bool:
        self.probes.append(self.clock.now() - 1000.0)
        if self.broken:
            raise RuntimeError("the probe itself failed")
        return self.up


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=1000.0)


@pytest.fixture
def server(clock: FakeClock) -> Server:
    return Server(clock)


@pytest.fixture
async def reachability(clock: FakeClock, server: Server) -> AsyncIterator[Reachability]:
    shared = Reachability(server.probe, clock, interval=1.0, spread=0.0)
    yield shared
    await shared.close()


async def test_reachable_until_told_otherwise_and_waiting_then_costs_nothing(
    reachability: Reachability, clock: FakeClock
) -> None:
    assert reachability.reachable
    await reachability.wait()  # returns at once: no probe, no sleep
    assert clock.sleepers == 0


async def test_many_failures_start_one_probe_per_interval(
    reachability: Reachability, clock: FakeClock, server: Server
) -> None:
    for _ in range(10_000):  # every account's request failed at once
        reachability.lost()
    await settle()
    await clock.advance(5.0)
    assert server.probes == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert not reachability.reachable


async def test_the_probe_that_gets_an_answer_wakes_every_waiter_and_probing_stops(
    reachability: Reachability, clock: FakeClock, server: Server
) -> None:
    reachability.lost()
    waiters = [asyncio.ensure_future(reachability.wait()) for _ in range(1000)]
    await settle()
    await clock.advance(30.0)
    assert not any(waiter.done() for waiter in waiters)
    server.up = True
    await clock.advance(1.0)
    assert all(waiter.done() for waiter in waiters)
    assert reachability.reachable
    probes = len(server.probes)
    assert probes == 31
    await clock.advance(60.0)
    assert len(server.probes) == probes  # nothing probes a server that answers


async def test_waiters_wake_spread_over_the_recovery_spread(
    clock: FakeClock, server: Server
) -> None:
    reachability = Reachability(server.probe, clock, 1.0, spread=1.0, rng=random.Random(4))
    woke: list[float] = []

    async def waiter() -> None:
        await reachability.wait()
        woke.append(clock.now() - 1000.0)

    reachability.lost()
    tasks = [asyncio.ensure_future(waiter()) for _ in range(100)]
    await settle()
    server.up = True
    await clock.advance(1.0)  # the probe answers at 1.0
    for _ in range(10):
        await clock.advance(0.1)
    await asyncio.gather(*tasks)
    assert min(woke) >= 1.0 and max(woke) <= 2.0
    assert len({round(at, 1) for at in woke}) >= 8  # not all in the same instant
    await reachability.close()


async def test_a_request_that_gets_through_ends_the_outage_without_waiting_for_a_probe(
    reachability: Reachability, clock: FakeClock, server: Server
) -> None:
    reachability.lost()
    waiter = asyncio.ensure_future(reachability.wait())
    await settle()
    reachability.found()  # e.g. a slow reply that was already under way
    await settle()
    assert waiter.done()
    await clock.advance(10.0)
    assert server.probes == []


async def test_a_probe_that_raises_counts_as_no_answer_and_probing_goes_on(
    reachability: Reachability, clock: FakeClock, server: Server
) -> None:
    server.broken = True
    reachability.lost()
    await settle()
    await clock.advance(3.0)
    assert server.probes == [1.0, 2.0, 3.0]
    server.broken, server.up = False, True
    await clock.advance(1.0)
    assert reachability.reachable


async def test_sleep_or_until_ends_at_the_event_or_at_the_sleep_and_leaves_nothing(
    clock: FakeClock,
) -> None:
    event = asyncio.Event()
    early = asyncio.ensure_future(sleep_or_until(clock, 60.0, event.wait()))
    await settle()
    await clock.advance(2.0)
    assert not early.done()
    event.set()
    await settle()
    assert early.done() and clock.sleepers == 0

    late = asyncio.ensure_future(sleep_or_until(clock, 5.0, asyncio.Event().wait()))
    await settle()
    await clock.advance(5.0)
    assert late.done()
