"""The facts risk keeps from ingest and identity (source records, references, merges, 宛名番号), and the view
of them as of a month, over SQLAlchemy Core."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, and_, delete, func, insert, or_, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from mimamori.risk.adapters.repository import HouseholdRepository
from mimamori.risk.domain.facts import Fact, FactVersion, Origin, current_version
from mimamori.risk.domain.month import AssessmentMonth
from mimamori.risk.domain.view import MonthView

CHUNK = 500


@dataclass(frozen=True, slots=True)
class Reference:
    """identity's resolution of one person reference of a source record."""

    record_key: str
    reference_index: int
    role: str
    person_id: str
    version: int
    removed: bool


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


class ReadModelRepository:
    """Source facts (versioned by extraction month), references, aliases and 宛名番号."""

    def __init__(self, session: AsyncSession, *, tables: dict[str, Table], households: HouseholdRepository) -> None:
        self._session = session
        self._facts = tables["source_facts"]
        self._refs = tables["fact_references"]
        self._aliases = tables["person_aliases"]
        self._numbers = tables["person_numbers"]
        self._districts = tables["resident_districts"]
        self._households_t = tables["households"]
        self._members = tables["household_members"]
        self._history_members = tables["household_history_members"]
        self.households = households

    async def lock_scoring(self) -> None:
        """Serialise scorers until this transaction ends: a run's chunk and a consumer's re-score of the same child
        must not read before the other commits, or the later commit would store a score of older data. (SQLite
        has one writer at a time already.)"""
        if self._session.get_bind().dialect.name == "postgresql":
            await self._session.execute(text("SELECT pg_advisory_xact_lock(hashtext('mimamori.risk.scoring'))"))

    async def store_fact_versions(self, versions: Sequence[FactVersion]) -> None:
        """Keep each version; a later announcement in the same month replaces the earlier one."""
        latest = {(v.record_key, v.month): v for v in versions}
        keys = list(latest)
        f = self._facts
        for chunk in _chunks(keys):
            await self._session.execute(delete(f).where(tuple_(f.c.record_key, f.c.month).in_(chunk)))
        rows = [
            {
                "record_key": v.record_key,
                "month": v.month,
                "kind": v.kind,
                "source": v.origin.source,
                "file": v.origin.file,
                "row": v.origin.row,
                "removed": v.removed,
                "fields": dict(v.fields),
            }
            for v in latest.values()
        ]
        for chunk in _chunks(rows):
            await self._session.execute(insert(f), list(chunk))

    async def persons_of_records(self, record_keys: Sequence[str]) -> set[str]:
        """The persons the records' references resolve to now."""
        r = self._refs
        found: set[str] = set()
        for chunk in _chunks(list(set(record_keys))):
            rows = await self._session.execute(select(r.c.person_id).where(r.c.record_key.in_(chunk)))
            found.update(row.person_id for row in rows if row.person_id)
        return found

    async def apply_references(self, references: Sequence[Reference]) -> set[str]:
        """Keep the latest version per (record, reference); the persons before and after are touched."""
        r = self._refs
        latest: dict[tuple[str, int], Reference] = {}
        for ref in references:
            key = (ref.record_key, ref.reference_index)
            if key not in latest or ref.version >= latest[key].version:
                latest[key] = ref
        touched: set[str] = set()
        stored: dict[tuple[str, int], Any] = {}
        keys = list(latest)
        for chunk in _chunks(keys):
            rows = await self._session.execute(select(r).where(tuple_(r.c.record_key, r.c.reference_index).in_(chunk)))
            stored.update({(row.record_key, row.reference_index): row for row in rows})
        fresh = []
        for key, ref in latest.items():
            before = stored.get(key)
            if before is not None and int(before.version) > ref.version:
                continue
            if before is not None:
                touched.add(before.person_id)
            touched.add(ref.person_id)
            fresh.append(ref)
        for chunk in _chunks([(f.record_key, f.reference_index) for f in fresh]):
            await self._session.execute(delete(r).where(tuple_(r.c.record_key, r.c.reference_index).in_(chunk)))
        rows_in = [
            {
                "record_key": f.record_key,
                "reference_index": f.reference_index,
                "role": f.role,
                "person_id": f.person_id,
                "version": f.version,
                "removed": f.removed,
            }
            for f in fresh
        ]
        for chunk in _chunks(rows_in):
            await self._session.execute(insert(r), list(chunk))
        touched.discard("")
        return touched

    async def merge(self, *, surviving: str, merged: str, merge_id: str) -> None:
        """`merged` now resolves to `surviving` (and so does whatever resolved to `merged`)."""
        a = self._aliases
        await self._session.execute(delete(a).where(a.c.merged_person_id == merged))
        await self._session.execute(
            update(a).where(a.c.surviving_person_id == merged).values(surviving_person_id=surviving)
        )
        await self._session.execute(
            insert(a).values(merged_person_id=merged, surviving_person_id=surviving, merge_id=merge_id)
        )

    async def unmerge(self, *, restored: str) -> None:
        """`restored` is its own person again."""
        await self._session.execute(delete(self._aliases).where(self._aliases.c.merged_person_id == restored))

    async def set_number(self, person_id: str, atena_no: str) -> None:
        """Remember a person's 宛名番号 (for exports and staff lists)."""
        n = self._numbers
        updated = await self._session.execute(update(n).where(n.c.person_id == person_id).values(atena_no=atena_no))
        if updated.rowcount == 0:  # type: ignore[attr-defined]
            await self._session.execute(insert(n).values(person_id=person_id, atena_no=atena_no))

    async def numbers(self, person_ids: Iterable[str] | None = None) -> dict[str, str]:
        """宛名番号 by person id (all when None)."""
        n = self._numbers
        query = select(n.c.person_id, n.c.atena_no)
        if person_ids is None:
            return {row.person_id: row.atena_no for row in await self._session.execute(query)}
        found: dict[str, str] = {}
        for chunk in _chunks(list(set(person_ids))):
            rows = await self._session.execute(query.where(n.c.person_id.in_(chunk)))
            found.update({row.person_id: row.atena_no for row in rows})
        return found

    async def set_districts(self, districts: dict[str, str | None]) -> None:
        """Each 宛名番号's district (None: the record was removed, forget it)."""
        d = self._districts
        keys = sorted(districts)
        for chunk in _chunks(keys):
            await self._session.execute(delete(d).where(d.c.atena_no.in_(chunk)))
        rows = [{"atena_no": k, "district": v} for k, v in sorted(districts.items()) if v is not None]
        for chunk in _chunks(rows):
            await self._session.execute(insert(d), list(chunk))

    async def districts(self) -> dict[str, str]:
        """Every person's district, by person id (through their 宛名番号)."""
        n, d = self._numbers, self._districts
        rows = await self._session.execute(
            select(n.c.person_id, d.c.district).join(d, d.c.atena_no == n.c.atena_no).where(d.c.district != "")
        )
        return {row.person_id: row.district for row in rows}

    async def latest_month(self) -> str | None:
        """The latest extraction month any source record was announced for."""
        value = (await self._session.execute(select(func.max(self._facts.c.month)))).scalar_one_or_none()
        return str(value) if value else None

    async def household_mates(self, person_ids: Iterable[str]) -> set[str]:
        """The persons and every member of the households listing them, in any month's snapshot (a re-score of a
        past month needs that month's household mates)."""
        wanted = list(set(person_ids))
        found = set(wanted)
        for m in (self._members, self._history_members):
            for chunk in _chunks(wanted):
                households = select(m.c.household_id).where(m.c.person_id.in_(chunk))
                rows = await self._session.execute(select(m.c.person_id).where(m.c.household_id.in_(households)))
                found.update(row.person_id for row in rows)
        return found

    async def _alias_map(self) -> dict[str, str]:
        rows = await self._session.execute(select(self._aliases))
        return {row.merged_person_id: row.surviving_person_id for row in rows}

    async def month_view(self, month: AssessmentMonth, *, person_ids: Iterable[str] | None = None) -> MonthView:
        """What risk knows as of the month: all of it, or the households of the persons named and the facts
        naming any of their members."""
        aliases = await self._alias_map()
        if person_ids is None:
            households = await self.households.all(month=str(month))
            refs = (await self._session.execute(select(self._refs))).all()
        else:
            wanted = {aliases.get(p, p) for p in person_ids}
            households = await self.households.containing_any(wanted, month=str(month))
            persons = wanted | {m.person_id for h in households for m in h.members}
            persons |= {merged for merged, surviving in aliases.items() if surviving in persons}
            keys: set[str] = set()
            r = self._refs
            for chunk in _chunks(list(persons)):
                rows = await self._session.execute(select(r.c.record_key).where(r.c.person_id.in_(chunk)))
                keys.update(row.record_key for row in rows)
            refs = []
            for chunk in _chunks(sorted(keys)):
                refs.extend((await self._session.execute(select(r).where(r.c.record_key.in_(chunk)))).all())
        facts = await self._facts_as_of(month, sorted({r.record_key for r in refs}) if person_ids is not None else None)
        return _view(month, households=households, refs=refs, versions=facts, aliases=aliases)

    async def chunk_view(self, month: AssessmentMonth, *, after: str, upto: str) -> tuple[MonthView, set[str]]:
        """What risk knows as of the month about the households with ids in (after, upto] (one chunk of a full
        re-score): a few set-based queries, however many persons the chunk holds. Also the chunk's ids."""
        aliases = await self._alias_map()
        households, chunk, past = await self.households.in_range(after=after, upto=upto, month=str(month))
        m, r, f = self._members, self._refs, self._facts
        persons = select(m.c.person_id).where(and_(m.c.household_id > after, m.c.household_id <= upto))
        named: ColumnElement[bool] = r.c.person_id.in_(persons)
        residents = {member.person_id for h in households if h.household_id in chunk for member in h.members}
        merged = sorted(merged for merged, surviving in aliases.items() if surviving in residents)
        if merged:
            named = or_(named, r.c.person_id.in_(merged))
        if past:
            # Members of the month's membership that the latest snapshot no longer lists.
            named = or_(named, r.c.person_id.in_(sorted(past)))
        keys = select(r.c.record_key).where(named)
        refs = list((await self._session.execute(select(r).where(r.c.record_key.in_(keys)))).all())
        rows = (
            await self._session.execute(
                select(f).where(and_(f.c.record_key.in_(keys), f.c.month <= str(month))).order_by(f.c.record_key)
            )
        ).all()
        return _view(month, households=households, refs=refs, versions=_current(rows, month), aliases=aliases), chunk

    async def _facts_as_of(self, month: AssessmentMonth, record_keys: Sequence[str] | None) -> list[FactVersion]:
        f = self._facts
        query = select(f).where(f.c.month <= str(month))
        rows: list[Any] = []
        if record_keys is None:
            rows = list((await self._session.execute(query)).all())
        else:
            for chunk in _chunks(record_keys):
                rows.extend((await self._session.execute(query.where(f.c.record_key.in_(chunk)))).all())
        return _current(rows, month)


