"""Facts: what the town's sources say about persons, as risk keeps them (one source record, as of a month).

A fact is one source record (ingest's SourceRecordReceived) with the persons identity resolved it to. Its
fields are the body's canonical fields as text (dates ISO `YYYY-MM-DD`, months `YYYY-MM`); free text never
reaches risk. Each fact keeps where it came from (source, file, row), which is what an explanation shows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from mimamori.risk.domain.month import AssessmentMonth

# Sources whose monthly files hold only that month's events: their history is the union of the months
# delivered, so a record is removed only by a corrected delivery of its own month.
EVENT_KINDS = frozenset({"attendance", "nurse_room_visit"})
# Tax data: only the purpose eligibility_check may read it; no risk rule may use it.
RESTRICTED_KINDS = frozenset({"tax_status"})


@dataclass(frozen=True, slots=True)
class Origin:
    """The source row a fact came from."""

    source: str
    file: str
    row: int


@dataclass(frozen=True, slots=True)
class FactVersion:
    """One announcement of a source record in an extraction month (ADDED, CHANGED or REMOVED)."""

    record_key: str
    month: str  # YYYYMM
    kind: str
    removed: bool
    fields: Mapping[str, str]
    origin: Origin


@dataclass(frozen=True, slots=True)
class Fact:
    """A source record as of a month, with the persons it names (role, person id) as identity resolved them."""

    record_key: str
    kind: str
    fields: Mapping[str, str]
    origin: Origin
    persons: tuple[tuple[str, str], ...] = field(default=())

    def names(self, person_id: str, *, role: str | None = None) -> bool:
        """Whether the fact names the person (in the role, when one is given)."""
        return any(pid == person_id and (role is None or r == role) for r, pid in self.persons)

    def date(self, name: str) -> date | None:
        """A date field (ISO), or None when empty or not a calendar date."""
        return parse_iso(self.fields.get(name, ""))


@lru_cache(maxsize=8192)
def parse_iso(text: str) -> date | None:
    """`YYYY-MM-DD` (or the first day of `YYYY-MM`) as a date; None otherwise."""
    try:
        if len(text) == 7:
            return date(int(text[:4]), int(text[5:7]), 1)
        if len(text) >= 10:
            return date(int(text[:4]), int(text[5:7]), int(text[8:10]))
    except ValueError:
        return None
    return None


def current_version(versions: Iterable[FactVersion], month: AssessmentMonth) -> FactVersion | None:
    """The version of one record that holds as of the month: the latest announced by then, unless removed.

    Event sources (attendance, nurse-room visits) keep a record once delivered; only a removal announced in
    the month the event happened (a corrected delivery of that month's file) takes it away."""
    target = str(month)
    latest: FactVersion | None = None
    kept: FactVersion | None = None
    for version in sorted(versions, key=lambda v: v.month):
        if version.month > target:
            break
        latest = version
        if not version.removed:
            kept = version
    if latest is None:
        return None
    if not latest.removed:
        return latest
    if latest.kind in EVENT_KINDS and kept is not None and not _removed_in_own_month(latest, kept):
        return kept
    return None


def _removed_in_own_month(removal: FactVersion, kept: FactVersion) -> bool:
    day = parse_iso(kept.fields.get("date", ""))
    return day is None or f"{day.year:04d}{day.month:02d}" == removal.month
