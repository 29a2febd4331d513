"""Fuzz against the store (SQLite and PostgreSQL): a mutated delivery of every layout that is rejected changes
nothing (no state, no event, no quarantine row, no free text); one that loads adds up. And a broken XLSX whose
first rows are fine changes nothing either."""

from __future__ import annotations

import io
import random
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from mimamori.ingest.adapters.layouts import builtin_layouts
from mimamori.ingest.module import IngestModule
from mimamori.ingest.mutations import mutants
from mimamori.ingest.service_layer import handlers
from mimamori.ingest.service_layer.trial import try_file
from mimamori.kit.auth import AccessContext
from mimamori.kit.config import PlatformSettings
from mimamori.kit.messaging.inprocess import InProcessBus
from mimamori.kit.runtime.process import Runtime, running
from mimamori.synthtown import generate_town

pytestmark = pytest.mark.integration

LAYOUTS = builtin_layouts()
MONTH = "202604"
CONTEXT = AccessContext(
    subject="officer-fuzz", roles=["data_officer"], purpose="system_operation", decision_id="", municipality="143669"
)


@pytest.fixture(params=["sqlite", "postgresql"])
async def runtime(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                  ) -> AsyncIterator[Runtime]:  # fmt: skip
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    monkeypatch.setenv("MIMAMORI_INGEST_BATCH_SIZE", "7")  # several batches: a late failure must still change nothing
    monkeypatch.setenv("MIMAMORI_INGEST_SEED_DEMO", "false")
    settings = PlatformSettings(data_dir=tmp_path, database_url=url, outbox_poll_seconds=0.2)
    async with running(targets=["ingest"], settings=settings, bus=InProcessBus()) as rt:
        yield rt


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("town")
    generate_town(seed=23, households=20, months=[MONTH], out_dir=out)
    return out


def module(rt: Runtime) -> IngestModule:
    found = rt.module("ingest")
    assert isinstance(found, IngestModule)
    return found


async def deliver(rt: Runtime, name: str, data: bytes) -> Any:
    """Receive and load one file; the finished run."""
    app = module(rt).app
    assert app is not None
    loading: handlers.Loading = app.state.loading

    async def chunks() -> AsyncIterator[bytes]:
        yield data

    run = await handlers.receive_file(
        name, chunks=chunks(), loading=loading, context=CONTEXT, route="test", max_bytes=1 << 24
    )
    return await handlers.load_delivery(run.id, loading=loading)


async def store(rt: Runtime) -> dict[str, Any]:
    """Everything a load may change, as comparable values."""
    found = module(rt)
    assert found.sessions is not None
    records, quarantine, texts = (found.tables[t] for t in ("source_records", "quarantine", "free_texts"))
    outbox = found.outbox_table
    async with found.sessions() as session:
        state = await session.execute(
            select(records.c.source, records.c.record_key, records.c.digest, records.c.removed).order_by(
                records.c.source, records.c.record_key
            )
        )
        free = await session.execute(select(texts.c.record_key, texts.c.column, texts.c.text).order_by(
            texts.c.record_key, texts.c.column))  # fmt: skip
        return {
            "records": [tuple(r) for r in state],
            "free_texts": [tuple(r) for r in free],
            "quarantine": await session.scalar(select(func.count()).select_from(quarantine)),
            "events": await session.scalar(
                select(func.count()).select_from(outbox).where(outbox.c.topic.like("ingest.%-record.v1"))
            ),
        }


async def test_rejected_mutants_of_every_layout_change_nothing(runtime: Runtime, town: Path) -> None:
    rejected_total = loaded_total = 0
    for source, layout in sorted(LAYOUTS.items()):
        name = f"{source}_{MONTH}.{layout.extension}"
        seed = (town / name).read_bytes()
        first = await deliver(runtime, name, seed)
        assert first.status.value == "succeeded", (source, first.error_message)
        rng = random.Random(f"store/{source}")
        picked: dict[str, int] = {"rejected": 0, "loaded": 0}
        for mutant in mutants(seed, file_format=layout.format, encoding=layout.encoding, rng=rng, count=60):
            trial = try_file(lambda d=mutant.data: io.BytesIO(d), file_name=name, layout=layout, layouts=LAYOUTS,
                             municipality="143669")  # fmt: skip
            kind = "rejected" if trial.error is not None else "loaded"
            if picked[kind] >= (2 if kind == "rejected" else 1):
                continue
            picked[kind] += 1
            before = await store(runtime)
            run = await deliver(runtime, name, mutant.data)
            after = await store(runtime)
            if kind == "rejected":
                assert run.status.value == "rejected" and run.error_code == trial.error.code, (source, mutant.how)
                assert name in (run.error_message or "")
                assert after == before, (source, mutant.how)
                rejected_total += 1
            else:
                assert run.status.value == "succeeded", (source, mutant.how, run.error_message)
                counts = run.counts
                assert counts["rows"] == trial.total and counts["quarantined"] == trial.quarantined, (
                    source,
                    mutant.how,
                )
                assert after["quarantine"] - before["quarantine"] == len(trial.problems), (source, mutant.how)
                loaded_total += 1
            if all(picked[k] >= n for k, n in (("rejected", 2), ("loaded", 1))):
                break
    assert rejected_total >= 30 and loaded_total >= 15, (rejected_total, loaded_total)


def _cut_sheet(data: bytes, *, keep_rows: int) -> bytes:
    """The workbook with its sheet XML cut off after `keep_rows` complete rows (the rest lost in transit)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                ends = [i for i in range(len(body)) if body.startswith(b"</row>", i)]
                assert len(ends) > keep_rows + 1
                body = body[: ends[keep_rows] + len(b"</row>")] + b"<row r="
            target.writestr(info, body)
    return out.getvalue()


@pytest.mark.parametrize("source", ["shugaku_enjo", "gyakutai_tsukoku"])
async def test_a_broken_xlsx_changes_nothing(runtime: Runtime, town: Path, source: str) -> None:
    name = f"{source}_{MONTH}.xlsx"
    seed = (town / name).read_bytes()
    assert (await deliver(runtime, name, seed)).status.value == "succeeded"
    before = await store(runtime)
    broken = _cut_sheet(seed, keep_rows=1)  # the header and a valid first row, then the sheet breaks off
    run = await deliver(runtime, name, broken)
    assert run.status.value == "rejected" and run.error_code == "bad_xlsx", run.error_message
    assert name in (run.error_message or "") and run.counts.get("rows", 0) == 0
    assert await store(runtime) == before
    fresh = f"{source}_{202605}.xlsx"
    other = await deliver(runtime, fresh, _cut_sheet(seed, keep_rows=0))
    assert other.status.value == "rejected" and await store(runtime) == before
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", b"<a>" + b"\x20" * (8 * 1024 * 1024) + b"</a>")
    exploded = await deliver(runtime, f"{source}_202606.xlsx", bomb.getvalue())
    assert exploded.status.value == "rejected" and exploded.error_code == "xlsx_too_large"
    assert await store(runtime) == before