def _current(rows: Iterable[Any], month: AssessmentMonth) -> list[FactVersion]:
    """The version of each record that holds as of the month (rows of any order, months ≤ the month)."""
    versions: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        versions[row.record_key].append(row)
    found = []
    for key in sorted(versions):
        held = versions[key]
        if len(held) == 1:
            # Most records were announced once: that version holds unless it is a removal.
            if not held[0].removed:
                found.append(_version(held[0]))
            continue
        version = current_version([_version(row) for row in held], month)
        if version is not None:
            found.append(version)
    return found


def _version(row: Any) -> FactVersion:
    return FactVersion(
        record_key=row.record_key,
        month=row.month,
        kind=row.kind,
        removed=bool(row.removed),
        fields=row.fields,
        origin=Origin(source=row.source, file=row.file, row=int(row.row)),
    )


def _view(
    month: AssessmentMonth,
    *,
    households: Sequence[Any],
    refs: Iterable[Any],
    versions: Sequence[FactVersion],
    aliases: dict[str, str],
) -> MonthView:
    by_record: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
    for ref in refs:
        # A reference of a removed record still says who the record named: the record's own versions decide
        # the months it holds in (a roll entry that ended in May still counts for April).
        if not ref.person_id:
            continue
        by_record[ref.record_key].append((ref.reference_index, ref.role, aliases.get(ref.person_id, ref.person_id)))
    facts = []
    for v in versions:
        named = by_record.get(v.record_key)
        if not named:
            continue
        if len(named) == 1:
            persons: tuple[tuple[str, str], ...] = ((named[0][1], named[0][2]),)
        else:
            persons = tuple((role, pid) for _, role, pid in sorted(named))
        facts.append(Fact(record_key=v.record_key, kind=v.kind, fields=v.fields, origin=v.origin, persons=persons))
    return MonthView(month=month, households=households, facts=facts)
