"""Repositories of identity over SQLAlchemy Core."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mimamori.identity.domain.household import Household, HouseholdMember
from mimamori.identity.domain.kana import normalise_kana
from mimamori.identity.domain.model import (
    Link,
    LinkReason,
    MatchGrade,
    Person,
    Provenance,
    RecordValues,
    SourceDate,
    SourceRecord,
)


class HouseholdConflict(RuntimeError):
    """Another transaction announced the household first; the delivery is retried and recomputes."""


@dataclass(frozen=True, slots=True)
class NameEntry:
    """One row of a person's name history."""

    record_key: str
    name: str
    name_kana: str
    change_reason: str
    change_date: SourceDate
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class Stay:
    """A period a person's record spent in one household."""

    household_id: str
    setai_code: str
    joined_on: str
    joined_at: datetime
    left_on: str | None
    left_at: datetime | None


def _record(row: Any) -> SourceRecord:
    return SourceRecord(
        record_key=row.record_key,
        source=row.source,
        municipality=row.municipality,
        values=RecordValues(
            atena_no=row.atena_no,
            setai_code=row.setai_code,
            name=row.name,
            name_kana=row.name_kana,
            sex=row.sex,
            birth_date=SourceDate(row.birth_date_raw, row.birth_date_iso),
            zokugara=row.zokugara,
            address=row.address,
            resident_since=SourceDate(row.resident_since_raw, row.resident_since_iso),
            change_reason=row.change_reason,
            change_date=SourceDate(row.change_date_raw, row.change_date_iso),
            resident_status=row.resident_status,
            dv_support=row.dv_support,
        ),
        present=row.present,
        provenance=Provenance(
            file_name=row.file_name, row=row.row, file_sha256=row.file_sha256, load_run_id=row.load_run_id
        ),
        version=row.version,
    )


def _record_columns(record: SourceRecord) -> dict[str, Any]:
    v, p = record.values, record.provenance
    return {
        "source": record.source,
        "municipality": record.municipality,
        "atena_no": v.atena_no,
        "setai_code": v.setai_code,
        "name": v.name,
        "name_kana": v.name_kana,
        "name_kana_key": normalise_kana(v.name_kana)[:200],
        "sex": v.sex,
        "birth_date_raw": v.birth_date.raw,
        "birth_date_iso": v.birth_date.iso,
        "zokugara": v.zokugara,
        "address": v.address,
        "resident_since_raw": v.resident_since.raw,
        "resident_since_iso": v.resident_since.iso,
        "change_reason": v.change_reason,
        "change_date_raw": v.change_date.raw,
        "change_date_iso": v.change_date.iso,
        "resident_status": v.resident_status,
        "dv_support": v.dv_support,
        "present": record.present,
        "file_name": p.file_name,
        "row": p.row,
        "file_sha256": p.file_sha256,
        "load_run_id": p.load_run_id,
        "version": record.version,
    }


def _link(row: Any) -> Link:
    return Link(
        record_key=row.record_key,
        person_id=row.person_id,
        grade=MatchGrade(row.grade),
        reason=LinkReason(row.reason),
        linked_at=row.linked_at,
    )


