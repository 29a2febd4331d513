"""ingest's handlers: receive a delivered file, load it (diffing against the accepted state), read runs.

How a load keeps a file "one load" for consumers, as far as is reasonable without one giant transaction:
1. The whole file is read once first (structure only: encoding, header, quoting, line ends, truncation).
   A structural error rejects the run before anything is written: no state, no event, no quarantine row.
2. The rows are then read again and applied in batches (`batch_size` rows per transaction): state rows,
   outbox rows, quarantine rows and the run's counts commit together, so a batch is all or nothing.
3. Removals (full snapshots) come only after every row was applied, and the file is marked accepted in the
   last transaction. A load that fails half-way leaves the run `failed` and the file not accepted; the batches
   already committed stay (their events are true differences against the state), and loading the file again
   emits only what is still missing, never a spurious removal.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, BinaryIO

from mimamori.events.audit.v1 import access_pb2
from mimamori.events.ingest.v1 import delivery_rows_pb2
from mimamori.ingest.adapters.csv_reader import CsvRows, check_structure
from mimamori.ingest.adapters.events import Provenance, RecordMapper
from mimamori.ingest.adapters.file_store import FileStore
from mimamori.ingest.adapters.hooks import HookedRows
from mimamori.ingest.adapters.repository import State
from mimamori.ingest.adapters.xlsx_reader import XlsxRows
from mimamori.ingest.domain import delivery
from mimamori.ingest.domain.delivery import (
    DeliveredFile,
    DeliveredFileName,
    LoadRun,
    RunStatus,
    StructuralError,
)
from mimamori.ingest.domain.layout import Layout, RowIssue, check_row, key_is_usable, reason_text
from mimamori.ingest.domain.records import (
    DIGEST,
    DOCUMENT,
    NATURAL_KEY,
    RECORD_KEY,
    ROW,
    VALUES,
    Change,
    LoadCounts,
    Record,
    RecordMaker,
    classify,
    free_texts,
    natural_key,
    record_key,
)
from mimamori.ingest.service_layer.unit_of_work import IngestUnitOfWork
from mimamori.kit.audit_trail import access_event, record_access
from mimamori.kit.auth import AccessContext

SERVICE = "ingest"
PURPOSE = "system_operation"
REMOVAL_PAGE = 5000
PREPARE_SLICE = 250  # rows checked between two yields to the event loop
YOUNG_COLLECTION_THRESHOLD = 10_000  # allocations between collections of the youngest generation during a load
ANALYZE_AFTER = 10_000  # records written by one load after which the state's statistics are refreshed
PREPARED_AHEAD = 2  # batches checked ahead of the one being written
ROW_INDEX_CHUNK = 5000  # rows per DeliveryRowsIndexed event

log = logging.getLogger("mimamori.ingest")


def utcnow() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Loading:
    """What loading needs: the unit of work, the kept files, the layouts and their event mappers."""

    uow: Callable[[], IngestUnitOfWork]
    store: FileStore
    layouts: Mapping[str, Layout]
    mappers: Mapping[str, RecordMapper]
    municipality: str
    batch_size: int = 5000


class RunNotFound(LookupError):
    """No load run with this id."""


class FreeTextNotFound(LookupError):
    """No current record with this key holds free text."""


class FreeTextForbidden(PermissionError):
    """The caller's roles may not read this source's free text."""


@dataclass(frozen=True, slots=True)
class FreeText:
    """The free text of one record, by column (概要, 主訴 …)."""

    record_key: str
    source: str
    fields: list[tuple[str, str]]


async def read_free_text(
    record_key: str, *, uow: IngestUnitOfWork, layouts: Mapping[str, Layout], context: AccessContext, route: str
) -> FreeText:
    """One record's free text for case support; the read (or the refusal) is audited with it."""
    async with uow:
        found = await uow.records.find(record_key)
        layout = layouts.get(found[0]) if found is not None else None
        allowed = layout is not None and bool(set(layout.free_text_roles) & set(context.roles))
        fields = await uow.free_texts.of(record_key) if found is not None and allowed else []
        if found is None or found[1] or (allowed and not fields) or layout is None or not layout.free_text_positions:
            outcome, status = access_pb2.OUTCOME_ALLOWED, 404
        elif not allowed:
            outcome, status = access_pb2.OUTCOME_DENIED, 403
        else:
            outcome, status = access_pb2.OUTCOME_ALLOWED, 200
        record_access(
            uow,
            access_event(
                recorder=SERVICE,
                context=context,
                action="read_free_text",
                method="GET",
                route=route,
                outcome=outcome,
                status_code=status,
            ),
        )
        await uow.commit()
    if status == 404:
        raise FreeTextNotFound(record_key)
    if status == 403:
        raise FreeTextForbidden(record_key)
    assert found is not None
    order = {c.name: i for i, c in enumerate(layout.columns)} if layout is not None else {}
    return FreeText(
        record_key=record_key, source=found[0], fields=sorted(fields, key=lambda f: order.get(f[0], len(order)))
    )


