"""The ledger over SQLAlchemy Core: serialised appends, pages for the verifier, queries for auditors."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, Table, and_, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from mimamori.audit.adapters.tables import LEDGER, LEDGER_PERSONS
from mimamori.audit.domain.ledger import (
    EMPTY_HEAD,
    ChainHead,
    EntryIndex,
    EntryQuery,
    LedgerEntry,
    extend,
    index_of,
    utc_text,
)
from mimamori.audit.domain.reviews import Touch

LEDGER_COLUMNS = (
    "seq",
    "event_id",
    "recorded_at",
    "occurred_at",
    "recorder",
    "actor",
    "purpose",
    "outcome",
    "break_glass",
    "body",
    "prev_hash",
    "hash",
)
LEDGER_TYPES = (
    "bigint[]",
    "varchar[]",
    "timestamptz[]",
    "varchar[]",
    "varchar[]",
    "varchar[]",
    "varchar[]",
    "varchar[]",
    "boolean[]",
    "text[]",
    "varchar[]",
    "varchar[]",
)
POSTGRES_INSERT = text(
    "WITH appended AS (INSERT INTO ledger ("
    + ", ".join(LEDGER_COLUMNS)
    + ") SELECT * FROM unnest("
    + ", ".join(f"CAST(:{c} AS {t})" for c, t in zip(LEDGER_COLUMNS, LEDGER_TYPES, strict=True))
    + ") RETURNING seq) "
    "INSERT INTO ledger_persons (seq, person_id) "
    "SELECT * FROM unnest(CAST(:person_seq AS bigint[]), CAST(:person_id AS varchar[]))"
)


class LedgerRepository:
    """The ledger rows and their person index, in one session."""

    def __init__(self, session: AsyncSession, tables: Mapping[str, Table]) -> None:
        self._session = session
        self._t = tables[LEDGER]
        self._p = tables[LEDGER_PERSONS]

    async def append(self, records: Sequence[Mapping[str, Any]]) -> list[LedgerEntry]:
        """Append access records after the head; records whose event id is already in the ledger are skipped.

        Serialised against every other append before the head is read, so the chain never forks."""
        wanted = list(dict.fromkeys(str(r["event_id"]) for r in records))
        if self._postgres:
            head, known = await self._lock_head_postgres(wanted)
        else:
            head, known = await self._lock_head_sqlite(wanted)
        fresh: list[Mapping[str, Any]] = []
        for record in records:
            event_id = str(record["event_id"])
            if event_id not in known:
                known.add(event_id)
                fresh.append(record)
        entries = extend(head, fresh, recorded_at=datetime.now(UTC))
        if not entries:
            return entries
        rows = [_row(e) for e in entries]
        persons = [{"seq": e.seq, "person_id": p} for e in entries for p in e.index.person_ids]
        if self._postgres:
            # One round trip for the rows and their person index (a statement costs more than its work here).
            columns = {name: [row[name] for row in rows] for name in LEDGER_COLUMNS}
            columns["person_seq"] = [p["seq"] for p in persons]
            columns["person_id"] = [p["person_id"] for p in persons]
            await self._session.execute(POSTGRES_INSERT, columns)
        else:
            await self._session.execute(insert(self._t), rows)
            if persons:
                await self._session.execute(insert(self._p), persons)
        return entries

    @property
    def _postgres(self) -> bool:
        return self._session.get_bind().dialect.name == "postgresql"

    async def _lock_head_postgres(self, wanted: list[str]) -> tuple[ChainHead, set[str]]:
        """Take the append lock, then read the head and which event ids are known (one server-side function,
        see the migration: a VOLATILE function reads with a fresh snapshot after the lock)."""
        row = (
            await self._session.execute(
                text("SELECT head_seq, head_hash, known FROM lock_ledger_head(CAST(:wanted AS varchar[]))"),
                {"wanted": wanted},
            )
        ).one()
        head = ChainHead(seq=row.head_seq, hash=row.head_hash) if row.head_seq is not None else EMPTY_HEAD
        return head, set(row.known or ())

    async def _lock_head_sqlite(self, wanted: list[str]) -> tuple[ChainHead, set[str]]:
        # One writer per database; BEGIN IMMEDIATE takes the write lock before the head is read (the driver
        # would otherwise begin lazily at the first INSERT, after two appends had read the same head).
        connection = await self._session.connection()
        raw = await connection.get_raw_connection()
        if raw.driver_connection is not None and not raw.driver_connection.in_transaction:
            await self._session.execute(text("BEGIN IMMEDIATE"))
        head = await self.head()
        found = await self._session.execute(select(self._t.c.event_id).where(self._t.c.event_id.in_(wanted)))
        return head, set(found.scalars())

    async def head(self) -> ChainHead:
        """The last row of the chain."""
        row = (
            await self._session.execute(select(self._t.c.seq, self._t.c.hash).order_by(self._t.c.seq.desc()).limit(1))
        ).first()
        return ChainHead(seq=row.seq, hash=row.hash) if row is not None else EMPTY_HEAD

    async def page(self, *, after_seq: int, limit: int) -> list[LedgerEntry]:
        """Rows after a seq in seq order, each with the person ids its index rows name (for the verifier)."""
        rows = (
            await self._session.execute(
                select(self._t).where(self._t.c.seq > after_seq).order_by(self._t.c.seq).limit(limit)
            )
        ).all()
        if not rows:
            return []
        persons: dict[int, list[str]] = {}
        indexed = await self._session.execute(
            select(self._p.c.seq, self._p.c.person_id).where(
                self._p.c.seq >= rows[0].seq, self._p.c.seq <= rows[-1].seq
            )
        )
        for seq, person_id in indexed:
            persons.setdefault(seq, []).append(person_id)
        return [_entry(r, persons.get(r.seq, [])) for r in rows]

    async def entries(self, query: EntryQuery, *, after_seq: int, limit: int) -> list[LedgerEntry]:
        """Rows matching the query, in seq order."""
        statement = _filtered(select(self._t), self._t, query).where(self._t.c.seq > after_seq)
        return await self._fetch(statement.order_by(self._t.c.seq).limit(limit))

    async def for_person(self, person_id: str, query: EntryQuery, *, after_seq: int, limit: int) -> list[LedgerEntry]:
        """Every row that touched one person (開示請求), through the person index."""
        joined = self._t.join(self._p, self._p.c.seq == self._t.c.seq)
        statement = _filtered(select(self._t).select_from(joined), self._t, query).where(
            self._p.c.person_id == person_id, self._p.c.seq > after_seq
        )
        return await self._fetch(statement.order_by(self._p.c.seq).limit(limit))

    async def _fetch(self, statement: Select[Any]) -> list[LedgerEntry]:
        rows = (await self._session.execute(statement)).all()
        return [_entry(r, None) for r in rows]

    async def touches(self, *, since: datetime, until: datetime) -> list[Touch]:
        """Allowed accesses to persons in a period, ordered by actor and time (for mass-lookup review)."""
        t, p = self._t, self._p
        rows = await self._session.execute(
            select(t.c.actor, t.c.occurred_at, p.c.person_id)
            .select_from(t.join(p, p.c.seq == t.c.seq))
            .where(
                t.c.occurred_at >= utc_text(since),
                t.c.occurred_at < utc_text(until),
                t.c.outcome == "allowed",
            )
            .order_by(t.c.actor, t.c.occurred_at, t.c.seq)
        )
        return [Touch(actor=r.actor, at=_moment(r.occurred_at), person_id=r.person_id) for r in rows]


def _filtered(statement: Select[Any], t: Table, query: EntryQuery) -> Select[Any]:
    conditions = []
    if query.since is not None:
        conditions.append(t.c.occurred_at >= utc_text(query.since))
    if query.until is not None:
        conditions.append(t.c.occurred_at < utc_text(query.until))
    for name in ("actor", "purpose", "outcome", "recorder"):
        value = getattr(query, name)
        if value is not None:
            conditions.append(t.c[name] == value)
    return statement.where(and_(*conditions)) if conditions else statement


def _row(entry: LedgerEntry) -> dict[str, Any]:
    index = entry.index
    return {
        "seq": entry.seq,
        "event_id": entry.event_id,
        "recorded_at": entry.recorded_at,
        "occurred_at": index.occurred_at,
        "recorder": index.recorder,
        "actor": index.actor,
        "purpose": index.purpose,
        "outcome": index.outcome,
        "break_glass": index.break_glass,
        "body": entry.body,
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }


def _entry(row: Any, person_ids: list[str] | None) -> LedgerEntry:
    """A row as an entry; the index's person ids come from the person index when given, else from the body."""
    if person_ids is None:
        person_ids = list(index_of(json.loads(row.body)).person_ids)
    return LedgerEntry(
        seq=row.seq,
        event_id=row.event_id,
        recorded_at=row.recorded_at,
        body=row.body,
        prev_hash=row.prev_hash,
        hash=row.hash,
        index=EntryIndex(
            occurred_at=row.occurred_at,
            recorder=row.recorder,
            actor=row.actor,
            purpose=row.purpose,
            outcome=row.outcome,
            break_glass=bool(row.break_glass),
            person_ids=tuple(sorted(person_ids)),
        ),
    )


def _moment(text_value: str) -> datetime:
    return datetime.strptime(text_value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
