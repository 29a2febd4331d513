"""Access reviews: night and weekend in JST, break-glass, mass lookups in a sliding hour."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mimamori.audit.domain.reviews import MassLookup, Touch, mass_lookups, unusual_reasons

HOUR = timedelta(hours=1)


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 4, day, hour, minute, tzinfo=UTC)


def test_night_is_judged_in_japan_time() -> None:
    # 2026-04-01 is a Wednesday. 13:00 UTC = 22:00 JST; 12:59 UTC = 21:59 JST; 21:00 UTC = 06:00 JST next day.
    assert unusual_reasons(utc(1, 13), break_glass=False) == ["night"]
    assert unusual_reasons(utc(1, 12, 59), break_glass=False) == []
    assert unusual_reasons(utc(1, 20, 59), break_glass=False) == ["night"]
    assert unusual_reasons(utc(1, 21), break_glass=False) == []


def test_weekend_is_judged_in_japan_time() -> None:
    # Friday 2026-04-03 15:00 UTC is Saturday 00:00 JST (also night).
    assert unusual_reasons(utc(3, 15), break_glass=False) == ["night", "weekend"]
    assert unusual_reasons(utc(4, 3), break_glass=False) == ["weekend"]
    # Sunday 2026-04-05 15:00 UTC is Monday 00:00 JST.
    assert "weekend" not in unusual_reasons(utc(5, 15), break_glass=False)


def test_break_glass_is_always_flagged() -> None:
    assert unusual_reasons(utc(1, 3), break_glass=True) == ["break_glass"]


def test_more_persons_than_the_threshold_in_an_hour_is_a_mass_lookup() -> None:
    start = utc(1, 1)
    touches = [Touch("a", start + timedelta(minutes=i), f"p{i}") for i in range(6)]
    assert mass_lookups(touches, threshold=5, window=HOUR) == [
        MassLookup(actor="a", window_start=start, window_end=start + timedelta(minutes=5), persons=6)
    ]
    assert mass_lookups(touches, threshold=6, window=HOUR) == []


def test_the_same_person_many_times_is_not_a_mass_lookup() -> None:
    start = utc(1, 1)
    touches = [Touch("a", start + timedelta(minutes=i), "p1") for i in range(50)]
    assert mass_lookups(touches, threshold=5, window=HOUR) == []


def test_persons_spread_over_more_than_an_hour_are_not_a_mass_lookup() -> None:
    start = utc(1, 1)
    touches = [Touch("a", start + timedelta(minutes=20 * i), f"p{i}") for i in range(10)]
    assert mass_lookups(touches, threshold=4, window=HOUR) == []


def test_actors_are_counted_apart_and_each_burst_is_reported_once() -> None:
    start = utc(1, 1)
    burst = [Touch("a", start + timedelta(seconds=i), f"p{i}") for i in range(10)]
    later = [Touch("a", start + timedelta(hours=3, seconds=i), f"q{i}") for i in range(10)]
    other = [Touch("b", start + timedelta(seconds=i), f"p{i}") for i in range(3)]
    found = mass_lookups([*burst, *later, *other], threshold=5, window=HOUR)
    assert [(f.actor, f.persons) for f in found] == [("a", 10), ("a", 10)]
