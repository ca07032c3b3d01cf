"""Logins resumed at start-up, spaced out: after a restart with 10,000 stored logins, the QQ
server must not see 10,000 Login requests at once.

Each resume takes the next turn; turns are ``1 / rate`` seconds apart on average, each gap drawn
at random between half and one and a half of that (jitter, so that two bridges restarted
together do not stay in step), after a first ``BURST`` that go at once (a bridge of a few users
resumes as quickly as before). The rate is ``qq.login_rate`` (our choice: the seeds give the
server's penalties for messages, not for logins).
"""

from __future__ import annotations

import logging
import random

from .qq.clock import Clock

log = logging.getLogger("bridge.pacing")

JITTER = 0.5  # each gap is (1 +- JITTER) / rate seconds
BURST = 10  # logins that need not wait for a turn when none waited for a while: no storm


class LoginPacer:
    def __init__(
        self, rate: float, clock: Clock, rng: random.Random | None = None, burst: int = BURST
    ) -> None:
        """``rate``: logins per second on average; 0 lets every login go at once."""
        if rate < 0 or burst < 1:
            raise ValueError("rate must be 0 (no pacing) or positive, burst at least 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._rng = rng or random.Random()
        # The next turn's time; starting ``burst`` turns in the past lets the first go at once.
        self._next = clock.now() - ((burst - 1) / rate if rate else 0.0)
        self.waiting = 0  # resumes waiting for their turn now (admin stats, the benchmark)
        self.granted = 0  # turns given so far

    def queue_seconds(self) -> float:
        """How long from now until the last turn handed out so far comes."""
        return max(0.0, self._next - self._clock.now())

    async def turn(self) -> None:
        """Wait for this login's turn. Turns are handed out in call order."""
        if self.rate > 0:
            now = self._clock.now()
            # A turn's time: the last one's plus a gap, but never more than ``burst`` turns
            # behind now (the credit of a pacer that was idle).
            slot = max(self._next, now - (self.burst - 1) / self.rate)
            gap = self._rng.uniform(1 - JITTER, 1 + JITTER) / self.rate
            self._next = slot + gap  # reserved before sleeping: the next caller queues behind
            if slot > now:
                self.waiting += 1
                try:
                    await self._clock.sleep(slot - now)
                finally:
                    self.waiting -= 1
        self.granted += 1
