"""Waiting for real I/O while time stands still on a FakeClock."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bridge.qq.clock import FakeClock

T = TypeVar("T")

# Real seconds an I/O test may wait for sockets before it fails instead of hanging.
IO_DEADLINE = 10.0


async def eventually(condition: Callable[[], bool], what: str = "condition") -> None:
    """Yield to the event loop (real sockets progress) until ``condition`` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + IO_DEADLINE
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"{what} did not happen within {IO_DEADLINE} real seconds")
        await asyncio.sleep(0.002)


async def drive(
    clock: FakeClock, awaitable: Awaitable[T], *, step: float = 0.25, limit: float = 3600.0
) -> T:
    """Await ``awaitable`` while moving the fake clock ``step`` at a time, letting real I/O
    finish between steps; fails after ``limit`` fake seconds or IO_DEADLINE real ones."""
    task = asyncio.ensure_future(awaitable)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + IO_DEADLINE
    moved = 0.0
    while not task.done():
        await asyncio.sleep(0.002)  # sockets, not time: the fake clock does not move here
        if task.done():
            break
        if moved >= limit or loop.time() > deadline:
            task.cancel()
            raise AssertionError(f"not done after {moved} fake / {IO_DEADLINE} real seconds")
        await clock.advance(step)
        moved += step
    return task.result()