def rows_of(
    opener: Callable[[], BinaryIO], *, layout: Layout, file_name: str, layouts: Mapping[str, Layout]
) -> Iterable[tuple[int, list[str]]]:
    """The reader of a layout's format: (row, values) with row 1-based, the header excluded; an adapter
    package's row hook applied to each row."""
    rows: Iterable[tuple[int, list[str]]]
    if layout.format == "xlsx":
        rows = XlsxRows(opener, layout=layout, file_name=file_name, layouts=layouts)
    else:
        rows = CsvRows(opener, layout=layout, file_name=file_name, layouts=layouts)
    return rows if layout.row_hook is None else HookedRows(rows, layout=layout, file_name=file_name)


def layout_for(file_name: str, layouts: Mapping[str, Layout]) -> tuple[DeliveredFileName, Layout]:
    """The layout a file name claims; FileNameRejected when it names none we can load."""
    name = DeliveredFileName.parse(file_name, known=layouts.keys())
    layout = layouts.get(name.source)
    if layout is None:
        raise delivery.not_supported(file_name, source=name.source)
    if name.extension != layout.extension:
        raise delivery.wrong_extension(file_name, source=name.source, expected=layout.extension)
    return name, layout


async def receive_file(
    file_name: str,
    *,
    chunks: AsyncIterator[bytes],
    loading: Loading,
    context: AccessContext,
    route: str,
    max_bytes: int,
) -> LoadRun:
    """Keep a delivered file and queue its load; the upload is audited with it (it names no person)."""
    name, _ = layout_for(file_name, loading.layouts)
    stored = await loading.store.receive(chunks, max_bytes=max_bytes)
    now = utcnow()
    file = DeliveredFile(
        id=str(uuid.uuid4()),
        name=name.name,
        source=name.source,
        month=name.month,
        sha256=stored.sha256,
        size=stored.size,
        received_at=now,
        received_by=context.subject,
    )
    run_id = str(uuid.uuid4())
    async with loading.uow() as uow:
        await uow.files.add(file)
        await uow.runs.add(run_id=run_id, file_id=file.id, requested_by=context.subject, created_at=now)
        record_access(
            uow,
            access_event(
                recorder=SERVICE,
                context=context,
                action="upload",
                method="POST",
                route=route,
                status_code=202,
            ),
        )
        await uow.commit()
    log.info("file received", extra={"run_id": run_id, "source": file.source, "size": file.size})
    return await get_run(run_id, uow=loading.uow())


async def get_run(run_id: str, *, uow: IngestUnitOfWork) -> LoadRun:
    """One run with its counts and progress."""
    async with uow:
        run = await uow.runs.get(run_id)
    if run is None:
        raise RunNotFound(run_id)
    return run


async def list_runs(*, uow: IngestUnitOfWork, limit: int, offset: int) -> tuple[list[LoadRun], int]:
    """Runs, newest first."""
    async with uow:
        return await uow.runs.page(limit=limit, offset=offset)


