"""A background loop that drains work kept in the database, woken whenever new work arrives.

The queue itself lives in SQL (the inbound journal, the outbound queue), so a wake-up carries no
data: the loop just drains what is pending, in order. A failure backs off (the client's one
back-off policy, with jitter) and retries the same work, so order is kept and nothing is skipped
silently. ``retry_now`` cuts a back-off short: the bridge calls it when the homeserver is seen
again, so a queue held up by an outage resumes within seconds, not after the back-off.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from .qq.client import Backoff
from .qq.clock import Clock

log = logging.getLogger("bridge.worker")

FIRST_RETRY = 1.0
# A retry is cheap; waiting is what costs users. Recovery from a homeserver outage does not
# wait for this either: retry_now() ends the back-off as soon as the homeserver answers.
LAST_RETRY = 30.0
JITTER = 0.2


class Worker:
    def __init__(self, name: str, drain: Callable[[], Awaitable[None]], clock: Clock) -> None:
        self.name = name
        self._drain = drain
        self._clock = clock
        self._wake = asyncio.Event()
        self._retry = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopped = False
        self._backoff = Backoff(FIRST_RETRY, LAST_RETRY, JITTER)
        self.idle = asyncio.Event()  # set whenever a drain found nothing more to do

    @property
    def backing_off(self) -> bool:
        """True while the last drain failed and the worker waits to retry it."""
        return self._backoff.failures > 0

    def wake(self) -> None:
        if self._stopped:
            return  # shutting down: the work stays in the database for the next start
        self._wake.set()
        self.idle.clear()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name=self.name)

    def retry_now(self) -> None:
        """End a back-off at once; if called while a drain runs, a failure of that drain is
        retried without waiting."""
        self._retry.set()

    async def stop(self) -> None:
        self._stopped = True
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        while self._wake.is_set():
            self._wake.clear()
            self._retry.clear()
            try:
                await self._drain()
            except asyncio.CancelledError:
                raise
            except Exception:
                delay = self._backoff.next_delay()
                log.exception("%s failed; retrying in %.1f s", self.name, delay)
                await self._pause(delay)
                self._wake.set()
            else:
                self._backoff.reset()
        self.idle.set()

    async def _pause(self, seconds: float) -> None:
        """Sleep ``seconds`` on the clock, or less if retry_now() is called meanwhile.

        New work arriving does not end the pause: a queue that fails because the homeserver
        is away must not retry once per incoming message.
        """
        sleep = asyncio.ensure_future(self._clock.sleep(seconds))
        retry = asyncio.ensure_future(self._retry.wait())
        try:
            await asyncio.wait({sleep, retry}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in (sleep, retry):
                waiter.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await waiter
