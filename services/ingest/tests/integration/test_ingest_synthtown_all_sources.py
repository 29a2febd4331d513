"""Every source of a synthetic town, three months, on SQLite and PostgreSQL: each data row becomes a record or is
quarantined, the counts add up per file, the person references of each row match the town's truth, the same
month again changes nothing, and a corrected re-delivery emits exactly its difference."""

from __future__ import annotations

import collections
import csv
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from mimamori.contracts import decode
from mimamori.events.ingest.v1 import person_record_pb2, source_record_pb2
from mimamori.ingest.adapters.file_store import file_chunks
from mimamori.ingest.entrypoints.api.schemas import LoadRunRead
from mimamori.ingest.module import IngestModule
from mimamori.ingest.service_layer import handlers
from mimamori.kit.auth import AccessContext
from mimamori.kit.config import PlatformSettings
from mimamori.kit.messaging.inprocess import InProcessBus
from mimamori.kit.runtime.process import Runtime, running
from mimamori.synthtown import generate_town

pytestmark = pytest.mark.integration

MONTHS = ("202604", "202605", "202606")
TOPIC = "ingest.source-record.v1"
ADDED = person_record_pb2.RECORD_CHANGE_ADDED
CHANGED = person_record_pb2.RECORD_CHANGE_CHANGED
REMOVED = person_record_pb2.RECORD_CHANGE_REMOVED
# The row names only the 世帯主; truth also lists the other members of the 生活保護 household (世帯人員 counts them).
NOT_NAMED_BY_THE_ROW = {"household_member"}
CSV_FORMATS = {"cp932": ("cp932", "\r\n"), "utf-8-sig": ("utf-8-sig", "\n"), "utf-8": ("utf-8", "\n")}


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("town")
    generate_town(seed=7, households=150, months=list(MONTHS), out_dir=out)
    return out


@pytest.fixture(params=["sqlite", "postgresql"])
async def runtime(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Runtime]:
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    settings = PlatformSettings(data_dir=tmp_path, database_url=url, outbox_poll_seconds=0.2)
    async with running(targets=["ingest"], settings=settings, bus=InProcessBus()) as rt:
        yield rt


def module(rt: Runtime) -> IngestModule:
    found = rt.module("ingest")
    assert isinstance(found, IngestModule)
    return found


async def deliver(rt: Runtime, path: Path) -> dict[str, Any]:
    """Receive and load one file as the CLI does; the finished run."""
    ingest = module(rt)
    context = AccessContext(
        subject="officer-1", roles=["data_officer"], purpose="system_operation", decision_id="", municipality="143669"
    )
    run = await handlers.receive_file(
        path.name,
        chunks=file_chunks(path),
        loading=ingest.loading,
        context=context,
        route="test",
        max_bytes=1 << 30,
    )
    ingest.worker.submit(run.id)
    await ingest.worker.wait(run.id)
    await rt.wait_idle()
    finished = await handlers.get_run(run.id, uow=ingest.loading.uow())
    return LoadRunRead.of(finished).model_dump(mode="json")


def month_files(town: Path, month: str) -> list[Path]:
    """The month's delivered files, in name order."""
    return sorted(town.glob(f"*_{month}.*"))


def published(rt: Runtime) -> list[source_record_pb2.SourceRecordReceived]:
    bus = rt.platform.bus
    assert isinstance(bus, InProcessBus)
    return [decode(e.type, e.payload) for e in bus.messages(TOPIC)]  # type: ignore[misc]


def truth_roles(town: Path) -> dict[tuple[str, int], list[str]]:
    roles: dict[tuple[str, int], list[str]] = collections.defaultdict(list)
    with (town / "truth" / "references.csv").open(encoding="utf-8", newline="") as stream:
        for line in csv.DictReader(stream):
            if line["role"] not in NOT_NAMED_BY_THE_ROW:
                roles[(line["file"], int(line["row"]))].append(line["role"])
    return roles


def repeated_rows(path: Path, encoding: str) -> int:
    """Rows equal to an earlier row of the same CSV file (exported twice)."""
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode(encoding), newline="")))[1:]
    return len(rows) - len({tuple(r) for r in rows})


