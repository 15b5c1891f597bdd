"""The per-source token bucket, on a fake clock."""

from __future__ import annotations

from services.social_gateway.domain.rate_limit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_refill_per_source() -> None:
    clock = Clock()
    limiter = RateLimiter(rate_per_s=2.0, burst=3, clock=clock)
    assert [limiter.allow("a") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("b")
    clock.now = 0.5
    assert limiter.allow("a")
    assert not limiter.allow("a")
    assert limiter.retry_after_s() == 1


def test_memory_stays_bounded() -> None:
    clock = Clock()
    limiter = RateLimiter(rate_per_s=1.0, burst=1, clock=clock, max_sources=10)
    for source in range(100):
        assert limiter.allow(str(source))
    assert len(limiter._buckets) <= 10