async def list_quarantine(
    run_id: str, *, uow: IngestUnitOfWork, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """A run's quarantined rows: row, column, reason (never the value)."""
    async with uow:
        if await uow.runs.get(run_id) is None:
            raise RunNotFound(run_id)
        return await uow.quarantine.page(run_id, limit=limit, offset=offset)


async def resume_runs(*, uow: IngestUnitOfWork) -> list[str]:
    """At start: a run left `running` was interrupted: fail it, queue its file again. The queue, in order."""
    now = utcnow()
    async with uow:
        for run_id, file_id in await uow.runs.with_status(RunStatus.RUNNING):
            await uow.runs.update(
                run_id,
                status=RunStatus.FAILED,
                finished_at=now,
                error_code="interrupted",
                error_message="取込み処理が中断されました (サービス停止)。同じファイルを自動で再取込みします",
            )
            await uow.delivery_keys.forget(run_id)
            await uow.runs.add(run_id=str(uuid.uuid4()), file_id=file_id, requested_by="ingest", created_at=now)
        queued = [run_id for run_id, _ in await uow.runs.with_status(RunStatus.QUEUED)]
        await uow.commit()
    return queued


@dataclass(slots=True)
class RowIndex:
    """The row index of one load run (DeliveryRowsIndexed): which record each row that became a record is, emitted
    chunk by chunk in the transaction of the batch the rows belong to, unchanged records included."""

    provenance: Provenance
    chunk: int = 0

    def _event(self, rows: list[tuple[int, str]], *, last: bool) -> tuple[bytes, str]:
        p = self.provenance
        message = delivery_rows_pb2.DeliveryRowsIndexed(
            source=p.source,
            municipality=p.municipality,
            file_name=p.file_name,
            month=p.month,
            file_sha256=p.file_sha256,
            load_run_id=p.load_run_id,
            chunk=self.chunk,
            last_chunk=last,
            rows=[delivery_rows_pb2.IndexedRow(row=row, record_key=key) for row, key in rows],
        )
        self.chunk += 1
        return message.SerializeToString(), p.file_name

    def chunks(self, rows: list[tuple[int, str]]) -> list[tuple[bytes, str]]:
        """The events of a batch's rows (none when it has none)."""
        return [self._event(rows[i : i + ROW_INDEX_CHUNK], last=False) for i in range(0, len(rows), ROW_INDEX_CHUNK)]

    def end(self) -> tuple[bytes, str]:
        """The run's last chunk (no rows): the index of the file is complete."""
        return self._event([], last=True)


@dataclass(slots=True)
class PreparedBatch:
    """Rows checked off the event loop: the valid records (tuples, see `Record`), the quarantine rows of the rest,
    and the record keys the batch met first (with the digest of the row that had each, '' when quarantined)."""

    records: list[Record] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)
    met: dict[str, str] = field(default_factory=dict)
    # valid rows whose key an earlier row of the batch had: (row, record key, digest); whether each is the same row
    # again or another row with that key is decided against the file's first row with the key, maybe in an
    # earlier batch (known when the batch is applied)
    repeats: list[tuple[int, str, str]] = field(default_factory=list)
    rows: int = 0
    quarantined: int = 0


def quarantine_rows(run: LoadRun, *, row: int, issues: Iterable[RowIssue]) -> Iterator[dict[str, Any]]:
    """The quarantine rows of one row's problems: where and why, never the value."""
    file = run.file
    for issue in issues:
        yield {
            "run_id": run.id,
            "file_id": file.id,
            "row": row,
            "column": issue.column,
            "reason_code": issue.code,
            "reason": reason_text(file_name=file.name, row=row, issue=issue),
        }


def duplicate(layout: Layout, *, same_row: bool) -> RowIssue:
    """A row whose key an earlier row of the file had: the same row again, or another row with that key."""
    return RowIssue(
        column="・".join(layout.key),
        code="duplicate_row" if same_row else "duplicate_key",
        expected="「" + "・".join(layout.key) + "」",
    )