async def test_every_row_of_every_source_is_a_record_or_quarantined_and_names_the_right_persons(
    runtime: Runtime, town: Path
) -> None:
    manifest = json.loads((town / "truth" / "manifest.json").read_text(encoding="utf-8"))
    layouts = module(runtime).loading.layouts
    assert len(layouts) == 19
    runs: dict[str, dict[str, Any]] = {}
    for month in MONTHS:
        for path in month_files(town, month):
            runs[path.name] = await deliver(runtime, path)
    assert set(runs) == set(manifest["files"])
    for name, run in runs.items():
        assert run["status"] == "succeeded", (name, run["error"])
        counts = run["counts"]
        source = run["file"]["source"]
        layout = layouts[source]
        assert counts["rows"] == manifest["files"][name], name
        records = counts["rows"] - counts["quarantined"]
        assert records == counts["added"] + counts["changed"] + counts["unchanged"], name
        if layout.format == "csv" and layout.duplicates == "quarantine":
            assert counts["quarantined"] == repeated_rows(town / name, layout.encoding), name
        else:
            assert counts["quarantined"] == 0, name
        if layout.snapshot == "month" or name.endswith(f"_{MONTHS[0]}.csv") or name.endswith(f"_{MONTHS[0]}.xlsx"):
            # a month's own events (and every first delivery) are all new
            assert counts["added"] == records and counts["removed"] == 0, name

    events = published(runtime)
    truth = truth_roles(town)
    emitted_rows = collections.Counter()
    for event in events:
        if event.change == REMOVED:
            continue
        where = (event.provenance.file_name, event.provenance.row)
        emitted_rows[event.provenance.file_name] += 1
        assert [p.role for p in event.persons] == truth[where], where
        assert event.month == event.provenance.file_name.rsplit("_", 1)[1][:6]
        assert event.WhichOneof("body") is not None
    for name, run in runs.items():
        if run["file"]["source"] != "jumin":
            assert emitted_rows[name] == run["counts"]["added"] + run["counts"]["changed"], name

    # The same month again: every file is a duplicate, nothing is emitted.
    before = len(published(runtime))
    for path in month_files(town, MONTHS[-1]):
        again = await deliver(runtime, path)
        assert again["status"] == "succeeded" and again["duplicate"], path.name
    assert len(published(runtime)) == before


def _edit_csv(path: Path, encoding: str, *, edits: dict[int, tuple[int, str]], delete: int) -> tuple[bytes, set[int]]:
    codec, line_end = CSV_FORMATS[encoding]
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode(codec), newline="")))
    for row, (column, value) in edits.items():
        rows[row][column] = value
    del rows[delete]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=line_end).writerows(rows)
    return buffer.getvalue().encode(codec), set(edits)


async def test_a_corrected_redelivery_emits_exactly_its_difference(
    runtime: Runtime, town: Path, tmp_path: Path
) -> None:
    for path in month_files(town, MONTHS[0]):
        assert (await deliver(runtime, path))["status"] == "succeeded"
    corrected = tmp_path / "corrected"
    corrected.mkdir()

    # 相談記録 (CP932): two 主訴分類 corrected, one consultation withdrawn.
    soudan = town / f"soudan_{MONTHS[0]}.csv"
    data, _ = _edit_csv(soudan, "cp932", edits={1: (7, "訂正"), 3: (7, "訂正")}, delete=2)
    # 出欠 (month snapshot, UTF-8 BOM): one 理由 (free text) corrected, one mark withdrawn.
    shusseki = town / f"koumu_shusseki_{MONTHS[0]}.csv"
    data_s, _ = _edit_csv(shusseki, "utf-8-sig", edits={4: (4, "訂正した理由")}, delete=5)
    # 生活保護 (XLSX): a 世帯人員 corrected, one case withdrawn.
    seiho = town / f"seiho_{MONTHS[0]}.xlsx"
    workbook = openpyxl.load_workbook(seiho)
    sheet = workbook["受給世帯"]
    sheet.cell(row=2, column=5).value = 9
    sheet.delete_rows(3)
    buffer = io.BytesIO()
    workbook.save(buffer)

    expectations = {
        soudan.name: (data, {"changed": 2, "removed": 1}),
        shusseki.name: (data_s, {"changed": 1, "removed": 1}),
        seiho.name: (buffer.getvalue(), {"changed": 1, "removed": 1}),
    }
    for name, (body, expected) in expectations.items():
        before = len(published(runtime))
        (corrected / name).write_bytes(body)
        run = await deliver(runtime, corrected / name)
        assert run["status"] == "succeeded" and not run["duplicate"], (name, run["error"])
        counts = run["counts"]
        assert (counts["added"], counts["changed"], counts["removed"]) == (0, expected["changed"], expected["removed"])
        new = published(runtime)[before:]
        assert sorted(e.change for e in new) == sorted(
            [CHANGED] * expected["changed"] + [REMOVED] * expected["removed"]
        )
        assert all(e.provenance.file_name == name for e in new)
        # the same corrected bytes once more: nothing
        again = await deliver(runtime, corrected / name)
        assert again["duplicate"] and len(published(runtime)) == before + len(new)

    # Next month's attendance holds other days: it removes nothing of the month before.
    run = await deliver(runtime, town / f"koumu_shusseki_{MONTHS[1]}.csv")
    assert run["counts"]["removed"] == 0 and run["counts"]["added"] > 0