class SourceRecordRepository:
    """Source records as they came: the current state of each and every earlier version."""

    def __init__(self, session: AsyncSession, records: Table, versions: Table, links: Table) -> None:
        self._session = session
        self._t = records
        self._versions = versions
        self._links = links

    async def get(self, record_key: str) -> tuple[SourceRecord | None, Link | None]:
        """The current state of a record and its link (one query: this runs for every delivery)."""
        t, links = self._t, self._links
        found = await self._session.execute(
            select(t, links.c.person_id, links.c.grade, links.c.reason, links.c.linked_at)
            .outerjoin(links, links.c.record_key == t.c.record_key)
            .where(t.c.record_key == record_key)
        )
        row = found.first()
        if row is None:
            return None, None
        return _record(row), _link(row) if row.person_id is not None else None

    async def save(self, record: SourceRecord, *, new: bool) -> None:
        """Store the current state of a record."""
        now = datetime.now(UTC)
        columns = _record_columns(record)
        if new:
            await self._session.execute(
                insert(self._t).values(record_key=record.record_key, first_seen_at=now, updated_at=now, **columns)
            )
        else:
            await self._session.execute(
                update(self._t).where(self._t.c.record_key == record.record_key).values(updated_at=now, **columns)
            )

    async def add_version(
        self, record: SourceRecord, *, change: str, event_id: str, event_time: str, payload: dict[str, Any]
    ) -> None:
        """Append the delivery that made this version, exactly as it was received."""
        p = record.provenance
        await self._session.execute(
            insert(self._versions).values(
                record_key=record.record_key,
                version=record.version,
                change=change,
                event_id=event_id,
                event_time=event_time,
                received_at=datetime.now(UTC),
                file_name=p.file_name,
                row=p.row,
                file_sha256=p.file_sha256,
                load_run_id=p.load_run_id,
                payload=payload,
            )
        )

    async def versions(self, record_key: str) -> list[dict[str, Any]]:
        """Every stored version of a record, oldest first."""
        v = self._versions
        rows = await self._session.execute(select(v).where(v.c.record_key == record_key).order_by(v.c.version))
        return [dict(row._mapping) for row in rows]

    async def in_household(self, setai_code: str) -> list[tuple[SourceRecord, str]]:
        """The linked records that carry this 世帯コード now, with their person ids."""
        t, links = self._t, self._links
        rows = await self._session.execute(
            select(t, links.c.person_id)
            .join(links, links.c.record_key == t.c.record_key)
            .where(t.c.setai_code == setai_code)
            .order_by(t.c.record_key)
        )
        return [(_record(row), row.person_id) for row in rows]

    async def for_person(self, person_id: str) -> list[tuple[SourceRecord, Link]]:
        """Every record linked to a person, with its link."""
        t, links = self._t, self._links
        rows = await self._session.execute(
            select(t, links.c.person_id, links.c.grade, links.c.reason, links.c.linked_at)
            .join(links, links.c.record_key == t.c.record_key)
            .where(links.c.person_id == person_id)
            .order_by(t.c.source, t.c.record_key)
        )
        return [(_record(row), _link(row)) for row in rows]

    async def persons_by_kana_and_birth(self, *, kana_key: str, birth_iso: str, limit: int) -> list[str]:
        """Persons with a linked record of this normalised kana and birth date."""
        t, links = self._t, self._links
        rows = await self._session.execute(
            select(links.c.person_id)
            .join(t, links.c.record_key == t.c.record_key)
            .where(t.c.name_kana_key == kana_key, t.c.birth_date_iso == birth_iso)
            .distinct()
            .order_by(links.c.person_id)
            .limit(limit)
        )
        return [row.person_id for row in rows]


class PersonRepository:
    """Persons and the links of source records to them."""

    def __init__(self, session: AsyncSession, persons: Table, links: Table) -> None:
        self._session = session
        self._t = persons
        self._links = links

    async def get(self, person_id: str) -> Person | None:
        """A person by id."""
        found = await self._session.execute(select(self._t).where(self._t.c.id == person_id))
        row = found.first()
        return Person(id=row.id, atena_no=row.atena_no, created_at=row.created_at) if row is not None else None

    async def by_atena_no(self, atena_no: str) -> Person | None:
        """The person of a 宛名番号."""
        found = await self._session.execute(select(self._t).where(self._t.c.atena_no == atena_no))
        row = found.first()
        return Person(id=row.id, atena_no=row.atena_no, created_at=row.created_at) if row is not None else None

    async def ids_after(self, after: str, *, limit: int) -> list[str]:
        """Person ids in order, a page at a time after `after`."""
        rows = await self._session.execute(
            select(self._t.c.id).where(self._t.c.id > after).order_by(self._t.c.id).limit(limit)
        )
        return [r.id for r in rows]

    async def add(self, person: Person) -> None:
        """Store a new person."""
        await self._session.execute(
            insert(self._t).values(id=person.id, atena_no=person.atena_no, created_at=person.created_at)
        )

    async def add_link(self, link: Link) -> None:
        """Store a new link."""
        await self._session.execute(
            insert(self._links).values(
                record_key=link.record_key,
                person_id=link.person_id,
                grade=link.grade.value,
                reason=link.reason.value,
                linked_at=link.linked_at,
            )
        )


class NameHistoryRepository:
    """Each name a person's records have carried, appended when it changes."""

    def __init__(self, session: AsyncSession, table: Table) -> None:
        self._session = session
        self._t = table

    async def append(self, person_id: str, *, record: SourceRecord, event_id: str) -> None:
        """Append the record's current name."""
        v = record.values
        await self._session.execute(
            insert(self._t).values(
                person_id=person_id,
                record_key=record.record_key,
                name=v.name,
                name_kana=v.name_kana,
                change_reason=v.change_reason,
                change_date_raw=v.change_date.raw,
                change_date_iso=v.change_date.iso,
                event_id=event_id,
                recorded_at=datetime.now(UTC),
            )
        )

    async def for_person(self, person_id: str) -> list[NameEntry]:
        """A person's names, oldest first."""
        t = self._t
        rows = await self._session.execute(select(t).where(t.c.person_id == person_id).order_by(t.c.id))
        return [
            NameEntry(
                record_key=r.record_key,
                name=r.name,
                name_kana=r.name_kana,
                change_reason=r.change_reason,
                change_date=SourceDate(r.change_date_raw, r.change_date_iso),
                recorded_at=r.recorded_at,
            )
            for r in rows
        ]


