"""Mapping identity's events to risk's domain."""

from __future__ import annotations

from datetime import UTC, datetime

from mimamori.events.identity.v1 import person_pb2
from mimamori.risk.domain.household import BirthDate, Household, Member


def household_from_event(message: person_pb2.HouseholdChanged) -> Household:
    """The household a HouseholdChanged announces. The birth date is kept as the source wrote it when identity
    sends that; identity's relationship markers are not used: the rule's 続柄 reading is risk's own."""
    return Household(
        household_id=message.household_id,
        setai_code=message.setai_code,
        version=message.version,
        members=tuple(
            Member(
                person_id=m.person_id,
                zokugara=m.zokugara,
                birth_date=BirthDate.parse(m.birth_date_raw or m.birth_date),
                sex=m.sex,
                resident=m.resident,
                dv_support=m.dv_support,
            )
            for m in message.members
        ),
    )


def announced_at(event_time: str) -> datetime:
    """When identity published an event (its CloudEvents `time`); now, when the producer left it out."""
    try:
        parsed = datetime.fromisoformat(event_time)
    except ValueError:
        return datetime.now(UTC)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
