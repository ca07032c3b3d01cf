"""A background loop that drains work kept in the database, woken whenever new work arrives.

The queue itself lives in SQL (the inbound journal, the outbound queue), so a wake-up carries no
data: the loop just drains what is pending, in order. A failure backs off and retries the same
work, so order is kept and nothing is skipped silently.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from .qq.clock import Clock

log = logging.getLogger("bridge.worker")

FIRST_RETRY = 1.0
LAST_RETRY = 60.0


class Worker:
    def __init__(self, name: str, drain: Callable[[], Awaitable[None]], clock: Clock) -> None:
        self.name = name
        self._drain = drain
        self._clock = clock
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.idle = asyncio.Event()  # set whenever a drain found nothing more to do

    def wake(self) -> None:
        self._wake.set()
        self.idle.clear()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        delay = FIRST_RETRY
        while self._wake.is_set():
            self._wake.clear()
            try:
                await self._drain()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s failed; retrying in %.0f s", self.name, delay)
                await self._clock.sleep(delay)
                delay = min(delay * 2, LAST_RETRY)
                self._wake.set()
            else:
                delay = FIRST_RETRY
        self.idle.set()
