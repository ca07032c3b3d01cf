"""Logins resumed at start-up take turns: spaced out on average, with jitter, in call order."""

from __future__ import annotations

import asyncio
import itertools
import random

import pytest

from bridge.login_pacing import JITTER, LoginPacer
from bridge.qq.clock import FakeClock, settle


async def test_turns_come_one_by_one_at_the_rate_with_jitter() -> None:
    clock = FakeClock()
    pacer = LoginPacer(rate=10.0, clock=clock, rng=random.Random(7))
    granted: list[tuple[int, float]] = []

    async def resume(i: int) -> None:
        await pacer.turn()
        granted.append((i, clock.now()))

    tasks = [asyncio.create_task(resume(i)) for i in range(50)]
    await settle()
    assert [i for i, _ in granted] == [0]  # the first goes at once, the rest wait
    assert pacer.waiting == 49
    await clock.advance(10.0)
    await asyncio.gather(*tasks)
    assert [i for i, _ in granted] == list(range(50))  # in call order
    gaps = [b - a for (_, a), (_, b) in itertools.pairwise(granted)]
    # Never a burst: every gap within the jitter around 1 / rate, and not all the same.
    assert min(gaps) >= (1 - JITTER) / 10.0 - 1e-9
    assert max(gaps) <= (1 + JITTER) / 10.0 + 1e-9
    assert len({round(gap, 6) for gap in gaps}) > 10
    # On average the rate: 49 gaps of 0.1 s, give or take the jitter's spread.
    assert 3.5 < granted[-1][1] - granted[0][1] < 6.5
    assert pacer.granted == 50 and pacer.waiting == 0


async def test_a_rate_of_zero_lets_every_login_go_at_once() -> None:
    clock = FakeClock()
    pacer = LoginPacer(rate=0.0, clock=clock)
    await asyncio.gather(*(pacer.turn() for _ in range(100)))
    assert pacer.granted == 100 and clock.now() == 1000.0
    with pytest.raises(ValueError):
        LoginPacer(rate=-1.0, clock=clock)
