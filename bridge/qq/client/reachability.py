"""One shared answer to "does the QQ server answer?", so an outage costs one probe, not one
doomed request per account, and every account resumes within seconds of the server's return.

When a request finds the server unreachable (``ServerUnreachable``: no connection, or no
reply in time) the transport calls ``lost``. From then on it sends nothing for the clients
(each ``post`` fails at once) and ONE task probes the server every ``interval`` seconds.
Clients wait in ``wait`` (capped by their own back-off, in case the probe is wrong). The
first probe that gets an answer wakes them all, each after a random part of ``spread``
seconds so that 10,000 accounts do not all send in the same instant.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable

from ..clock import Clock

log = logging.getLogger(__name__)

Probe = Callable[[], Awaitable[bool]]  # True when the server answered


class Reachability:
    def __init__(
        self,
        probe: Probe,
        clock: Clock,
        interval: float = 1.0,
        spread: float = 1.0,
        rng: random.Random | None = None,
    ) -> None:
        """``interval``: seconds between probes (our choice: 1 s, so recovery is seen within
        about a second plus one probe's time-out); ``spread``: the wake-up is delayed by a
        uniform random 0 to ``spread`` seconds per waiter (our choice: 1 s)."""
        self._probe = probe
        self._clock = clock
        self.interval = interval
        self.spread = spread
        self._rng = rng or random.Random()
        self._reachable = True
        self._back: asyncio.Event | None = None  # set when reachable; made inside the loop
        self._prober: asyncio.Task[None] | None = None

    @property
    def reachable(self) -> bool:
        return self._reachable

    def lost(self) -> None:
        """A request found the server unreachable: start probing (one task however many
        requests failed)."""
        if self._reachable:
            log.warning("the QQ server is unreachable; probing it every %.1f s", self.interval)
        self._reachable = False
        self._event().clear()
        if self._prober is None or self._prober.done():
            self._prober = asyncio.create_task(self._probe_until_back(), name="qq-probe")

    def found(self) -> None:
        """The server answered (a probe, or a request already under way)."""
        if not self._reachable:
            log.info("the QQ server answers again")
        self._reachable = True
        self._event().set()

    async def wait(self) -> None:
        """Return when the server is reachable: at once if it is, else once a probe got an
        answer and this waiter's share of ``spread`` has passed."""
        if self._reachable:
            return
        await self._event().wait()
        await self._clock.sleep(self._rng.uniform(0, self.spread))

    async def close(self) -> None:
        """Stop probing and forget the outage: no prober is left to end it."""
        self._reachable = True
        self._event().set()
        prober, self._prober = self._prober, None
        if prober is not None:
            prober.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await prober

    def _event(self) -> asyncio.Event:
        if self._back is None:
            self._back = asyncio.Event()
            if self._reachable:
                self._back.set()
        return self._back

    async def _probe_until_back(self) -> None:
        while not self._reachable:
            await self._clock.sleep(self.interval)
            if self._reachable:  # a request under way got through meanwhile
                return
            try:
                answered = await self._probe()
            except Exception:  # a probe must not die and leave every client waiting
                log.exception("QQ server probe failed")
                answered = False
            if answered:
                self.found()


async def sleep_or_until(clock: Clock, seconds: float, event: Awaitable[object]) -> None:
    """Sleep ``seconds`` on ``clock``, or less: return as soon as ``event`` completes."""
    sleeper = asyncio.ensure_future(clock.sleep(seconds))
    waiter = asyncio.ensure_future(event)
    try:
        await asyncio.wait({sleeper, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sleeper, waiter):
            task.cancel()
        await asyncio.gather(sleeper, waiter, return_exceptions=True)
