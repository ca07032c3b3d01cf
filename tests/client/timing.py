"""Running client code on a FakeClock: time moves only when the test moves it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from bridge.qq.clock import FakeClock, settle

T = TypeVar("T")


async def run_on(
    clock: FakeClock, awaitable: Awaitable[T], *, step: float = 0.25, limit: float = 3600.0
) -> T:
    """Await ``awaitable`` while moving ``clock`` forward ``step`` at a time (at most
    ``limit`` fake seconds, so a bug fails the test instead of hanging it)."""
    task = asyncio.ensure_future(awaitable)
    await settle()
    moved = 0.0
    while not task.done():
        if moved >= limit:
            task.cancel()
            raise AssertionError(f"not done after {limit} fake seconds")
        await clock.advance(step)
        moved += step
    return task.result()
