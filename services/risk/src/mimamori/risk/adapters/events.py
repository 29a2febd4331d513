"""Mapping identity's events to risk's domain."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.message import Message

from mimamori.events.casework.v1 import case_pb2
from mimamori.events.identity.v1 import person_pb2
from mimamori.events.ingest.v1 import person_record_pb2, source_record_pb2
from mimamori.risk.domain.cases import STATUSES, CaseStatus
from mimamori.risk.domain.facts import FactVersion, Origin
from mimamori.risk.domain.household import BirthDate, Household, Member


def household_from_event(message: person_pb2.HouseholdChanged) -> Household:
    """The household a HouseholdChanged announces, as of its month (empty from older producers: every month).
    The birth date is kept as the source wrote it when identity
    sends that; identity's relationship markers are not used: the rule's 続柄 reading is risk's own."""
    return Household(
        household_id=message.household_id,
        setai_code=message.setai_code,
        version=message.version,
        month_from=message.month,
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


# Fields that name a person (they travel as PersonReference too) or are free: never kept as a fact's field.
_PERSONAL_FIELDS = frozenset({"guardian_name"})


def fact_version_from_event(message: source_record_pb2.SourceRecordReceived) -> FactVersion | None:
    """The fact version a source record announces; None for a record without a body risk knows."""
    kind = message.WhichOneof("body")
    if kind is None:
        return None
    body = getattr(message, kind)
    fields: dict[str, str] = {}
    for descriptor, value in body.ListFields():
        if descriptor.name in _PERSONAL_FIELDS:
            continue
        if descriptor.message_type is not None:
            fields[descriptor.name] = value.iso or ""
        elif isinstance(value, bool):
            fields[descriptor.name] = "true" if value else "false"
        else:
            fields[descriptor.name] = str(value).strip()
    if kind == "consultation" and not fields.get("system"):
        fields["system"] = message.provenance.source
    provenance = message.provenance
    return FactVersion(
        record_key=message.record_key,
        month=message.month,
        kind=kind,
        removed=message.change == person_record_pb2.RECORD_CHANGE_REMOVED,
        fields=fields,
        origin=Origin(source=provenance.source, file=provenance.file_name, row=provenance.row),
    )


def case_status_from_event(message: Message) -> CaseStatus | None:
    """The case status a CaseOpened or CaseStatusChanged announces (None for another message or an unknown status)."""
    if not isinstance(message, case_pb2.CaseOpened | case_pb2.CaseStatusChanged):
        return None
    status = case_pb2.CaseStatus.Name(message.status).removeprefix("CASE_STATUS_").lower()
    if status not in STATUSES or not message.case_id or not message.person_id:
        return None
    return CaseStatus(case_id=message.case_id, person_id=message.person_id, status=status, version=message.version)
