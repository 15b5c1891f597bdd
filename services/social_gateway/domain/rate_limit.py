"""A token bucket per source, so one misbehaving sender cannot starve the others."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated_at: float


class RateLimiter:
    def __init__(
        self, rate_per_s: float, burst: int, clock: Callable[[], float] = time.monotonic, max_sources: int = 10_000
    ) -> None:
        self._rate = rate_per_s
        self._burst = float(burst)
        self._clock = clock
        self._max_sources = max_sources
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def allow(self, source: str) -> bool:
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(source)
            if bucket is None:
                if len(self._buckets) >= self._max_sources:
                    self._forget_full_buckets(now)
                bucket = self._buckets[source] = _Bucket(self._burst, now)
            bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.updated_at) * self._rate)
            bucket.updated_at = now
            if bucket.tokens < 1.0:
                return False
            bucket.tokens -= 1.0
            return True

    def retry_after_s(self) -> int:
        return max(1, int(1.0 / self._rate + 0.999))

    def _forget_full_buckets(self, now: float) -> None:
        # A bucket that has refilled completely carries no state worth keeping.
        idle = [
            source
            for source, bucket in self._buckets.items()
            if bucket.tokens + (now - bucket.updated_at) * self._rate >= self._burst
        ]
        for source in idle:
            del self._buckets[source]
        if len(self._buckets) >= self._max_sources:
            self._buckets.clear()
