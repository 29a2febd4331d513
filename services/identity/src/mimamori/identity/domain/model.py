"""The master person index: source records kept as they came, persons, and graded links between them."""

from __future__ import annotations

import calendar
import enum
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

RESIDENT = "住民"
REMOVED = "消除"


class MatchGrade(enum.StrEnum):
    """How sure a link is (the grades of FHIR `$match`). Only `certain` links without a person's review."""

    CERTAIN = "certain"
    PROBABLE = "probable"
    POSSIBLE = "possible"
    CERTAINLY_NOT = "certainly-not"
    NO_MATCH = "no-match"  # no resident fits at all (e.g. a family from outside the town)


class LinkReason(enum.StrEnum):
    """Why a source record links to a person."""

    SAME_ATENA_NO = "atena_no"  # the record carries the person's 宛名番号 (person code)


class Change(enum.StrEnum):
    """What the source's snapshot says happened to a record."""

    ADDED = "added"
    CHANGED = "changed"
    REMOVED = "removed"  # absent from a new full snapshot


@dataclass(frozen=True, slots=True)
class SourceDate:
    """A date as the source wrote it (kept even when not on the calendar), parsed when it is a date."""

    raw: str = ""
    iso: str = ""

    @property
    def parsed(self) -> date | None:
        """The calendar date, or None for a partly unknown or impossible date."""
        return date.fromisoformat(self.iso) if self.iso else None

    def latest_possible(self) -> date | None:
        """The latest calendar day the raw value can stand for ("19500000" → 1950-12-31), or None."""
        if self.iso:
            return date.fromisoformat(self.iso)
        raw = self.raw
        if len(raw) != 8 or not raw.isdigit() or int(raw[:4]) < 1:
            return None
        year, month, day = int(raw[:4]), int(raw[4:6]), int(raw[6:])
        if month == 0:
            return date(year, 12, 31)
        if month > 12:
            return None
        last = calendar.monthrange(year, month)[1]
        return date(year, month, last if day == 0 or day > last else day)


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a record's values came from: the delivered file and its row."""

    file_name: str = ""
    row: int = 0
    file_sha256: str = ""
    load_run_id: str = ""


@dataclass(frozen=True, slots=True)
class RecordValues:
    """The values of one 住民記録 row as the source gave them (legal characters, IVS and 外字 intact)."""

    atena_no: str
    setai_code: str = ""
    name: str = ""
    name_kana: str = ""
    sex: str = ""
    birth_date: SourceDate = SourceDate()
    zokugara: str = ""
    address: str = ""
    resident_since: SourceDate = SourceDate()
    change_reason: str = ""
    change_date: SourceDate = SourceDate()
    resident_status: str = ""
    dv_support: bool = False


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """The current state of one source record (its earlier versions are kept beside it)."""

    record_key: str
    source: str
    municipality: str
    values: RecordValues
    present: bool
    provenance: Provenance
    version: int = 1

    @property
    def resident(self) -> bool:
        """Whether the record says the person lives in the town now: in the snapshot and not 消除."""
        return self.present and self.values.resident_status != REMOVED

    @property
    def resident_status(self) -> str:
        """住民 or 消除."""
        return RESIDENT if self.resident else REMOVED


@dataclass(frozen=True, slots=True)
class RecordUpdate:
    """A record before and after one delivery, and what that changed."""

    before: SourceRecord | None
    after: SourceRecord

    @property
    def changed(self) -> bool:
        """Whether the delivery changed anything (an unchanged re-load changes nothing)."""
        return self.before is None or (self.before.values, self.before.present) != (
            self.after.values,
            self.after.present,
        )

    @property
    def name_changed(self) -> bool:
        """Whether the name or its kana is new (a first sight counts)."""
        if self.before is None:
            return True
        old, new = self.before.values, self.after.values
        return (old.name, old.name_kana) != (new.name, new.name_kana)

    @property
    def moved_from(self) -> str | None:
        """The 世帯コード (household code) the record left, when it moved to another household."""
        if self.before is None or self.before.values.setai_code == self.after.values.setai_code:
            return None
        return self.before.values.setai_code or None

    @property
    def households(self) -> tuple[str, ...]:
        """Every 世帯コード whose membership this update may touch."""
        codes = [self.moved_from or "", self.after.values.setai_code]
        return tuple(dict.fromkeys(code for code in codes if code))


def receive_record(
    existing: SourceRecord | None,
    *,
    record_key: str,
    source: str,
    municipality: str,
    change: Change,
    values: RecordValues,
    provenance: Provenance,
) -> RecordUpdate:
    """Apply one delivered record. A removal may carry only its key: then the last known values stay."""
    present = change is not Change.REMOVED
    if not present and existing is not None and not values.atena_no:
        values = existing.values
    if existing is None:
        after = SourceRecord(
            record_key=record_key,
            source=source,
            municipality=municipality,
            values=values,
            present=present,
            provenance=provenance,
        )
        return RecordUpdate(before=None, after=after)
    candidate = replace(existing, values=values, present=present)
    if (candidate.values, candidate.present) == (existing.values, existing.present):
        return RecordUpdate(before=existing, after=existing)
    return RecordUpdate(before=existing, after=replace(candidate, provenance=provenance, version=existing.version + 1))


@dataclass(frozen=True, slots=True)
class Person:
    """One human being, as the index knows them."""

    id: str
    atena_no: str | None
    created_at: datetime

    @classmethod
    def first_seen(cls, *, atena_no: str | None) -> Person:
        """A new person, created on first sight of their 宛名番号."""
        return cls(id=str(uuid.uuid4()), atena_no=atena_no, created_at=datetime.now(UTC))


@dataclass(frozen=True, slots=True)
class Link:
    """A source record belongs to a person, with a grade and the reason."""

    record_key: str
    person_id: str
    grade: MatchGrade
    reason: LinkReason
    linked_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def link_by_atena_no(record: SourceRecord, person: Person) -> Link:
    """The certain link of a record that carries the person's 宛名番号."""
    if not record.values.atena_no or record.values.atena_no != person.atena_no:
        raise ValueError("the record does not carry this person's 宛名番号")
    return Link(
        record_key=record.record_key,
        person_id=person.id,
        grade=MatchGrade.CERTAIN,
        reason=LinkReason.SAME_ATENA_NO,
    )


def primary_record(linked: Sequence[tuple[SourceRecord, Link]]) -> SourceRecord | None:
    """The record that speaks for the person: certainly linked, carrying a 宛名番号, in its snapshot."""
    if not linked:
        return None
    ranked = sorted(
        linked,
        key=lambda pair: (
            pair[1].grade is MatchGrade.CERTAIN,
            bool(pair[0].values.atena_no),
            pair[0].present,
            pair[0].record_key,
        ),
    )
    return ranked[-1][0]
