"""A token bucket per subject: a steady rate with room for short bursts."""

from __future__ import annotations

import time
from collections.abc import Callable

MAX_SUBJECTS = 50_000


class RateLimiter:
    """Admits `rate` requests per second per subject on average, `burst` at once; rate 0 admits everything."""

    def __init__(self, *, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate = rate
        self._burst = float(max(burst, 1))
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # subject -> (tokens, at)

    def admit(self, subject: str) -> float:
        """0.0 when admitted (one token taken), else the seconds until the next token."""
        if self._rate <= 0:
            return 0.0
        now = self._clock()
        tokens, at = self._buckets.get(subject, (self._burst, now))
        tokens = min(self._burst, tokens + (now - at) * self._rate)
        if tokens < 1.0:
            self._buckets[subject] = (tokens, now)
            return (1.0 - tokens) / self._rate
        if len(self._buckets) >= MAX_SUBJECTS and subject not in self._buckets:
            self._forget_full(now)
        self._buckets[subject] = (tokens - 1.0, now)
        return 0.0

    def _forget_full(self, now: float) -> None:
        """Drop buckets that have refilled: a returning subject starts full anyway."""
        full = [s for s, (t, at) in self._buckets.items() if t + (now - at) * self._rate >= self._burst]
        for subject in full:
            del self._buckets[subject]
