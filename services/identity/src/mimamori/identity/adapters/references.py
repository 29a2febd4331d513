"""Repositories of person references (the other sources' rows), their resolution, and the residents they match."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mimamori.identity.adapters.repository import _link, _record
from mimamori.identity.domain.matching import Reference, Resident, Resolution
from mimamori.identity.domain.model import MatchGrade, Provenance, primary_record

_CHUNK = 500


@dataclass(frozen=True, slots=True)
class StoredReference:
    """A person reference as it came, with its provenance and its current resolution."""

    record_key: str
    idx: int
    source: str
    municipality: str
    month: str
    reference: Reference
    given: dict[str, Any]
    present: bool
    provenance: Provenance
    person_id: str | None = None
    candidate_id: str | None = None
    grade: str = MatchGrade.NO_MATCH.value
    reason: str = ""
    candidates: list[dict[str, Any]] = field(default_factory=list)
    waiting_for: str = ""
    accepted_person_id: str | None = None
    version: int = 0

    @property
    def state(self) -> tuple[Any, ...]:
        """What consumers are told: a change of any of these is a new version."""
        return (self.person_id, self.candidate_id, self.grade, self.reason, self.waiting_for, self.present)

    def resolved(self, answer: Resolution) -> StoredReference:
        """The reference with a new answer (an accepted review keeps its person)."""
        applied = self.accepted_person_id or answer.linked
        return replace(
            self,
            person_id=applied,
            candidate_id=answer.person_id,
            grade=answer.grade.value,
            reason="review_accepted" if self.accepted_person_id else answer.reason,
            candidates=[
                {
                    "person_id": e.person_id,
                    "reason": e.reason,
                    "name": e.name,
                    "kana": e.kana,
                    "birth": e.birth,
                    "sex": e.sex,
                    "address": e.address,
                    "household": e.household,
                }
                for e in answer.candidates
            ],
            waiting_for=answer.waiting_for,
        )


def reference_of(given: dict[str, Any]) -> Reference:
    """The matching view of a reference stored as it came (the PersonReference's fields)."""
    birth = given.get("birth_date") or {}
    return Reference(
        role=given.get("role", ""),
        atena_no=given.get("atena_no", ""),
        name=given.get("name", ""),
        name_kana=given.get("name_kana", ""),
        sex=given.get("sex", ""),
        birth_iso=birth.get("iso", ""),
        birth_raw=birth.get("raw", ""),
        address=given.get("address", ""),
        school_code=given.get("school_code", ""),
        student_no=given.get("student_no", ""),
        school_name=given.get("school_name", ""),
        grade=given.get("grade", ""),
    )


def _stored(row: Any) -> StoredReference:
    return StoredReference(
        record_key=row.record_key,
        idx=row.idx,
        source=row.source,
        municipality=row.municipality,
        month=row.month,
        reference=reference_of(row.reference),
        given=row.reference,
        present=row.present,
        provenance=Provenance(
            file_name=row.file_name, row=row.row, file_sha256=row.file_sha256, load_run_id=row.load_run_id
        ),
        person_id=row.person_id,
        candidate_id=row.candidate_id,
        grade=row.grade,
        reason=row.reason,
        candidates=list(row.candidates or []),
        waiting_for=row.waiting_for,
        accepted_person_id=row.accepted_person_id,
        version=row.version,
    )


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


class ReferenceRepository:
    """Person references of source records, their answers, and the keys that wake them when persons change."""

    def __init__(self, session: AsyncSession, references: Table, keys: Table, decisions: Table, history: Table) -> None:
        self._session = session
        self._t = references
        self._keys = keys
        self._decisions = decisions
        self._history = history

    async def for_record(self, record_key: str) -> list[StoredReference]:
        """A record's references in the layout's order."""
        t = self._t
        rows = await self._session.execute(select(t).where(t.c.record_key == record_key).order_by(t.c.idx))
        return [_stored(r) for r in rows]

    async def get(self, record_key: str, idx: int) -> StoredReference | None:
        """One reference."""
        t = self._t
        found = (await self._session.execute(select(t).where(t.c.record_key == record_key, t.c.idx == idx))).first()
        return _stored(found) if found is not None else None

    async def replace_given(self, refs: Sequence[StoredReference], *, record_key: str) -> None:
        """Store a delivery's references as they came; earlier answers and review decisions stay."""
        t = self._t
        now = datetime.now(UTC)
        existing = {s.idx: s for s in await self.for_record(record_key)}
        await self._archive(existing, refs, record_key=record_key)
        for ref in refs:
            values: dict[str, Any] = {
                "source": ref.source,
                "municipality": ref.municipality,
                "month": ref.month,
                "role": ref.reference.role,
                "atena_no": ref.reference.atena_no,
                "school_code": ref.reference.school_code,
                "student_no": ref.reference.student_no,
                "grade_given": ref.reference.grade[:20],
                "roll_entry": ref.reference.pupil_key is not None and bool(ref.reference.name),
                "reference": ref.given,
                "present": ref.present,
                "file_name": ref.provenance.file_name,
                "row": ref.provenance.row,
                "file_sha256": ref.provenance.file_sha256,
                "load_run_id": ref.provenance.load_run_id,
                "updated_at": now,
            }
            if ref.idx in existing:
                await self._session.execute(
                    update(t).where(t.c.record_key == record_key, t.c.idx == ref.idx).values(**values)
                )
            else:
                await self._session.execute(
                    insert(t).values(
                        record_key=record_key,
                        idx=ref.idx,
                        grade=MatchGrade.NO_MATCH.value,
                        reason="",
                        candidates=[],
                        waiting_for="",
                        version=0,
                        **values,
                    )
                )
        wanted = {ref.idx for ref in refs}
        for idx in existing.keys() - wanted:
            await self._session.execute(
                update(t).where(t.c.record_key == record_key, t.c.idx == idx).values(present=False, updated_at=now)
            )

    async def _archive(
        self, existing: dict[int, StoredReference], refs: Sequence[StoredReference], *, record_key: str
    ) -> None:
        """Keep what a reference was (and whom it named) when a later month's delivery of the record changes it."""
        h = self._history
        for ref in refs:
            old = existing.get(ref.idx)
            if old is None or not old.month or not ref.month or old.month >= ref.month or old.given == ref.given:
                continue
            await self._session.execute(
                delete(h).where(h.c.record_key == record_key, h.c.idx == ref.idx, h.c.until_month == ref.month)
            )
            await self._session.execute(
                insert(h).values(
                    record_key=record_key,
                    idx=ref.idx,
                    until_month=ref.month,
                    month=old.month,
                    role=old.reference.role,
                    person_id=old.person_id,
                    candidate_id=old.candidate_id,
                    grade=old.grade,
                )
            )

    async def history(self, record_keys: Iterable[str]) -> dict[tuple[str, int], list[dict[str, Any]]]:
        """Earlier versions of these records' references, by (record key, index), oldest first."""
        h = self._history
        found: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
        for chunk in _chunks(sorted(set(record_keys))):
            rows = await self._session.execute(select(h).where(h.c.record_key.in_(chunk)).order_by(h.c.until_month))
            for r in rows:
                found[(r.record_key, r.idx)].append(dict(r._mapping))
        return dict(found)

    async def save_answer(self, ref: StoredReference) -> None:
        """Store a new answer and version."""
        t = self._t
        await self._session.execute(
            update(t)
            .where(t.c.record_key == ref.record_key, t.c.idx == ref.idx)
            .values(
                person_id=ref.person_id,
                candidate_id=ref.candidate_id,
                grade=ref.grade,
                reason=ref.reason,
                candidates=ref.candidates,
                waiting_for=ref.waiting_for,
                accepted_person_id=ref.accepted_person_id,
                present=ref.present,
                version=ref.version,
                updated_at=datetime.now(UTC),
            )
        )

    async def set_keys(self, record_key: str, keys: Iterable[str]) -> None:
        """The keys whose change of persons should re-resolve this record."""
        k = self._keys
        await self._session.execute(delete(k).where(k.c.record_key == record_key))
        rows = [{"key": key[:300], "record_key": record_key} for key in sorted(set(keys))]
        if rows:
            await self._session.execute(insert(k), rows)

    async def records_waiting_on(self, keys: Iterable[str]) -> list[str]:
        """Records whose references a change of these keys may answer differently."""
        k = self._keys
        found: set[str] = set()
        for chunk in _chunks(sorted(set(keys))):
            rows = await self._session.execute(select(k.c.record_key).where(k.c.key.in_(chunk)).distinct())
            found.update(r.record_key for r in rows)
        return sorted(found)

    async def roll_entries(self, pupil_keys: Iterable[tuple[str, str]]) -> list[StoredReference]:
        """Roll entries (pupils named on a school roll) of these (学校コード, 児童生徒番号), every month.

        Entries a later roll no longer holds count too: a child who changes school mid-month still has marks under
        the old number in that month's attendance, and a number names the same pupil before and after it ends."""
        t = self._t
        found: list[StoredReference] = []
        for code, number in sorted(set(pupil_keys)):
            rows = await self._session.execute(
                select(t).where(t.c.school_code == code, t.c.student_no == number, t.c.roll_entry.is_(True))
            )
            found.extend(_stored(r) for r in rows)
        return found

    async def rejected(self, record_key: str) -> dict[int, frozenset[str]]:
        """Persons staff ruled out (certainly-not), per reference of a record."""
        d = self._decisions
        rows = await self._session.execute(
            select(d.c.idx, d.c.person_id).where(d.c.record_key == record_key, d.c.decision == "reject")
        )
        out: dict[int, set[str]] = defaultdict(set)
        for row in rows:
            out[row.idx].add(row.person_id)
        return {idx: frozenset(p) for idx, p in out.items()}

    async def decide(self, record_key: str, idx: int, *, person_id: str, decision: str, actor: str) -> None:
        """Remember a reviewer's decision."""
        await self._session.execute(
            insert(self._decisions).values(
                record_key=record_key,
                idx=idx,
                person_id=person_id,
                decision=decision,
                actor=actor,
                decided_at=datetime.now(UTC),
            )
        )

    async def decisions(self, record_key: str, idx: int) -> list[dict[str, Any]]:
        """The review decisions of a reference, oldest first."""
        d = self._decisions
        rows = await self._session.execute(
            select(d).where(d.c.record_key == record_key, d.c.idx == idx).order_by(d.c.id)
        )
        return [dict(r._mapping) for r in rows]

    async def queue(self, *, limit: int, offset: int) -> list[StoredReference]:
        """References waiting for review (probable, not decided), oldest first."""
        t = self._t
        rows = await self._session.execute(
            select(t)
            .where(t.c.grade == MatchGrade.PROBABLE.value, t.c.present.is_(True), t.c.person_id.is_(None))
            .order_by(t.c.updated_at, t.c.record_key, t.c.idx)
            .limit(limit)
            .offset(offset)
        )
        return [_stored(r) for r in rows]

    async def linked_to(self, person_id: str) -> list[StoredReference]:
        """References linked to a person."""
        t = self._t
        rows = await self._session.execute(
            select(t).where(t.c.person_id == person_id).order_by(t.c.source, t.c.record_key, t.c.idx)
        )
        return [_stored(r) for r in rows]

    async def records_without_link(self, *, after: str, limit: int) -> list[str]:
        """Keys of records with a present reference that no link applies to, in order, a page after `after`."""
        t = self._t
        rows = await self._session.execute(
            select(t.c.record_key)
            .where(t.c.record_key > after, t.c.present.is_(True), t.c.person_id.is_(None))
            .distinct()
            .order_by(t.c.record_key)
            .limit(limit)
        )
        return [r.record_key for r in rows]

    async def every(self, *, after: tuple[str, int] | None, limit: int) -> list[StoredReference]:
        """All references in key order, a page at a time (export)."""
        t = self._t
        query = select(t).order_by(t.c.record_key, t.c.idx).limit(limit)
        if after is not None:
            query = query.where((t.c.record_key > after[0]) | ((t.c.record_key == after[0]) & (t.c.idx > after[1])))
        return [_stored(r) for r in await self._session.execute(query)]


class ResidentRepository:
    """Residents as matching sees them, built from the persons' 住民記録, names and households, and their keys."""

    def __init__(self, session: AsyncSession, tables: dict[str, Table]) -> None:
        self._session = session
        self._t = tables

    async def file_keys(self, person_id: str, keys: Iterable[str]) -> None:
        """File a person under blocking keys (keys never leave: a former name still finds the person)."""
        k = self._t["match_keys"]
        wanted = sorted({key[:300] for key in keys})
        have = {r.key for r in await self._session.execute(select(k.c.key).where(k.c.person_id == person_id))}
        rows = [{"key": key, "person_id": person_id} for key in wanted if key not in have]
        if rows:
            await self._session.execute(insert(k), rows)

    async def persons_by_keys(self, keys: Iterable[str]) -> set[str]:
        """Persons filed under any of these keys."""
        k = self._t["match_keys"]
        found: set[str] = set()
        for chunk in _chunks(sorted(set(keys))):
            rows = await self._session.execute(select(k.c.person_id).where(k.c.key.in_(chunk)).distinct())
            found.update(r.person_id for r in rows)
        return found

    async def persons_by_atena(self, atena_nos: Iterable[str]) -> set[str]:
        """Persons of these 宛名番号."""
        p = self._t["persons"]
        wanted = sorted(set(atena_nos))
        if not wanted:
            return set()
        rows = await self._session.execute(select(p.c.id).where(p.c.atena_no.in_(wanted)))
        return {r.id for r in rows}

    async def housemates(self, person_ids: Iterable[str]) -> set[str]:
        """Everyone who has shared a household with these persons."""
        s = self._t["household_memberships"]
        ids = sorted(set(person_ids))
        households: set[str] = set()
        for chunk in _chunks(ids):
            rows = await self._session.execute(select(s.c.household_id).where(s.c.person_id.in_(chunk)).distinct())
            households.update(r.household_id for r in rows)
        found: set[str] = set()
        for chunk in _chunks(sorted(households)):
            rows = await self._session.execute(select(s.c.person_id).where(s.c.household_id.in_(chunk)).distinct())
            found.update(r.person_id for r in rows)
        return found

    async def residents(self, person_ids: Iterable[str]) -> list[Resident]:
        """Matching views of persons: current facts, every name carried, every household held."""
        t, links = self._t["source_records"], self._t["record_links"]
        names, stays, households = self._t["name_history"], self._t["household_memberships"], self._t["households"]
        ids = sorted(set(person_ids))
        records: dict[str, list[tuple[Any, Any]]] = defaultdict(list)
        held_names: dict[str, list[tuple[str, str]]] = defaultdict(list)
        held_codes: dict[str, list[str]] = defaultdict(list)
        for chunk in _chunks(ids):
            rows = await self._session.execute(
                select(t, links.c.person_id, links.c.grade, links.c.reason, links.c.linked_at)
                .join(links, links.c.record_key == t.c.record_key)
                .where(links.c.person_id.in_(chunk))
            )
            for row in rows:
                records[row.person_id].append(row)
            rows = await self._session.execute(
                select(names.c.person_id, names.c.name, names.c.name_kana)
                .where(names.c.person_id.in_(chunk))
                .order_by(names.c.id)
            )
            for row in rows:
                held_names[row.person_id].append((row.name, row.name_kana))
            rows = await self._session.execute(
                select(stays.c.person_id, households.c.setai_code)
                .join(households, households.c.id == stays.c.household_id)
                .where(stays.c.person_id.in_(chunk))
                .order_by(stays.c.id)
            )
            for row in rows:
                held_codes[row.person_id].append(row.setai_code)
        out: list[Resident] = []
        for pid, rows in records.items():
            primary = primary_record([(_record(r), _link(r)) for r in rows])
            if primary is None:
                continue
            v = primary.values
            history = list(reversed(held_names.get(pid, [])))
            # A merged person's 住民記録 now links here: its name and kana are names this person carries too.
            others = [(r.name, r.name_kana) for r in rows if r.record_key != primary.record_key]
            history = [*history, *others]
            out.append(
                Resident(
                    person_id=pid,
                    atena_no=v.atena_no,
                    names=tuple(n for n in dict.fromkeys([v.name, *(n for n, _ in history)]) if n),
                    kanas=tuple(k for k in dict.fromkeys([v.name_kana, *(k for _, k in history)]) if k),
                    sex=v.sex,
                    birth_raw=v.birth_date.raw,
                    birth_iso=v.birth_date.iso,
                    address=v.address,
                    setai_code=v.setai_code,
                    resident=primary.resident,
                    former_setai_codes=tuple(c for c in dict.fromkeys(held_codes.get(pid, [])) if c != v.setai_code),
                )
            )
        return out
