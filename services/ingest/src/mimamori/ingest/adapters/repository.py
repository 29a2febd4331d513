"""Repositories of ingest over SQLAlchemy Core. The bulk paths of a load take tuples; on PostgreSQL each is one
statement over column arrays (`unnest`) on the asyncpg connection, inside the session's transaction; on SQLite an
executemany."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import (
    ColumnElement,
    String,
    Table,
    and_,
    any_,
    bindparam,
    case,
    delete,
    false,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from mimamori.ingest.domain.delivery import DeliveredFile, LoadRun, RunStatus
from mimamori.ingest.domain.records import Previous

COUNT_COLUMNS = ("rows", "added", "changed", "unchanged", "removed", "quarantined")
# A record's new state as a load writes it: (record_key, natural_key, digest, document, row).
State = tuple[str, str, str, str, int]
PROGRESS_BEFORE_END = 0.99  # 1.0 only once the run has ended
SQLITE_IN_LIMIT = 900  # parameters per IN list on SQLite (older builds allow 999 in a statement)


async def driver_connection(session: AsyncSession) -> Any | None:
    """The asyncpg connection under the session, inside its transaction (PostgreSQL); None on SQLite."""
    if session.bind is None or session.bind.dialect.name != "postgresql":
        return None
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    if not driver.is_in_transaction():
        # SQLAlchemy's asyncpg adapter sends BEGIN with its first statement: a COPY before it would autocommit.
        await session.execute(text("SELECT 1"))
    return driver


def _file(row: Any, prefix: str = "") -> DeliveredFile:
    m = row._mapping
    return DeliveredFile(
        id=m[f"{prefix}id"],
        name=m[f"{prefix}name"],
        source=m[f"{prefix}source"],
        month=m[f"{prefix}month"],
        sha256=m[f"{prefix}sha256"],
        size=m[f"{prefix}size"],
        received_at=m[f"{prefix}received_at"],
        received_by=m[f"{prefix}received_by"],
        accepted_at=m[f"{prefix}accepted_at"],
    )


class FileRepository:
    """Delivered files."""

    def __init__(self, session: AsyncSession, table: Table) -> None:
        self._session = session
        self._t = table

    async def add(self, file: DeliveredFile) -> None:
        """Record a delivery."""
        await self._session.execute(
            insert(self._t).values(
                id=file.id,
                name=file.name,
                source=file.source,
                month=file.month,
                sha256=file.sha256,
                size=file.size,
                received_at=file.received_at,
                received_by=file.received_by,
                accepted_at=file.accepted_at,
            )
        )

    async def get(self, file_id: str) -> DeliveredFile | None:
        """One delivery."""
        row = (await self._session.execute(select(self._t).where(self._t.c.id == file_id))).first()
        return _file(row) if row is not None else None

    async def accepted_with_digest(
        self, *, source: str, sha256: str, other_than: str, name: str | None = None
    ) -> DeliveredFile | None:
        """An earlier accepted delivery of the same source (and, given, the same file name) with the same bytes."""
        t = self._t
        where = [t.c.source == source, t.c.sha256 == sha256, t.c.id != other_than, t.c.accepted_at.is_not(None)]
        if name is not None:
            where.append(t.c.name == name)
        row = (await self._session.execute(select(t).where(*where).order_by(t.c.accepted_at).limit(1))).first()
        return _file(row) if row is not None else None

    async def latest_accepted_month(self, source: str) -> str:
        """The newest month of the source's accepted deliveries ('' when none names a month)."""
        t = self._t
        found = await self._session.scalar(
            select(func.max(t.c.month)).where(t.c.source == source, t.c.accepted_at.is_not(None), t.c.month != "")
        )
        return str(found or "")

    async def mark_accepted(self, file_id: str, *, at: datetime) -> None:
        """The file's load succeeded: it is now the source's last accepted delivery."""
        await self._session.execute(update(self._t).where(self._t.c.id == file_id).values(accepted_at=at))


