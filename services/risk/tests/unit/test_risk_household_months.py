"""Households by month: where an announcement goes in a household's timeline, and which snapshot holds in a month."""

from __future__ import annotations

import itertools

import pytest

from mimamori.risk.domain.household import Placement, Timeline, in_force


def apply(timeline: Timeline, month_from: str, version: int) -> Timeline:
    """What the repository stores for each placement, on the timeline alone."""
    placement = timeline.place(month_from=month_from, version=version)
    past = dict(timeline.past)
    if placement is Placement.STALE:
        return timeline
    if placement is Placement.RESET:
        return Timeline(current=(month_from, version))
    if placement is Placement.HISTORY:
        past[month_from] = version
        return Timeline(current=timeline.current, past=past)
    if placement is Placement.SUPERSEDE and timeline.current is not None:
        past[timeline.current[0]] = timeline.current[1]
    return Timeline(current=(month_from, version), past=past)


def test_first_announcement_becomes_the_latest_snapshot() -> None:
    assert Timeline().place(month_from="202604", version=1) is Placement.CURRENT


@pytest.mark.parametrize(("version", "expected"), [(4, Placement.STALE), (5, Placement.RESET), (6, Placement.RESET)])
def test_without_months_a_lower_version_is_stale_and_an_equal_or_higher_one_replaces(
    version: int, expected: Placement
) -> None:
    assert Timeline(current=("", 5)).place(month_from="", version=version) is expected


def test_a_later_month_keeps_the_earlier_snapshot_as_history() -> None:
    timeline = Timeline(current=("202604", 3))
    assert timeline.place(month_from="202605", version=4) is Placement.SUPERSEDE


@pytest.mark.parametrize(
    ("version", "expected"), [(2, Placement.STALE), (3, Placement.CURRENT), (4, Placement.CURRENT)]
)
def test_same_month_replaces_unless_its_version_is_lower(version: int, expected: Placement) -> None:
    assert Timeline(current=("202604", 3)).place(month_from="202604", version=version) is expected


def test_an_earlier_month_goes_to_history_unless_that_month_holds_a_higher_version() -> None:
    timeline = Timeline(current=("202606", 5), past={"202604": 3})
    assert timeline.place(month_from="202605", version=4) is Placement.HISTORY  # a month not stored yet
    assert timeline.place(month_from="202604", version=6) is Placement.HISTORY  # a correction of April
    assert timeline.place(month_from="202604", version=2) is Placement.STALE


def test_an_announcement_without_a_month_replaces_everything_unless_stale() -> None:
    timeline = Timeline(current=("202606", 5), past={"202604": 7})
    assert timeline.place(month_from="", version=7) is Placement.RESET
    assert timeline.place(month_from="", version=6) is Placement.STALE  # April's snapshot is newer
    assert Timeline().place(month_from="", version=1) is Placement.RESET


def test_a_month_after_an_unmonthed_snapshot_supersedes_it_for_later_months() -> None:
    timeline = apply(Timeline(current=("", 2)), "202605", 3)
    assert timeline == Timeline(current=("202605", 3), past={"": 2})
    assert in_force(timeline.months(), "202604") == ""
    assert in_force(timeline.months(), "202605") == "202605"


@pytest.mark.parametrize(
    ("month", "expected"),
    [("202603", None), ("202604", "202604"), ("202605", "202604"), ("202606", "202606"), ("202701", "202606")],
)
def test_the_snapshot_in_force_is_the_latest_at_or_before_the_month(month: str, expected: str | None) -> None:
    assert in_force(["202606", "202604"], month) == expected


def test_an_unmonthed_snapshot_is_in_force_in_every_month() -> None:
    assert in_force([""], "190001") == "" and in_force([""], "209912") == ""


def test_holds_until_the_next_snapshot() -> None:
    timeline = Timeline(current=("202606", 5), past={"202604": 3})
    assert timeline.holds_until("202604") == "202606"
    assert timeline.holds_until("202605") == "202606"
    assert timeline.holds_until("202606") is None


def test_announcements_in_any_order_leave_the_same_timeline() -> None:
    announcements = [("202604", 1), ("202605", 2), ("202604", 3), ("202606", 4), ("202605", 2)]
    timelines = set()
    for order in itertools.permutations(announcements):
        timeline = Timeline()
        for month_from, version in order:
            timeline = apply(timeline, month_from, version)
        timelines.add((timeline.current, tuple(sorted(timeline.past.items()))))
    assert timelines == {(("202606", 4), (("202604", 3), ("202605", 2)))}