def _member_json(member: HouseholdMember) -> dict[str, Any]:
    return {
        "person_id": member.person_id,
        "zokugara": member.zokugara,
        "sex": member.sex,
        "birth_date_raw": member.birth_date.raw,
        "birth_date_iso": member.birth_date.iso,
        "resident": member.resident,
        "dv_support": member.dv_support,
        "is_head": member.is_head,
        "parent_person_ids": list(member.parent_person_ids),
        "sibling_person_ids": list(member.sibling_person_ids),
    }


def _member(data: dict[str, Any]) -> HouseholdMember:
    return HouseholdMember(
        person_id=data["person_id"],
        zokugara=data["zokugara"],
        sex=data["sex"],
        birth_date=SourceDate(data["birth_date_raw"], data["birth_date_iso"]),
        resident=data["resident"],
        dv_support=data["dv_support"],
        is_head=data["is_head"],
        parent_person_ids=tuple(data["parent_person_ids"]),
        sibling_person_ids=tuple(data["sibling_person_ids"]),
    )


class HouseholdRepository:
    """Households with their last announced membership, and each record's stays in them."""

    def __init__(self, session: AsyncSession, households: Table, memberships: Table) -> None:
        self._session = session
        self._t = households
        self._stays = memberships

    async def by_setai_code(self, setai_code: str) -> Household | None:
        """The household of a 世帯コード."""
        found = await self._session.execute(select(self._t).where(self._t.c.setai_code == setai_code))
        row = found.first()
        if row is None:
            return None
        return Household(
            id=row.id,
            setai_code=row.setai_code,
            version=row.version,
            members=tuple(_member(m) for m in row.members),
            month=row.month,
        )

    async def add(self, household: Household) -> None:
        """Store a household first seen."""
        now = datetime.now(UTC)
        await self._session.execute(
            insert(self._t).values(
                id=household.id,
                setai_code=household.setai_code,
                version=household.version,
                members=[_member_json(m) for m in household.members],
                month=household.month,
                created_at=now,
                updated_at=now,
            )
        )

    async def announce(self, household: Household, *, previous_version: int) -> None:
        """Store a new announcement, only over the version it was computed from."""
        t = self._t
        result = await self._session.execute(
            update(t)
            .where(t.c.id == household.id, t.c.version == previous_version)
            .values(
                version=household.version,
                members=[_member_json(m) for m in household.members],
                month=household.month,
                updated_at=datetime.now(UTC),
            )
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise HouseholdConflict(household.id)

    async def enter(self, household_id: str, *, person_id: str, record_key: str, joined_on: str) -> None:
        """Open a stay of a record in a household."""
        await self._session.execute(
            insert(self._stays).values(
                household_id=household_id,
                person_id=person_id,
                record_key=record_key,
                joined_on_raw=joined_on,
                joined_at=datetime.now(UTC),
            )
        )

    async def leave(self, record_key: str, *, left_on: str) -> None:
        """Close the open stay of a record."""
        s = self._stays
        await self._session.execute(
            update(s)
            .where(s.c.record_key == record_key, s.c.left_at.is_(None))
            .values(left_on_raw=left_on, left_at=datetime.now(UTC))
        )

    async def stays_of(self, person_id: str) -> list[Stay]:
        """A person's stays in households, oldest first."""
        s, t = self._stays, self._t
        rows = await self._session.execute(
            select(s, t.c.setai_code)
            .join(t, t.c.id == s.c.household_id)
            .where(s.c.person_id == person_id)
            .order_by(s.c.id)
        )
        return [
            Stay(
                household_id=r.household_id,
                setai_code=r.setai_code,
                joined_on=r.joined_on_raw,
                joined_at=r.joined_at,
                left_on=r.left_on_raw,
                left_at=r.left_at,
            )
            for r in rows
        ]


class DeliveryRowRepository:
    """The row index of delivered files: (file name, row) → record key, of each file name's latest load run."""

    def __init__(self, session: AsyncSession, table: Table) -> None:
        self._session = session
        self._t = table

    async def index(self, file_name: str, *, load_run_id: str, rows: list[tuple[int, str]]) -> None:
        """Keep a chunk of a load run's rows; the rows of another (earlier) run of the file name are dropped, and
        rows of this run already kept are replaced (a chunk delivered again)."""
        t = self._t
        stale = t.c.load_run_id != load_run_id
        if rows:
            low, high = min(r for r, _ in rows), max(r for r, _ in rows)
            stale = or_(stale, t.c.row.between(low, high))
        await self._session.execute(delete(t).where(t.c.file_name == file_name, stale))
        if rows:
            await self._session.execute(
                insert(t),
                [
                    {"file_name": file_name, "row": row, "record_key": key, "load_run_id": load_run_id}
                    for row, key in rows
                ],
            )
