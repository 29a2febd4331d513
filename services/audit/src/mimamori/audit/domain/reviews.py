"""Access reviews (アクセスレビュー): use at night or at the weekend (JST), break-glass, and mass lookups."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

JST = timezone(timedelta(hours=9), "JST")
NIGHT_STARTS = 22
NIGHT_ENDS = 6
SATURDAY = 5

NIGHT = "night"
WEEKEND = "weekend"
BREAK_GLASS = "break_glass"


def unusual_reasons(occurred_at: datetime, *, break_glass: bool) -> list[str]:
    """Why one access deserves a second look: night (22:00–06:00 JST), weekend (JST), break-glass."""
    local = occurred_at.astimezone(JST)
    reasons: list[str] = []
    if local.hour >= NIGHT_STARTS or local.hour < NIGHT_ENDS:
        reasons.append(NIGHT)
    if local.weekday() >= SATURDAY:
        reasons.append(WEEKEND)
    if break_glass:
        reasons.append(BREAK_GLASS)
    return reasons


@dataclass(frozen=True, slots=True)
class Touch:
    """One actor touching one person's data at one moment."""

    actor: str
    at: datetime
    person_id: str


@dataclass(frozen=True, slots=True)
class MassLookup:
    """A burst in which one actor touched more distinct persons in the window than the threshold."""

    actor: str
    window_start: datetime
    window_end: datetime
    persons: int


def mass_lookups(touches: Iterable[Touch], *, threshold: int, window: timedelta) -> list[MassLookup]:
    """Bursts of mass lookups, given the touches ordered by actor, then time.

    A sliding window: a burst opens when the distinct persons touched in the last `window` exceed the
    threshold and closes when they fall back; one finding per burst, with the highest count seen in it.
    """
    found: list[MassLookup] = []
    actor: str | None = None
    recent: deque[Touch] = deque()
    counts: Counter[str] = Counter()
    burst: MassLookup | None = None

    def close() -> None:
        nonlocal burst
        if burst is not None:
            found.append(burst)
            burst = None

    for touch in touches:
        if touch.actor != actor:
            close()
            actor = touch.actor
            recent.clear()
            counts.clear()
        recent.append(touch)
        counts[touch.person_id] += 1
        while touch.at - recent[0].at > window:
            gone = recent.popleft()
            counts[gone.person_id] -= 1
            if counts[gone.person_id] == 0:
                del counts[gone.person_id]
        distinct = len(counts)
        if distinct > threshold:
            if burst is None:
                burst = MassLookup(actor=touch.actor, window_start=recent[0].at, window_end=touch.at, persons=distinct)
            else:
                burst = MassLookup(
                    actor=burst.actor,
                    window_start=burst.window_start,
                    window_end=touch.at,
                    persons=max(burst.persons, distinct),
                )
        else:
            close()
    close()
    return found
