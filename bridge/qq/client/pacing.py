"""A minimum interval between actions, waited out on the injected clock."""

from __future__ import annotations

from ..clock import Clock


class Pacer:
    def __init__(self, clock: Clock, interval: float) -> None:
        self._clock = clock
        self.interval = interval
        self._next_allowed = float("-inf")

    async def wait(self) -> None:
        """Return once ``interval`` seconds have passed since the last ``mark``."""
        delay = self._next_allowed - self._clock.now()
        if delay > 0:
            await self._clock.sleep(delay)

    def mark(self) -> None:
        """The action happened now."""
        self._next_allowed = self._clock.now() + self.interval

    def hold_off(self, seconds: float) -> None:
        """Allow nothing for ``seconds`` from now (a penalty)."""
        self._next_allowed = max(self._next_allowed, self._clock.now() + seconds)