def settle_repeats(
    batch: PreparedBatch, earlier: Mapping[str, str], *, layout: Layout, run: LoadRun
) -> tuple[list[Record], int]:
    """Quarantine (into `batch.problems`) the rows whose key the file had before: in this batch (`batch.repeats`)
    or in an earlier one (`earlier`: key → digest of the file's first row with it). The records that remain, and
    how many more rows were quarantined (the repeats within the batch are counted already)."""
    for row, key, digest in batch.repeats:
        first = earlier.get(key, batch.met[key])
        batch.problems.extend(quarantine_rows(run, row=row, issues=[duplicate(layout, same_row=first == digest)]))
    if not earlier:
        return batch.records, 0
    kept: list[Record] = []
    for record in batch.records:
        first_digest = earlier.get(record[RECORD_KEY])
        if first_digest is None:
            kept.append(record)
            continue
        issue = duplicate(layout, same_row=first_digest == record[DIGEST])
        batch.problems.extend(quarantine_rows(run, row=record[ROW], issues=[issue]))
    return kept, len(batch.records) - len(kept)


class Preparation:
    """Checks rows batch by batch. Duplicates within a batch are found here; the keys of earlier batches are in
    the database (`delivery_keys`), so memory does not grow with the file."""

    def __init__(
        self,
        rows: Iterator[tuple[int, list[str]]],
        *,
        layout: Layout,
        run: LoadRun,
        municipality: str,
    ):
        self._rows = rows
        self._layout = layout
        self._run = run
        self._municipality = municipality
        self._make = RecordMaker(layout, municipality=municipality)
        self._occurrences: dict[str, int] = {}  # numbered layouts only (small lists without an identifier)
        self.keyless = False  # a quarantined row whose key is unreadable: removals cannot be trusted

    def _natural(self, values: list[str]) -> str:
        natural = natural_key(self._layout, values)
        if self._layout.duplicates != "number":
            return natural
        # Sources without an identifier: the n-th row with equal key values is the n-th record of that key.
        count = self._occurrences.get(natural, 0) + 1
        self._occurrences[natural] = count
        return natural if count == 1 else f"{natural}#{count}"

    def take(self, size: int, *, into: PreparedBatch | None = None) -> PreparedBatch:
        """The next `size` rows, checked, added to `into` or a new batch (nothing added at the end)."""
        batch = into if into is not None else PreparedBatch()
        size += batch.rows
        layout, make, met, records = self._layout, self._make, batch.met, batch.records
        for row, values in self._rows:
            batch.rows += 1
            issues = check_row(layout, values)
            if not issues:
                record = make(row, values, self._natural(values))
                if record[RECORD_KEY] not in met:
                    met[record[RECORD_KEY]] = record[DIGEST]
                    records.append(record)
                else:
                    batch.repeats.append((row, record[RECORD_KEY], record[DIGEST]))
                    batch.quarantined += 1
                if batch.rows >= size:
                    break
                continue
            if key_is_usable(layout, issues):
                key = record_key(municipality=self._municipality, source=layout.source, natural=self._natural(values))
                met.setdefault(key, "")
            else:
                self.keyless = True
            batch.quarantined += 1
            batch.problems.extend(quarantine_rows(self._run, row=row, issues=issues))
            if batch.rows >= size:
                break
        return batch

    def close(self) -> None:
        """Release the file."""
        close = getattr(self._rows, "close", None)
        if close is not None:
            close()