class RunRepository:
    """Load runs, read together with their file."""

    def __init__(self, session: AsyncSession, table: Table, files: Table) -> None:
        self._session = session
        self._t = table
        self._files = files

    async def add(self, *, run_id: str, file_id: str, requested_by: str, created_at: datetime) -> None:
        """Queue a load of a delivered file."""
        await self._session.execute(
            insert(self._t).values(
                id=run_id,
                file_id=file_id,
                status=RunStatus.QUEUED.value,
                requested_by=requested_by,
                created_at=created_at,
            )
        )

    def _select(self) -> Any:
        r, f = self._t, self._files
        file_columns = [c.label(f"f__{c.name}") for c in f.c]
        return select(r, *file_columns).join(f, f.c.id == r.c.file_id)

    def _run(self, row: Any) -> LoadRun:
        m = row._mapping
        return LoadRun(
            id=m["id"],
            file=_file(row, prefix="f__"),
            status=RunStatus(m["status"]),
            created_at=m["created_at"],
            requested_by=m["requested_by"],
            duplicate_of=m["duplicate_of"],
            total_rows=m["total_rows"],
            counts={c: m[c] for c in COUNT_COLUMNS},
            progress=m["progress"],
            removals_withheld=m["removals_withheld"],
            started_at=m["started_at"],
            finished_at=m["finished_at"],
            error_code=m["error_code"],
            error_message=m["error_message"],
        )

    async def get(self, run_id: str) -> LoadRun | None:
        """One run."""
        row = (await self._session.execute(self._select().where(self._t.c.id == run_id))).first()
        return self._run(row) if row is not None else None

    async def page(self, *, limit: int, offset: int) -> tuple[list[LoadRun], int]:
        """Runs, newest first, and how many there are."""
        t = self._t
        rows = await self._session.execute(
            self._select().order_by(t.c.created_at.desc(), t.c.id).limit(limit).offset(offset)
        )
        total = (await self._session.execute(select(func.count()).select_from(t))).scalar_one()
        return [self._run(r) for r in rows], int(total)

    async def count(self) -> int:
        """How many runs were ever queued."""
        return int((await self._session.execute(select(func.count()).select_from(self._t))).scalar_one())

    async def with_status(self, *statuses: RunStatus) -> list[tuple[str, str]]:
        """(run id, file id) of the runs in these states, oldest first."""
        t = self._t
        rows = await self._session.execute(
            select(t.c.id, t.c.file_id).where(t.c.status.in_([s.value for s in statuses])).order_by(t.c.created_at)
        )
        return [(r.id, r.file_id) for r in rows]

    async def claim(self, run_id: str, *, at: datetime) -> bool:
        """Queued → running; False when another worker took it (or it is not queued)."""
        t = self._t
        result = await self._session.execute(
            update(t)
            .where(t.c.id == run_id, t.c.status == RunStatus.QUEUED.value)
            .values(status=RunStatus.RUNNING.value, started_at=at)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def add_counts(
        self, run_id: str, counts: dict[str, int], *, total: int | None = None, removals_withheld: bool | None = None
    ) -> None:
        """Add a batch's counts in the database (batches may commit in any order); progress follows rows."""
        t = self._t
        values: dict[str, Any] = {name: t.c[name] + value for name, value in counts.items()}
        if total:
            done = (t.c.rows + counts.get("rows", 0)) * 1.0 / total
            values["progress"] = case((done > PROGRESS_BEFORE_END, PROGRESS_BEFORE_END), else_=done)
        if removals_withheld is not None:
            values["removals_withheld"] = removals_withheld
        await self._session.execute(update(t).where(t.c.id == run_id).values(**values))

    async def last_succeeded_of(self, file_id: str) -> LoadRun | None:
        """The latest succeeded run of a delivered file."""
        t = self._t
        row = (
            await self._session.execute(
                self._select()
                .where(t.c.file_id == file_id, t.c.status == RunStatus.SUCCEEDED.value)
                .order_by(t.c.created_at.desc())
                .limit(1)
            )
        ).first()
        return self._run(row) if row is not None else None

    async def update(self, run_id: str, **values: Any) -> None:
        """Set columns of a run (status, counts, progress, error)."""
        if "status" in values and isinstance(values["status"], RunStatus):
            values["status"] = values["status"].value
        await self._session.execute(update(self._t).where(self._t.c.id == run_id).values(**values))


class QuarantineRepository:
    """Quarantined rows: where and why, never the value."""

    def __init__(self, session: AsyncSession, table: Table) -> None:
        self._session = session
        self._t = table

    async def add_many(self, rows: Sequence[dict[str, Any]]) -> None:
        """Record a batch of problems."""
        if rows:
            await self._session.execute(insert(self._t), list(rows))

    async def copy(self, *, from_run: str, to_run: str, file_id: str) -> None:
        """A duplicate delivery quarantines what its twin did (same bytes, same rows, same reasons)."""
        t = self._t
        rows = await self._session.execute(
            select(t.c.row, t.c.column, t.c.reason_code, t.c.reason).where(t.c.run_id == from_run).order_by(t.c.id)
        )
        copied = [{"run_id": to_run, "file_id": file_id, **dict(r._mapping)} for r in rows]
        if copied:
            await self._session.execute(insert(t), copied)

    async def page(self, run_id: str, *, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
        """A run's problems by row, and how many there are."""
        t = self._t
        rows = await self._session.execute(
            select(t.c.row, t.c.column, t.c.reason_code, t.c.reason)
            .where(t.c.run_id == run_id)
            .order_by(t.c.row, t.c.id)
            .limit(limit)
            .offset(offset)
        )
        total = (
            await self._session.execute(select(func.count()).select_from(t).where(t.c.run_id == run_id))
        ).scalar_one()
        return [dict(r._mapping) for r in rows], int(total)


class SourceRecordRepository:
    """The accepted state of every source record: digest and values, to compare the next delivery with."""

    def __init__(self, session: AsyncSession, table: Table, delivery_keys: Table) -> None:
        self._session = session
        self._t = table
        self._keys = delivery_keys

    def _among(self, keys: list[str]) -> ColumnElement[bool]:
        column = self._t.c.record_key
        if self._session.bind is not None and self._session.bind.dialect.name == "postgresql":
            # One array parameter instead of a thousand: much less to render, send and plan.
            return column == any_(bindparam("keys", keys, type_=postgresql.ARRAY(String)))
        return column.in_(keys)

    async def previous(self, source: str, record_keys: Iterable[str]) -> dict[str, Previous]:
        """The state of these records, in one query."""
        t = self._t
        keys = list(record_keys)
        if not keys:
            return {}
        driver = await driver_connection(self._session)
        if driver is not None:
            # One index probe per key (LATERAL ... OFFSET 0), whatever the statistics say (right after a first
            # load they may be missing, and a scan of the whole source per batch would make a load quadratic).
            rows = await driver.fetch(
                "SELECT k.key, s.digest, s.removed FROM unnest($2::text[]) AS k(key) CROSS JOIN LATERAL"
                " (SELECT digest, removed FROM source_records WHERE source = $1 AND record_key = k.key OFFSET 0) AS s",
                source,
                keys,
            )
            return {r[0]: Previous(digest=r[1], removed=r[2]) for r in rows}
        result = await self._session.execute(
            select(t.c.record_key, t.c.digest, t.c.removed).where(t.c.source == source, self._among(keys))
        )
        return {r.record_key: Previous(digest=r.digest, removed=r.removed) for r in result}

    async def analyze(self) -> None:
        """After a bulk write: fresh planner statistics (PostgreSQL), so that the next queries by key use the key."""
        if await driver_connection(self._session) is not None:
            await self._session.execute(text("ANALYZE source_records"))

    async def any_of_source(self, source: str) -> bool:
        """Whether the source has any record at all (removed ones included): if not, every record is new."""
        t = self._t
        found = await self._session.execute(select(t.c.record_key).where(t.c.source == source).limit(1))
        return found.first() is not None

    async def write(
        self,
        source: str,
        *,
        added: Sequence[State],
        changed: Sequence[State],
        file_id: str,
        run_id: str,
        scope: str,
        at: datetime,
    ) -> None:
        """New records are inserted, changed (or re-added) ones updated: one COPY and one UPDATE on PostgreSQL."""
        driver = await driver_connection(self._session)
        if driver is not None:
            # Column arrays, not rows: the constants travel once and Python builds no tuple per record.
            if added:
                await driver.execute(
                    'INSERT INTO source_records (source, record_key, natural_key, digest, document, "row", removed,'
                    " file_id, run_id, updated_at, scope)"
                    " SELECT $1, u.record_key, u.natural_key, u.digest, u.document, u.row, false, $2, $3, $4, $5"
                    " FROM unnest($6::text[], $7::text[], $8::text[], $9::text[], $10::int[])"
                    " AS u(record_key, natural_key, digest, document, row)",
                    source,
                    file_id,
                    run_id,
                    at,
                    scope,
                    *map(list, zip(*added, strict=True)),
                )
            if changed:
                await driver.execute(
                    "UPDATE source_records AS s SET natural_key = u.natural_key, digest = u.digest,"
                    ' document = u.document, removed = false, file_id = $2, run_id = $3, "row" = u.row,'
                    " scope = $4, updated_at = $5"
                    " FROM unnest($6::text[], $7::text[], $8::text[], $9::text[], $10::int[])"
                    " AS u(record_key, natural_key, digest, document, row)"
                    " WHERE s.source = $1 AND s.record_key = u.record_key",
                    source,
                    file_id,
                    run_id,
                    scope,
                    at,
                    *map(list, zip(*changed, strict=True)),
                )
            return
        common = {"removed": False, "file_id": file_id, "run_id": run_id, "scope": scope, "updated_at": at}
        if added:
            await self._session.execute(
                insert(self._t),
                [
                    {"source": source, "record_key": k, "natural_key": n, "digest": d, "document": doc, "row": r}
                    | common
                    for k, n, d, doc, r in added
                ],
            )
        if changed:
            t = self._t
            statement = (
                update(t)
                .where(and_(t.c.source == bindparam("b_source"), t.c.record_key == bindparam("b_record_key")))
                .values(
                    natural_key=bindparam("natural_key"),
                    digest=bindparam("digest"),
                    document=bindparam("document"),
                    removed=bindparam("removed"),
                    file_id=bindparam("file_id"),
                    run_id=bindparam("run_id"),
                    row=bindparam("row"),
                    scope=bindparam("scope"),
                    updated_at=bindparam("updated_at"),
                )
            )
            await self._session.execute(
                statement,
                [
                    {"b_source": source, "b_record_key": k, "natural_key": n, "digest": d, "document": doc, "row": r}
                    | common
                    for k, n, d, doc, r in changed
                ],
            )

    async def absent(self, source: str, *, run_id: str, after: str, limit: int, scope: str | None = None) -> list[str]:
        """Record keys of records not removed that run `run_id` did not meet, in key order after `after` (keyset
        paging; one anti-join in the database); with `scope`, only the records of that delivery month."""
        t, d = self._t, self._keys
        met = select(d.c.record_key).where(d.c.run_id == run_id, d.c.record_key == t.c.record_key).exists()
        where = [t.c.source == source, t.c.removed == false(), t.c.record_key > after, ~met]
        if scope is not None:
            where.append(t.c.scope == scope)
        rows = await self._session.execute(select(t.c.record_key).where(*where).order_by(t.c.record_key).limit(limit))
        return [r.record_key for r in rows]

    async def any_present(self, source: str) -> bool:
        """Whether the source has a record not removed."""
        t = self._t
        found = await self._session.execute(
            select(t.c.record_key).where(t.c.source == source, t.c.removed == false()).limit(1)
        )
        return found.first() is not None

    async def find(self, record_key: str) -> tuple[str, bool] | None:
        """(source, removed) of a record by its key."""
        t = self._t
        row = (await self._session.execute(select(t.c.source, t.c.removed).where(t.c.record_key == record_key))).first()
        return (row.source, row.removed) if row is not None else None

    async def documents(self, source: str, record_keys: Iterable[str]) -> dict[str, tuple[str, str]]:
        """(natural key, document) of these records."""
        t = self._t
        keys = list(record_keys)
        if not keys:
            return {}
        driver = await driver_connection(self._session)
        if driver is not None:
            rows = await driver.fetch(
                "SELECT k.key, s.natural_key, s.document FROM unnest($2::text[]) AS k(key) CROSS JOIN LATERAL"
                " (SELECT natural_key, document FROM source_records WHERE source = $1 AND record_key = k.key"
                " OFFSET 0) AS s",
                source,
                keys,
            )
            return {r[0]: (r[1], r[2]) for r in rows}
        result = await self._session.execute(
            select(t.c.record_key, t.c.natural_key, t.c.document).where(t.c.source == source, self._among(keys))
        )
        return {r.record_key: (r.natural_key, r.document) for r in result}

    async def mark_removed(
        self, source: str, record_keys: Sequence[str], *, run_id: str, file_id: str, at: datetime
    ) -> None:
        """These records are absent from a full snapshot."""
        if not record_keys:
            return
        driver = await driver_connection(self._session)
        if driver is not None:
            # One update by primary key per record (pipelined): its plan cannot turn into a scan of the source.
            await driver.executemany(
                'UPDATE source_records SET removed = true, run_id = $3, file_id = $4, "row" = 0, updated_at = $5'
                " WHERE source = $1 AND record_key = $2",
                [(source, key, run_id, file_id, at) for key in record_keys],
            )
            return
        t = self._t
        await self._session.execute(
            update(t)
            .where(t.c.source == source, t.c.record_key.in_(list(record_keys)))
            .values(removed=True, run_id=run_id, file_id=file_id, row=0, updated_at=at)
        )


class DeliveryKeyRepository:
    """The record keys a load run has met so far, with the digest of the row that had each first: the memory of a
    load, kept in the database so that it does not grow with the file."""

    def __init__(self, session: AsyncSession, table: Table) -> None:
        self._session = session
        self._t = table

    async def meet(self, run_id: str, keys: Mapping[str, str]) -> dict[str, str]:
        """Record the (record key → digest) a batch met first; return those the run had met in an earlier batch,
        with the digest of the row that had each then ('' when it was quarantined). Those are not recorded again."""
        if not keys:
            return {}
        driver = await driver_connection(self._session)
        if driver is None:
            earlier = await self._earlier_sqlite(run_id, list(keys))
            rows = [{"run_id": run_id, "record_key": k, "digest": d} for k, d in keys.items() if k not in earlier]
            if rows:
                await self._session.execute(insert(self._t), rows)
            return earlier
        add = (
            "INSERT INTO delivery_keys (run_id, record_key, digest)"
            " SELECT $1, u.record_key, u.digest FROM unnest($2::text[], $3::text[]) AS u(record_key, digest)"
        )
        try:
            # A key met twice in one file is rare: try the plain insert first, under a savepoint.
            async with driver.transaction():
                await driver.execute(add, run_id, list(keys), list(keys.values()))
            return {}
        except asyncpg.UniqueViolationError:
            pass
        earlier = await self.among(run_id, list(keys))
        new = [k for k in keys if k not in earlier]
        await driver.execute(add, run_id, new, [keys[k] for k in new])
        return earlier

    async def among(self, run_id: str, record_keys: Sequence[str]) -> dict[str, str]:
        """Which of these keys the run has met, with the digest recorded for each."""
        if not record_keys:
            return {}
        driver = await driver_connection(self._session)
        if driver is None:
            return await self._earlier_sqlite(run_id, list(record_keys))
        # One index probe per key (LATERAL ... OFFSET 0 keeps it so whatever the table's statistics say).
        rows = await driver.fetch(
            "SELECT k.key, d.digest FROM unnest($2::text[]) AS k(key) CROSS JOIN LATERAL"
            " (SELECT digest FROM delivery_keys WHERE run_id = $1 AND record_key = k.key OFFSET 0) AS d",
            run_id,
            list(record_keys),
        )
        return {r[0]: r[1] for r in rows}

    async def _earlier_sqlite(self, run_id: str, keys: list[str]) -> dict[str, str]:
        t = self._t
        found: dict[str, str] = {}
        for start in range(0, len(keys), SQLITE_IN_LIMIT):
            rows = await self._session.execute(
                select(t.c.record_key, t.c.digest).where(
                    t.c.run_id == run_id, t.c.record_key.in_(keys[start : start + SQLITE_IN_LIMIT])
                )
            )
            found.update((r.record_key, r.digest) for r in rows)
        return found

    async def forget(self, run_id: str) -> None:
        """The run has ended: its keys are no longer needed."""
        await self._session.execute(delete(self._t).where(self._t.c.run_id == run_id))


class FreeTextRepository:
    """Free text of the current records, by record key and column."""

    def __init__(self, session: AsyncSession, table: Table) -> None:
        self._session = session
        self._t = table

    async def replace(self, record_keys: Sequence[str], rows: Sequence[dict[str, Any]]) -> None:
        """The free text of these records becomes `rows` (none: the records hold no text any more)."""
        t = self._t
        if record_keys:
            await self._session.execute(delete(t).where(t.c.record_key.in_(list(record_keys))))
        if rows:
            await self._session.execute(insert(t), list(rows))

    async def of(self, record_key: str) -> list[tuple[str, str]]:
        """(column, text) of one record, in column order as stored."""
        t = self._t
        rows = await self._session.execute(
            select(t.c.column, t.c.text).where(t.c.record_key == record_key).order_by(t.c.column)
        )
        return [(r.column, r.text) for r in rows]
