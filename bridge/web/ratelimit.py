"""A token bucket per client: a burst of ``capacity`` requests, then ``rate`` a second."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

MAX_CLIENTS = 10_000  # buckets kept; past that the full (idle) ones are forgotten


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """``limiter.allow(key)``: True if ``key`` (a client address) may make a request now."""

    def __init__(self, capacity: float, rate: float, now: Callable[[], float]) -> None:
        self.capacity, self.rate, self._now = capacity, rate, now
        self._buckets: dict[str, _Bucket] = {}

    def allow(self, key: str) -> bool:
        now = self._now()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= MAX_CLIENTS:
                self._forget_full(now)
            bucket = self._buckets[key] = _Bucket(self.capacity, now)
        bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        return True

    def retry_after(self, key: str) -> float:
        """Seconds until ``key`` has a token again (0 if it has one)."""
        bucket = self._buckets.get(key)
        if bucket is None or bucket.tokens >= 1:
            return 0.0
        return (1 - bucket.tokens) / self.rate

    def reset(self) -> None:
        self._buckets.clear()

    def _forget_full(self, now: float) -> None:
        for key, bucket in list(self._buckets.items()):
            if bucket.tokens + (now - bucket.updated) * self.rate >= self.capacity:
                del self._buckets[key]