async def load_delivery(run_id: str, *, loading: Loading) -> LoadRun:
    """Load one queued run to its end: succeeded (maybe as a duplicate), rejected, or failed."""
    async with loading.uow() as uow:
        claimed = await uow.runs.claim(run_id, at=utcnow())
        await uow.commit()
    run = await get_run(run_id, uow=loading.uow())
    if not claimed:
        return run
    file = run.file
    try:
        with _fewer_collections():
            await _load(run, loading=loading)
    except StructuralError as error:
        log.info("file rejected", extra={"run_id": run_id, "source": file.source, "code": error.code})
        await _finish(run_id, loading=loading, status=RunStatus.REJECTED, error_code=error.code, message=error.message)
    except Exception as error:
        # Only the type: an exception's text may quote a value.
        log.error("load failed", extra={"run_id": run_id, "source": file.source, "error": type(error).__name__})
        await _finish(
            run_id,
            loading=loading,
            status=RunStatus.FAILED,
            error_code="load_failed",
            message=f"ファイル「{file.name}」の取込み中にシステムエラーが発生しました。"
            "取り込まれた分は有効ですが、ファイルは受理されていません。再送信してください",
        )
    return await get_run(run_id, uow=loading.uow())


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """A load allocates millions of short-lived tuples and lists; the cyclic collector's youngest generation runs
    after every 700 allocations by default, and its scans (and promotions) cost a tenth of a load's CPU. While a
    load runs it runs less often; the thresholds are restored after."""
    thresholds = gc.get_threshold()
    gc.set_threshold(max(thresholds[0], YOUNG_COLLECTION_THRESHOLD), *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


async def _finish(run_id: str, *, loading: Loading, status: RunStatus, error_code: str, message: str) -> None:
    async with loading.uow() as uow:
        await uow.runs.update(run_id, status=status, finished_at=utcnow(), error_code=error_code, error_message=message)
        await uow.delivery_keys.forget(run_id)
        await uow.commit()


async def _load(run: LoadRun, *, loading: Loading) -> None:
    file = run.file
    layout = loading.layouts.get(file.source)
    if layout is None:
        raise delivery.StructuralError(
            "layout_not_supported", delivery.not_supported(file.name, source=file.source).message
        )
    async with loading.uow() as uow:
        # The same name with the same bytes is a re-delivery that changes nothing: its counts are its twin's (every
        # record unchanged). Equal bytes under another name (a month in which the source did not change) are
        # loaded as usual: all unchanged, nothing emitted, and the month's counts add up.
        earlier = await uow.files.accepted_with_digest(
            source=file.source, sha256=file.sha256, other_than=file.id, name=file.name
        )
        if earlier is not None:
            now = utcnow()
            twin = await uow.runs.last_succeeded_of(earlier.id)
            counts = LoadCounts()
            if twin is not None:
                counts.rows = twin.counts.get("rows", 0)
                counts.quarantined = twin.counts.get("quarantined", 0)
                counts.unchanged = counts.rows - counts.quarantined
                await uow.quarantine.copy(from_run=twin.id, to_run=run.id, file_id=file.id)
            await uow.runs.update(
                run.id,
                status=RunStatus.SUCCEEDED,
                duplicate_of=earlier.id,
                progress=1.0,
                finished_at=now,
                total_rows=counts.rows,
                removals_withheld=twin.removals_withheld if twin is not None else False,
                **counts.as_dict(),
            )
            await uow.files.mark_accepted(file.id, at=now)
            await uow.commit()
            log.info("duplicate delivery", extra={"run_id": run.id, "source": file.source})
            return
    path = loading.store.path(file.sha256)
    if not path.exists():
        raise FileNotFoundError("delivered bytes missing")
    rows = rows_of(lambda: path.open("rb"), layout=layout, file_name=file.name, layouts=loading.layouts)
    total = await asyncio.to_thread(check_structure, rows, layout=layout, file_name=file.name, allow_empty=True)
    scope = file.month if layout.snapshot == "month" else ""
    async with loading.uow() as uow:
        if total == 0 and layout.snapshot == "full" and await uow.records.any_present(layout.source):
            raise delivery.no_rows(file.name)
        if layout.snapshot == "full" and file.month:
            latest = await uow.files.latest_accepted_month(layout.source)
            if latest and file.month < latest:
                raise delivery.older_snapshot(file.name, month=file.month, latest=latest)
        # A source without any record yet (its first load): every record is new (see FirstLoad).
        first_load = None if await uow.records.any_of_source(layout.source) else FirstLoad()
        await uow.runs.update(run.id, total_rows=total)
        await uow.commit()

    counts = LoadCounts()
    mapper = loading.mappers[layout.source]
    provenance = Provenance(
        source=layout.source,
        municipality=loading.municipality,
        file_name=file.name,
        file_sha256=file.sha256,
        load_run_id=run.id,
        month=file.month,
    )
    preparation = Preparation(iter(rows), layout=layout, run=run, municipality=loading.municipality)
    # Batch n+1 is checked while batch n is written, on the event loop (a thread would only fight for the
    # GIL), so Python works while the database does; checking yields every PREPARE_SLICE rows.
    prepared: asyncio.Queue[PreparedBatch | BaseException] = asyncio.Queue(maxsize=PREPARED_AHEAD)
    producer = asyncio.create_task(_produce(preparation, prepared, batch_size=loading.batch_size))
    index = RowIndex(provenance)
    try:
        while True:
            batch = await prepared.get()
            if isinstance(batch, BaseException):
                raise batch
            if batch.rows == 0:
                break
            committed = await _apply(
                batch,
                run=run,
                layout=layout,
                mapper=mapper,
                provenance=provenance,
                total=total,
                withheld=preparation.keyless,
                scope=scope,
                first_load=first_load,
                loading=loading,
                index=index,
            )
            counts.merge(committed)
    finally:
        producer.cancel()
        with contextlib.suppress(BaseException):
            await producer
        preparation.close()

    if counts.added + counts.changed >= ANALYZE_AFTER:
        async with loading.uow() as uow:
            await uow.records.analyze()
            await uow.commit()
    snapshot = layout.snapshot in ("full", "month")
    withheld = snapshot and preparation.keyless
    if snapshot and not withheld and first_load is None:
        await _remove_absent(
            run=run,
            layout=layout,
            mapper=mapper,
            provenance=provenance,
            counts=counts,
            scope=scope,
            loading=loading,
        )
    now = utcnow()
    async with loading.uow() as uow:
        await uow.runs.update(
            run.id,
            status=RunStatus.SUCCEEDED,
            progress=1.0,
            finished_at=now,
            removals_withheld=withheld,
            **counts.as_dict(),
        )
        await uow.files.mark_accepted(file.id, at=now)
        await uow.delivery_keys.forget(run.id)
        await uow.publish_payloads(
            [index.end()], example=delivery_rows_pb2.DeliveryRowsIndexed(), actor=run.requested_by, purpose=PURPOSE
        )
        await uow.commit()
    log.info("file loaded", extra={"run_id": run.id, "source": file.source, **counts.as_dict()})


async def _produce(
    preparation: Preparation, prepared: asyncio.Queue[PreparedBatch | BaseException], *, batch_size: int
) -> None:
    try:
        while True:
            batch = PreparedBatch()
            while batch.rows < batch_size:
                before = batch.rows
                preparation.take(min(PREPARE_SLICE, batch_size - batch.rows), into=batch)
                if batch.rows == before:
                    break
                await asyncio.sleep(0)
            await prepared.put(batch)
            if batch.rows == 0:
                return
    except Exception as error:
        await prepared.put(error)


async def _apply(
    batch: PreparedBatch,
    *,
    run: LoadRun,
    layout: Layout,
    mapper: RecordMapper,
    provenance: Provenance,
    total: int,
    withheld: bool,
    scope: str,
    first_load: FirstLoad | None,
    loading: Loading,
    index: RowIndex,
) -> LoadCounts:
    """One batch in one transaction: keys met, state, events (outbox), quarantine and the run's tally; its counts.
    `first_load`: the source had no record when the load began (see FirstLoad)."""
    now = utcnow()
    source, file_id, run_id = layout.source, run.file.id, run.id
    records, problems, quarantined = batch.records, batch.problems, batch.quarantined
    async with loading.uow() as uow:
        if first_load is None:
            earlier = await uow.delivery_keys.meet(run_id, batch.met)
            previous = await uow.records.previous(source, [r[RECORD_KEY] for r in records])
        else:
            earlier = await _met_on_first_load(uow, batch, first_load=first_load, source=source, run_id=run_id)
            previous = {}
        records, repeated = settle_repeats(batch, earlier, layout=layout, run=run)
        quarantined += repeated
        tally = LoadCounts(rows=batch.rows, quarantined=quarantined)
        added: list[State] = []
        changed: list[State] = []
        payloads: list[tuple[bytes, str]] = []
        texts: list[dict[str, Any]] = []
        rewritten: list[str] = []
        for record in records:
            key = record[RECORD_KEY]
            before = previous.get(key)
            change = classify(before, record[DIGEST])
            tally.count(change)
            if change is Change.UNCHANGED:
                continue
            state = (key, record[NATURAL_KEY], record[DIGEST], record[DOCUMENT], record[ROW])
            (added if before is None else changed).append(state)
            if layout.free_text_positions:
                rewritten.append(key)
                texts.extend(
                    {"record_key": key, "source": source, "column": column, "text": text, "updated_at": now}
                    for column, text in free_texts(layout, record[VALUES]).items()
                )
            payload = mapper.payload(
                values=record[VALUES], record_key=key, provenance=provenance, row=record[ROW], change=change
            )
            payloads.append((payload, key))
        await uow.records.write(
            source, added=added, changed=changed, file_id=file_id, run_id=run_id, scope=scope, at=now
        )
        await uow.publish_payloads(payloads, example=mapper.example, actor=run.requested_by, purpose=PURPOSE)
        await uow.publish_payloads(
            index.chunks([(record[ROW], record[RECORD_KEY]) for record in records]),
            example=delivery_rows_pb2.DeliveryRowsIndexed(),
            actor=run.requested_by,
            purpose=PURPOSE,
        )
        await uow.free_texts.replace(rewritten, texts)
        await uow.quarantine.add_many(problems)
        await uow.runs.add_counts(run_id, tally.as_dict(), total=total, removals_withheld=withheld)
        await uow.commit()
    return tally


@dataclass(slots=True)
class FirstLoad:
    """A load of a source that had no record when it began: every record is new, and a key is in the state only
    if an earlier batch of this load added it. So the state itself tells the keys this load met, and only the keys
    of quarantined rows go to `delivery_keys` (`held`: some did); nothing can be absent at the end."""

    held: bool = False


async def _met_on_first_load(
    uow: IngestUnitOfWork, batch: PreparedBatch, *, first_load: FirstLoad, source: str, run_id: str
) -> dict[str, str]:
    """The keys the batch met first that an earlier batch met, with the digest of the row that had each then ('' for
    a quarantined row); the keys of this batch's quarantined rows met for the first time are held for later batches."""
    keys = list(batch.met)
    earlier = {key: found.digest for key, found in (await uow.records.previous(source, keys)).items()}
    if first_load.held:
        earlier |= await uow.delivery_keys.among(run_id, [k for k in keys if k not in earlier])
    held = {key: "" for key, digest in batch.met.items() if not digest and key not in earlier}
    if held:
        await uow.delivery_keys.meet(run_id, held)
        first_load.held = True
    return earlier


async def _remove_absent(
    *,
    run: LoadRun,
    layout: Layout,
    mapper: RecordMapper,
    provenance: Provenance,
    counts: LoadCounts,
    scope: str,
    loading: Loading,
) -> None:
    """Full snapshot: each accepted record whose key the delivery lacks is REMOVED (with its last values).
    Month snapshot: the same, among the records of the delivery's month only. The keys the run met are in the
    database: the absent records come from one anti-join per page."""
    after = ""
    width = len(layout.columns)
    only = scope if layout.snapshot == "month" else None
    while True:
        async with loading.uow() as uow:
            page = await uow.records.absent(layout.source, run_id=run.id, after=after, limit=REMOVAL_PAGE, scope=only)
        if not page:
            return
        after = page[-1]
        for start in range(0, len(page), loading.batch_size):
            chunk = page[start : start + loading.batch_size]
            async with loading.uow() as uow:
                documents = await uow.records.documents(layout.source, chunk)
                removed: list[tuple[bytes, str]] = []
                for key in chunk:
                    _, document = documents[key]
                    values = (json.loads(document) + [""] * width)[:width]
                    payload = mapper.payload(
                        values=values, record_key=key, change=Change.REMOVED, provenance=provenance, row=0
                    )
                    removed.append((payload, key))
                await uow.publish_payloads(removed, example=mapper.example, actor=run.requested_by, purpose=PURPOSE)
                await uow.records.mark_removed(layout.source, chunk, run_id=run.id, file_id=run.file.id, at=utcnow())
                if layout.free_text_positions:
                    await uow.free_texts.replace(chunk, [])
                await uow.runs.add_counts(run.id, {"removed": len(chunk)})
                await uow.commit()
            counts.removed += len(chunk)
