"""Exponential back-off with jitter, so that a down server is never hammered in a tight loop
and a thousand accounts do not all come back in the same second."""

from __future__ import annotations

import random

# Jitter needs no seed of its own per back-off: making a Random reads the OS's entropy, and a
# back-off is made for every message sent and every poll.
_SHARED_RNG = random.Random()


class Backoff:
    def __init__(
        self,
        initial: float = 1.0,
        maximum: float = 60.0,
        jitter: float = 0.2,
        rng: random.Random | None = None,
    ) -> None:
        self.initial = initial
        self.maximum = maximum
        self.jitter = jitter
        self.failures = 0
        self._rng = rng or _SHARED_RNG

    def base_delay(self, failures: int) -> float:
        """The delay before jitter after ``failures`` consecutive failures (1 → initial)."""
        exponent = min(max(failures - 1, 0), 64)  # 2**64 s is past any maximum
        return float(min(self.initial * 2**exponent, self.maximum))

    def next_delay(self) -> float:
        """Count one more failure; the seconds to wait before trying again."""
        self.failures += 1
        spread = self._rng.uniform(-self.jitter, self.jitter)
        return self.base_delay(self.failures) * (1 + spread)

    def reset(self) -> None:
        self.failures = 0
