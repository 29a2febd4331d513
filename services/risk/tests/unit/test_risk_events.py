"""Mapping identity's HouseholdChanged to risk's domain."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mimamori.events.identity.v1 import person_pb2
from mimamori.risk.adapters.events import announced_at, household_from_event


def test_household_changed_maps_every_member_and_keeps_raw_birth_dates() -> None:
    message = person_pb2.HouseholdChanged(
        household_id="h1",
        setai_code="0000000001",
        version=7,
        members=[
            person_pb2.HouseholdMember(
                person_id="p1",
                zokugara="世帯主",
                birth_date="1988-05-01",
                sex="2",
                resident=True,
                dv_support=True,
            ),
            person_pb2.HouseholdMember(person_id="p2", zokugara="子", birth_date="20150000", sex="1"),
            person_pb2.HouseholdMember(
                person_id="p3", zokugara="子", birth_date="2016-01-02", birth_date_raw="20160102", sex="1"
            ),
        ],
    )
    household = household_from_event(message)
    assert (household.household_id, household.setai_code, household.version) == ("h1", "0000000001", 7)
    head, kid, raw = household.members
    assert head.dv_support and head.resident and head.birth_date.exact is not None
    assert not kid.resident and kid.birth_date.raw == "20150000" and kid.birth_date.exact is None
    assert raw.birth_date.raw == "20160102"


def test_announcement_time_comes_from_the_event_or_now() -> None:
    assert announced_at("2026-04-01T00:00:00.000001+00:00") == datetime(2026, 4, 1, 0, 0, 0, 1, tzinfo=UTC)
    assert datetime.now(UTC) - announced_at("") < timedelta(seconds=5)
