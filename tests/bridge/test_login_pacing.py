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
    pacer = LoginPacer(rate=10.0, clock=clock, rng=random.Random(7), burst=5)
    granted: list[tuple[int, float]] = []

    async def resume(i: int) -> None:
        await pacer.turn()
        granted.append((i, clock.now()))

    tasks = [asyncio.create_task(resume(i)) for i in range(60)]
    await settle()
    # A few go at once (the burst, give or take the jitter of its gaps); the rest wait.
    first = len(granted)
    assert 3 <= first <= 8 and [i for i, _ in granted] == list(range(first))
    assert pacer.waiting == 60 - first
    await clock.advance(10.0)
    await asyncio.gather(*tasks)
    assert [i for i, _ in granted] == list(range(60))  # in call order
    paced = granted[first:]
    gaps = [b - a for (_, a), (_, b) in itertools.pairwise(paced)]
    # Never a burst after the first few: every gap within the jitter around 1 / rate, and
    # not all the same.
    assert min(gaps) >= (1 - JITTER) / 10.0 - 1e-9
    assert max(gaps) <= (1 + JITTER) / 10.0 + 1e-9
    assert len({round(gap, 6) for gap in gaps}) > 10
    # On average the rate: 0.1 s a gap, give or take the jitter's spread.
    assert 0.07 < (paced[-1][1] - paced[0][1]) / len(gaps) < 0.13
    assert pacer.granted == 60 and pacer.waiting == 0


async def test_a_pacer_idle_for_a_while_lets_a_burst_go_again() -> None:
    clock = FakeClock()
    pacer = LoginPacer(rate=10.0, clock=clock, rng=random.Random(3), burst=4)
    await clock.advance(60.0)  # long after the last turn: the credit is back, but only 4
    turns = [asyncio.create_task(pacer.turn()) for _ in range(20)]
    await settle()
    assert 2 <= pacer.granted <= 6 and pacer.waiting == 20 - pacer.granted
    await clock.advance(5.0)
    await asyncio.gather(*turns)


async def test_a_rate_of_zero_lets_every_login_go_at_once() -> None:
    clock = FakeClock()
    pacer = LoginPacer(rate=0.0, clock=clock)
    await asyncio.gather(*(pacer.turn() for _ in range(100)))
    assert pacer.granted == 100 and clock.now() == 1000.0
    with pytest.raises(ValueError):
        LoginPacer(rate=-1.0, clock=clock)
