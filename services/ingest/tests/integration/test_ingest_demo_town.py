"""The demo town of the embedded form, and synthtown's files loaded through the jumin spec."""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mimamori.ingest.adapters.file_store import file_chunks
from mimamori.ingest.module import IngestModule
from mimamori.ingest.service_layer import handlers
from mimamori.kit.auth import AccessContext
from mimamori.kit.config import PlatformSettings
from mimamori.kit.messaging.inprocess import InProcessBus
from mimamori.kit.runtime.process import Runtime, running

pytestmark = pytest.mark.integration

synthtown = pytest.importorskip("mimamori.synthtown")


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    settings = PlatformSettings(data_dir=tmp_path, outbox_poll_seconds=0.2)
    async with running(targets=["ingest"], settings=settings, bus=InProcessBus()) as rt:
        yield rt


def ingest(rt: Runtime) -> IngestModule:
    module = rt.module("ingest")
    assert isinstance(module, IngestModule)
    return module


async def test_demo_town_is_seeded_once_and_names_a_demo_child(runtime: Runtime) -> None:
    module = ingest(runtime)
    assert not runtime.platform.embedded
    runs, total = await handlers.list_runs(uow=module.loading.uow(), limit=10, offset=0)
    assert total == 0  # a single-target process seeds nothing
    await module.seed_demo_town(runtime.platform)
    await runtime.wait_idle(timeout=120)
    runs, total = await handlers.list_runs(uow=module.loading.uow(), limit=10, offset=0)
    assert total == 1
    run = runs[0]
    assert (run.status, run.file.name) == ("succeeded", "jumin_202604.csv")
    assert run.counts["rows"] > 300 and run.counts["quarantined"] == 0
    assert run.counts["added"] == run.counts["rows"]

    hint = module.demo_hint()
    assert hint is not None and len(hint) == 10 and hint.isdigit()
    demo = runtime.platform.settings.data_dir / "ingest" / "demo"
    with (demo / "jumin_202604.csv").open(encoding="cp932", newline="") as stream:
        child = next(r for r in csv.DictReader(stream) if r["宛名番号"] == hint)
    assert (child["住民区分"], child["支援措置"]) == ("住民", "")
    assert "20100402" <= child["生年月日"] <= "20200401"

    await module.seed_demo_town(runtime.platform)  # something was loaded already: nothing new
    assert (await handlers.list_runs(uow=module.loading.uow(), limit=10, offset=0))[1] == 1
    assert module.demo_hint() == hint


async def test_synthtown_months_load_cleanly_and_later_months_only_send_differences(
    runtime: Runtime, tmp_path: Path
) -> None:
    out = tmp_path / "town"
    synthtown.generate_town(seed=7, households=60, months=["202604", "202605", "202606"], out_dir=out)
    module = ingest(runtime)
    context = AccessContext(
        subject="t", roles=["sysadmin"], purpose="system_operation", decision_id="", municipality="143669"
    )
    counts = []
    for month in ("202604", "202605", "202606"):
        path = out / f"jumin_{month}.csv"
        run = await handlers.receive_file(
            path.name,
            chunks=file_chunks(path),
            loading=module.loading,
            context=context,
            route="test",
            max_bytes=10**9,
        )
        module.worker.submit(run.id)
        await module.worker.wait(run.id)
        finished = await handlers.get_run(run.id, uow=module.loading.uow())
        assert finished.status == "succeeded", finished.error_message
        counts.append(finished.counts)
    assert all(c["quarantined"] == 0 for c in counts)
    assert counts[0]["added"] == counts[0]["rows"]
    for later in counts[1:]:
        assert later["unchanged"] > later["added"] + later["changed"]
        assert later["added"] + later["changed"] > 0
