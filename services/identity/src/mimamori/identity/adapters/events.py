"""Mapping between identity's domain and the event contracts (proto/mimamori/events)."""

from __future__ import annotations

from typing import Any

from google.protobuf.json_format import MessageToDict

from mimamori.events.common.v1 import provenance_pb2
from mimamori.events.identity.v1 import person_pb2
from mimamori.events.ingest.v1 import person_record_pb2, source_record_pb2
from mimamori.identity.adapters.references import StoredReference
from mimamori.identity.domain.household import Household
from mimamori.identity.domain.model import Change, Link, MatchGrade, Provenance, RecordValues, SourceDate

_CHANGES = {
    person_record_pb2.RECORD_CHANGE_ADDED: Change.ADDED,
    person_record_pb2.RECORD_CHANGE_CHANGED: Change.CHANGED,
    person_record_pb2.RECORD_CHANGE_REMOVED: Change.REMOVED,
}

_GRADES = {
    MatchGrade.CERTAIN: person_pb2.MATCH_GRADE_CERTAIN,
    MatchGrade.PROBABLE: person_pb2.MATCH_GRADE_PROBABLE,
    MatchGrade.POSSIBLE: person_pb2.MATCH_GRADE_POSSIBLE,
    MatchGrade.CERTAINLY_NOT: person_pb2.MATCH_GRADE_CERTAINLY_NOT,
}


def _date(value: person_record_pb2.SourceDate) -> SourceDate:
    return SourceDate(raw=value.raw, iso=value.iso)


def change_of(message: person_record_pb2.PersonRecordReceived) -> Change:
    """What the delivery says happened (an unspecified change is treated as a change of values)."""
    return _CHANGES.get(message.change, Change.CHANGED)


def values_of(message: person_record_pb2.PersonRecordReceived) -> RecordValues:
    """The record's values exactly as delivered."""
    return RecordValues(
        atena_no=message.atena_no,
        setai_code=message.setai_code,
        name=message.name,
        name_kana=message.name_kana,
        sex=message.sex,
        birth_date=_date(message.birth_date),
        zokugara=message.zokugara,
        address=message.address,
        resident_since=_date(message.resident_since),
        change_reason=message.change_reason,
        change_date=_date(message.change_date),
        resident_status=message.resident_status,
        dv_support=message.dv_support,
    )


def provenance_of(message: person_record_pb2.PersonRecordReceived) -> Provenance:
    """Where the record came from."""
    p = message.provenance
    return Provenance(file_name=p.file_name, row=p.row, file_sha256=p.file_sha256, load_run_id=p.load_run_id)


def as_received(message: person_record_pb2.PersonRecordReceived) -> dict[str, Any]:
    """The whole delivered message as JSON-ready data, every field present, characters untouched."""
    return MessageToDict(message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True)


def person_linked(link: Link, *, source: str, atena_no: str, created: bool) -> person_pb2.PersonLinked:
    """The event of a new link."""
    return person_pb2.PersonLinked(
        person_id=link.person_id,
        record_key=link.record_key,
        source=source,
        grade=_GRADES[link.grade],
        atena_no=atena_no,
        created=created,
        reason=link.reason.value,
    )


def household_changed(household: Household) -> person_pb2.HouseholdChanged:
    """The event of a household's full membership as of its month."""
    return person_pb2.HouseholdChanged(
        household_id=household.id,
        setai_code=household.setai_code,
        version=household.version,
        month=household.month,
        members=[
            person_pb2.HouseholdMember(
                person_id=m.person_id,
                zokugara=m.zokugara,
                birth_date=m.birth_date.iso or m.birth_date.raw,
                birth_date_raw=m.birth_date.raw,
                sex=m.sex,
                resident=m.resident,
                dv_support=m.dv_support,
                is_head=m.is_head,
                parent_person_ids=list(m.parent_person_ids),
                sibling_person_ids=list(m.sibling_person_ids),
            )
            for m in household.members
        ],
    )


_REF_CHANGES = {
    person_record_pb2.RECORD_CHANGE_ADDED: Change.ADDED,
    person_record_pb2.RECORD_CHANGE_CHANGED: Change.CHANGED,
    person_record_pb2.RECORD_CHANGE_REMOVED: Change.REMOVED,
}


def source_change_of(message: source_record_pb2.SourceRecordReceived) -> Change:
    """What the delivery says happened to a source record."""
    return _REF_CHANGES.get(message.change, Change.CHANGED)


def references_given(message: source_record_pb2.SourceRecordReceived) -> list[dict[str, Any]]:
    """Each PersonReference exactly as delivered, every field present."""
    return [
        MessageToDict(ref, preserving_proto_field_name=True, always_print_fields_with_no_presence=True)
        for ref in message.persons
    ]


def source_provenance_of(message: source_record_pb2.SourceRecordReceived) -> Provenance:
    """Where a source record came from."""
    p = message.provenance
    return Provenance(file_name=p.file_name, row=p.row, file_sha256=p.file_sha256, load_run_id=p.load_run_id)


def grade_of(value: str) -> int:
    """The contract's grade of a stored grade (no-match travels as UNSPECIFIED)."""
    try:
        return _GRADES.get(MatchGrade(value), person_pb2.MATCH_GRADE_UNSPECIFIED)
    except ValueError:
        return person_pb2.MATCH_GRADE_UNSPECIFIED


def reference_resolved(ref: StoredReference) -> person_pb2.ReferenceResolved:
    """The event of a reference's (new) answer."""
    p = ref.provenance
    return person_pb2.ReferenceResolved(
        record_key=ref.record_key,
        source=ref.source,
        reference_index=ref.idx,
        role=ref.reference.role,
        person_id=ref.person_id or "",
        grade=grade_of(ref.grade),  # type: ignore[arg-type]
        reason=ref.reason,
        provenance=provenance_pb2.SourceRef(
            source=ref.source,
            municipality_code=ref.municipality,
            file_name=p.file_name,
            row=p.row,
            file_sha256=p.file_sha256,
            load_run_id=p.load_run_id,
        ),
        version=ref.version,
        removed=not ref.present,
    )


def persons_merged(*, surviving: str, merged: str, merge_id: str, actor: str) -> person_pb2.PersonsMerged:
    """The event of a merge."""
    return person_pb2.PersonsMerged(
        surviving_person_id=surviving, merged_person_id=merged, merge_id=merge_id, actor=actor
    )


def person_unmerged(*, surviving: str, restored: str, merge_id: str, actor: str) -> person_pb2.PersonUnmerged:
    """The event of an unmerge."""
    return person_pb2.PersonUnmerged(
        surviving_person_id=surviving, restored_person_id=restored, merge_id=merge_id, actor=actor
    )
