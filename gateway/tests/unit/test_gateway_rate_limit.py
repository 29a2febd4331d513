"""The per-subject token bucket."""

from __future__ import annotations

from mimamori.gateway.domain.rate_limit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_burst_passes_then_the_next_request_waits_for_a_token() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=2.0, burst=3, clock=clock)
    assert [limiter.admit("u1") for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.admit("u1")
    assert 0.49 < wait <= 0.5
    clock.now += 0.5
    assert limiter.admit("u1") == 0.0
    assert limiter.admit("u1") > 0


def test_subjects_have_their_own_buckets() -> None:
    limiter = RateLimiter(rate=1.0, burst=1, clock=Clock())
    assert limiter.admit("u1") == 0.0
    assert limiter.admit("u1") > 0
    assert limiter.admit("u2") == 0.0


def test_refill_never_exceeds_the_burst() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=10.0, burst=2, clock=clock)
    limiter.admit("u1")
    clock.now += 3600
    assert [limiter.admit("u1") == 0.0 for _ in range(3)] == [True, True, False]


def test_rate_zero_disables_the_limit() -> None:
    limiter = RateLimiter(rate=0, burst=1, clock=Clock())
    assert all(limiter.admit("u1") == 0.0 for _ in range(1000))
