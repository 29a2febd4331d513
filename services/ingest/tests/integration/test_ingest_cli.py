"""`mimamori ingest load`: which files of a month it takes, the in-process load, the upload via a gateway."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from mimamori.ingest.entrypoints import cli
from mimamori.kit.auth import CONTEXT_HEADER, AccessContext
from mimamori.kit.config import PlatformSettings
from mimamori.kit.messaging.inprocess import InProcessBus
from mimamori.kit.runtime.process import running

pytestmark = pytest.mark.integration


@pytest.fixture
def deliveries(tmp_path: Path, jumin) -> Path:
    directory = tmp_path / "deliveries"
    directory.mkdir()
    (directory / "jumin_202604.csv").write_bytes(jumin.bytes(jumin.town(12)))
    (directory / "jumin_202605.csv").write_bytes(jumin.bytes(jumin.town(13)))  # another month: not listed
    (directory / "kenshin_202604.xlsx").write_bytes(b"x")  # 健診 comes as CSV
    (directory / "notes.txt").write_text("memo")
    (directory / "truth").mkdir()
    return directory


def test_plan_takes_the_months_supported_files_and_lists_the_rest_as_skipped(deliveries: Path) -> None:
    plan = cli.plan_directory(deliveries, month="202604")
    assert [p.name for p in plan.files] == ["jumin_202604.csv"]
    assert [(s["file"], s["reason"]) for s in plan.skipped] == [
        ("kenshin_202604.xlsx", "wrong_extension"),
        ("notes.txt", "unrecognised"),
    ]


def test_load_command_prints_a_line_per_file_and_writes_json(
    deliveries: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "EMBEDDED_TARGETS", ("ingest",))
    summary = tmp_path / "summary.json"
    data_dir = tmp_path / "data"
    runner = CliRunner()
    args = ["load", str(deliveries), "--month", "202604", "--data-dir", str(data_dir), "--json", str(summary)]
    first = runner.invoke(cli.ingest, args)
    assert first.exit_code == 0, first.output
    lines = first.output.splitlines()
    assert lines[0] == ("jumin_202604.csv: succeeded records=12 added=12 changed=0 unchanged=0 removed=0 quarantined=0")
    assert lines[1].startswith("kenshin_202604.xlsx: skipped (wrong_extension)")
    written = json.loads(summary.read_text(encoding="utf-8"))
    assert written["month"] == "202604"
    assert written["files"][0]["counts"]["added"] == 12 and written["files"][0]["status"] == "succeeded"
    assert [s["file"] for s in written["skipped"]] == ["kenshin_202604.xlsx", "notes.txt"]
    assert (data_dir / "ingest.db").exists()
    assert not (data_dir / "ingest" / "demo").exists()  # the CLI never seeds the demo town

    again = runner.invoke(cli.ingest, args)
    assert again.exit_code == 0, again.output
    assert "(duplicate: same bytes as an accepted delivery, nothing changed)" in again.output.splitlines()[0]


def test_load_command_fails_when_a_file_is_rejected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jumin) -> None:
    monkeypatch.setattr(cli, "EMBEDDED_TARGETS", ("ingest",))
    directory = tmp_path / "in"
    directory.mkdir()
    (directory / "jumin_202604.csv").write_bytes(jumin.bytes(jumin.town(3), line_end="\n"))
    result = CliRunner().invoke(
        cli.ingest, ["load", str(directory), "--month", "202604", "--data-dir", str(tmp_path / "d")]
    )
    assert result.exit_code == 1
    assert result.output.startswith("jumin_202604.csv: rejected line_end: ファイル「jumin_202604.csv」の見出し行")


def test_month_must_be_yyyymm(deliveries: Path) -> None:
    result = CliRunner().invoke(cli.ingest, ["load", str(deliveries), "--month", "2026-04"])
    assert result.exit_code == 2 and "YYYYMM" in result.output


async def test_upload_through_the_gateway_polls_until_the_run_ends(deliveries: Path, tmp_path: Path) -> None:
    settings = PlatformSettings(data_dir=tmp_path / "data", outbox_poll_seconds=0.2)
    async with running(targets=["ingest"], settings=settings, bus=InProcessBus()) as rt:
        app = rt.module("ingest").app
        signer = rt.platform.context_signer
        assert app is not None and signer is not None
        seen: list[tuple[str, str, str]] = []

        async def gateway(request: httpx.Request) -> httpx.Response:
            # Stands in for the gateway: checks the token and purpose, strips /api/ingest, signs a context.
            seen.append((request.method, request.headers["authorization"], request.headers["x-purpose"]))
            assert request.url.path.startswith("/api/ingest/")
            context = AccessContext(
                subject="officer-1",
                roles=["data_officer"],
                purpose=request.headers["x-purpose"],
                decision_id=str(uuid.uuid4()),
                municipality="143669",
            )
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ingest") as inner:
                forwarded = await inner.request(
                    request.method,
                    request.url.path.removeprefix("/api/ingest"),
                    params=request.url.params,
                    content=await request.aread(),
                    headers={CONTEXT_HEADER: signer.sign(context)},
                )
            return httpx.Response(forwarded.status_code, content=forwarded.content, headers=forwarded.headers)

        plan = cli.plan_directory(deliveries, month="202604")
        results = await cli.upload(
            plan, url="http://gateway.test", token="t0ken", transport=httpx.MockTransport(gateway), poll=0.05
        )
    assert [(r["file"]["name"], r["status"], r["counts"]["added"]) for r in results] == [
        ("jumin_202604.csv", "succeeded", 12)
    ]
    assert seen[0] == ("POST", "Bearer t0ken", "system_operation")
    assert {m for m, _, _ in seen[1:]} <= {"GET"}


async def test_a_file_put_in_the_drop_folder_is_loaded(tmp_path: Path, jumin, monkeypatch: pytest.MonkeyPatch) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    monkeypatch.setenv("MIMAMORI_INGEST_DROP_DIR", str(drop))
    monkeypatch.setenv("MIMAMORI_INGEST_DROP_POLL_SECONDS", "0.05")
    settings = PlatformSettings(data_dir=tmp_path / "data", outbox_poll_seconds=0.2)
    async with running(targets=["ingest"], settings=settings, bus=InProcessBus()) as rt:
        (drop / "jumin_202604.csv").write_bytes(jumin.bytes(jumin.town(7)))
        (drop / "notes.txt").write_text("memo")
        app = rt.module("ingest").app
        signer = rt.platform.context_signer
        assert app is not None and signer is not None
        context = AccessContext(
            subject="officer-1",
            roles=["data_officer"],
            purpose="system_operation",
            decision_id="d",
            municipality="143669",
        )
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://ingest",
            headers={CONTEXT_HEADER: signer.sign(context)},
        ) as client:
            for _ in range(200):
                runs = (await client.get("/v1/load-runs")).json()["items"]
                if runs and runs[0]["status"] == "succeeded":
                    break
                await asyncio.sleep(0.05)
    assert [(r["file"]["name"], r["status"], r["counts"]["added"]) for r in runs] == [
        ("jumin_202604.csv", "succeeded", 7)
    ]
    assert [p.name for p in (drop / "processed").iterdir()] == [f"{runs[0]['id']}_jumin_202604.csv"]
    assert (drop / "rejected" / "notes.txt.reason.txt").exists()
