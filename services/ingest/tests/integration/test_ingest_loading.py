"""ingest end to end within the service, on SQLite and PostgreSQL: upload, load, events, duplicates,
corrections, rejections, quarantine, and no personal value in logs, spans or messages."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from mimamori.contracts import decode
from mimamori.events.audit.v1 import access_pb2
from mimamori.events.ingest.v1 import delivery_rows_pb2, person_record_pb2
from mimamori.ingest.module import IngestModule
from mimamori.ingest.service_layer import handlers
from mimamori.kit.auth import CONTEXT_HEADER, AccessContext
from mimamori.kit.config import PlatformSettings
from mimamori.kit.messaging.inprocess import InProcessBus
from mimamori.kit.runtime.process import Runtime, running
from mimamori.kit.testing.spans import SpanCapture

pytestmark = pytest.mark.integration

TOPIC = "ingest.person-record.v1"
NAME = "jumin_202604.csv"
ADDED = person_record_pb2.RECORD_CHANGE_ADDED
CHANGED = person_record_pb2.RECORD_CHANGE_CHANGED
REMOVED = person_record_pb2.RECORD_CHANGE_REMOVED


@pytest.fixture(params=["sqlite", "postgresql"])
async def runtime(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Runtime]:
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    monkeypatch.setenv("MIMAMORI_INGEST_MAX_UPLOAD_BYTES", str(64 * 1024))
    monkeypatch.setenv("MIMAMORI_INGEST_BATCH_SIZE", "4")  # several batches even for small files
    settings = PlatformSettings(data_dir=tmp_path, database_url=url, outbox_poll_seconds=0.2)
    async with running(targets=["ingest"], settings=settings, bus=InProcessBus()) as rt:
        yield rt


def ingest(rt: Runtime) -> IngestModule:
    module = rt.module("ingest")
    assert isinstance(module, IngestModule)
    return module


def headers(
    rt: Runtime, *, purpose: str = "system_operation", roles: tuple[str, ...] = ("data_officer",)
) -> dict[str, str]:
    assert rt.platform.context_signer is not None
    context = AccessContext(
        subject="officer-007",
        roles=list(roles),
        org_unit="住民課",
        purpose=purpose,
        decision_id=str(uuid.uuid4()),
        municipality="143669",
    )
    return {CONTEXT_HEADER: rt.platform.context_signer.sign(context)}


def client(rt: Runtime) -> httpx.AsyncClient:
    app = rt.module("ingest").app
    assert app is not None
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ingest")


async def deliver(rt: Runtime, data: bytes, name: str = NAME) -> dict[str, Any]:
    """Upload, wait for the load and for the outbox; the finished run."""
    async with client(rt) as http:
        response = await http.post("/v1/files", params={"file_name": name}, content=data, headers=headers(rt))
        assert response.status_code == 202, response.text
        run = response.json()
        assert run["status"] == "queued" and response.headers["location"] == f"/v1/load-runs/{run['id']}"
        await ingest(rt).worker.wait(run["id"])
        await rt.wait_idle()
        finished = await http.get(f"/v1/load-runs/{run['id']}", headers=headers(rt))
    assert finished.status_code == 200
    body: dict[str, Any] = finished.json()
    return body


def events(rt: Runtime) -> list[person_record_pb2.PersonRecordReceived]:
    bus = rt.platform.bus
    assert isinstance(bus, InProcessBus)
    decoded = [decode(e.type, e.payload) for e in bus.messages(TOPIC)]
    assert all(isinstance(m, person_record_pb2.PersonRecordReceived) for m in decoded)
    return decoded  # type: ignore[return-value]


async def state(rt: Runtime) -> list[tuple[str, str, bool]]:
    module = ingest(rt)
    assert module.sessions is not None
    t = module.tables["source_records"]
    async with module.sessions() as session:
        rows = await session.execute(select(t.c.natural_key, t.c.digest, t.c.removed).order_by(t.c.natural_key))
        return [tuple(r) for r in rows]  # type: ignore[misc]


async def outbox_size(rt: Runtime) -> int:
    """Record events written to the outbox (uploads add audit events of their own)."""
    module = ingest(rt)
    assert module.sessions is not None
    async with module.sessions() as session:
        t = module.outbox_table
        return int(await session.scalar(select(func.count()).select_from(t).where(t.c.topic == TOPIC)) or 0)


async def test_loaded_file_emits_one_event_per_record_and_quarantines_bad_rows(runtime: Runtime, jumin) -> None:
    rows = jumin.town(5)
    rows.insert(2, jumin.row("12345"))  # row 3: 宛名番号 not 10 digits
    rows.append(jumin.row("0000000099", 続柄="長男"))  # row 7: unknown 続柄
    rows.append(jumin.row("0000000100", 生年月日="19000229"))  # row 8: kept as given
    run = await deliver(runtime, jumin.bytes(rows))
    assert run["status"] == "succeeded", run
    assert run["counts"] == {
        "rows": 8,
        "added": 6,
        "changed": 0,
        "unchanged": 0,
        "removed": 0,
        "quarantined": 2,
    }
    assert (run["progress"], run["total_rows"], run["duplicate"], run["error"]) == (1.0, 8, False, None)
    assert run["file"]["accepted_at"] is not None and run["file"]["month"] == "202604"
    published = events(runtime)
    assert [e.change for e in published] == [ADDED] * 6
    assert [e.provenance.row for e in published] == [1, 2, 4, 5, 6, 8]
    assert {e.provenance.file_sha256 for e in published} == {run["file"]["sha256"]}
    odd = published[-1]
    assert (odd.atena_no, odd.birth_date.raw, odd.birth_date.iso) == ("0000000100", "19000229", "")
    bus = runtime.platform.bus
    assert isinstance(bus, InProcessBus)
    assert [m.key for m in bus.messages(TOPIC)] == [e.record_key for e in published]
    assert all("0000000" not in m.key for m in bus.messages(TOPIC))
    async with client(runtime) as http:
        page = (await http.get(f"/v1/load-runs/{run['id']}/quarantine", headers=headers(runtime))).json()
    assert [(q["row"], q["column"], q["reason_code"]) for q in page["items"]] == [
        (3, "宛名番号", "invalid_digits"),
        (7, "続柄", "unknown_code"),
    ]
    assert page["total"] == 2
    for item in page["items"]:
        assert NAME in item["reason"] and f"{item['row']} 行目" in item["reason"]
        assert "12345" not in item["reason"] and "長男" not in item["reason"]
    audits = [decode(e.type, e.payload) for e in bus.messages("audit.access.v1")]
    assert [(a.action, a.actor, list(a.person_ids)) for a in audits if isinstance(a, access_pb2.AccessRecorded)] == [
        ("upload", "officer-007", [])
    ]


async def test_same_bytes_delivered_twice_change_nothing(runtime: Runtime, jumin) -> None:
    data = jumin.bytes(jumin.town(6))
    first = await deliver(runtime, data)
    before = (await state(runtime), await outbox_size(runtime), len(events(runtime)))
    second = await deliver(runtime, data)
    assert second["status"] == "succeeded"
    assert second["duplicate"] is True and second["duplicate_of"] == first["file"]["id"]
    # its counts are its twin's: every record unchanged, so a month's summary still adds up
    assert second["counts"] == {"rows": 6, "added": 0, "changed": 0, "unchanged": 6, "removed": 0, "quarantined": 0}
    assert (await state(runtime), await outbox_size(runtime), len(events(runtime))) == before
    assert before[2] == 6


async def test_corrected_redelivery_emits_only_the_differences(runtime: Runtime, jumin) -> None:
    town = jumin.town(6)
    await deliver(runtime, jumin.bytes(town))
    corrected = [list(r) for r in town]
    corrected[1][7] = "神奈川県足柄上郡開成町吉田島４３２番地"  # moved
    del corrected[4]  # 0000000005 no longer in the snapshot
    corrected.append(jumin.row("0000000777"))  # new
    run = await deliver(runtime, jumin.bytes(corrected))
    assert run["counts"] == {
        "rows": 6,
        "added": 1,
        "changed": 1,
        "unchanged": 4,
        "removed": 1,
        "quarantined": 0,
    }
    later = events(runtime)[6:]
    assert sorted((e.change, e.atena_no) for e in later) == [
        (ADDED, "0000000777"),
        (CHANGED, "0000000002"),
        (REMOVED, "0000000005"),
    ]
    removed = next(e for e in later if e.change == REMOVED)
    assert removed.name == town[4][2] and removed.provenance.row == 0  # the last accepted values
    assert removed.provenance.load_run_id == run["id"]
    assert [(k, r) for k, _, r in await state(runtime)].count(("0000000005", True)) == 1
    again = [list(r) for r in corrected]
    again.append(town[4])  # back again: added, not changed
    third = await deliver(runtime, jumin.bytes(again))
    assert (third["counts"]["added"], third["counts"]["removed"]) == (1, 0)
    assert (events(runtime)[-1].change, events(runtime)[-1].atena_no) == (ADDED, "0000000005")


async def test_structurally_broken_file_changes_nothing(runtime: Runtime, jumin) -> None:
    await deliver(runtime, jumin.bytes(jumin.town(5)))
    before = (await state(runtime), await outbox_size(runtime), len(events(runtime)))
    changed = jumin.town(5)
    changed[0][7] = "神奈川県足柄上郡開成町吉田島４３２番地"
    data = jumin.bytes(changed + jumin.town(3, start=40))
    lines = data.split(b"\r\n")
    lines[7] = lines[7] + b"\x81"  # row 7 ends inside a double-byte character
    run = await deliver(runtime, b"\r\n".join(lines))
    assert run["status"] == "rejected"
    assert run["error"]["code"] == "undecodable"
    assert NAME in run["error"]["message"] and "7 行目" in run["error"]["message"]
    assert run["file"]["accepted_at"] is None
    assert run["counts"]["rows"] == 0
    assert (await state(runtime), await outbox_size(runtime), len(events(runtime))) == before
    truncated = await deliver(runtime, jumin.bytes(changed)[:-30])
    assert (truncated["status"], truncated["error"]["code"]) == ("rejected", "truncated")
    wrong_header = await deliver(runtime, jumin.bytes(changed, header=["宛名番号", *jumin.header[2:]]))
    assert (wrong_header["status"], wrong_header["error"]["code"]) == ("rejected", "header_mismatch")
    assert "世帯コード" in wrong_header["error"]["message"]
    assert (await state(runtime), await outbox_size(runtime), len(events(runtime))) == before
    async with client(runtime) as http:
        quarantine = (await http.get(f"/v1/load-runs/{run['id']}/quarantine", headers=headers(runtime))).json()
    assert quarantine["total"] == 0


async def test_keys_repeated_in_later_batches_are_quarantined_and_the_run_forgets_its_keys(
    runtime: Runtime, jumin
) -> None:
    town = jumin.town(6)
    await deliver(runtime, jumin.bytes(town))  # the state holds 1…6: the second file is diffed against it
    rows = [
        town[0],  # batch 1 (batches of 4 rows)
        jumin.row("0000000002", 続柄="長男"),  # quarantined, but its key is readable
        town[2],
        town[3],
        town[4],  # batch 2
        town[0],  # the same row as row 1: duplicate_row
        jumin.row("0000000001", 氏名="山田　花"),  # another row with row 1's key: duplicate_key
        jumin.row("0000000888"),
        jumin.row("0000000002"),  # batch 3: row 2's key (quarantined there): duplicate_key
        jumin.row("0000000888", 氏名="山田　花"),  # the same batch's key again: duplicate_key
    ]
    run = await deliver(runtime, jumin.bytes(rows))
    assert run["counts"] == {"rows": 10, "added": 1, "changed": 0, "unchanged": 4, "removed": 1, "quarantined": 5}
    async with client(runtime) as http:
        page = (await http.get(f"/v1/load-runs/{run['id']}/quarantine", headers=headers(runtime))).json()
    assert [(q["row"], q["reason_code"]) for q in page["items"]] == [
        (2, "unknown_code"),
        (6, "duplicate_row"),
        (7, "duplicate_key"),
        (9, "duplicate_key"),
        (10, "duplicate_key"),
    ]
    later = events(runtime)[6:]
    # 0000000002 was in the delivery (quarantined): not removed; 0000000006 was not: removed
    assert sorted((e.change, e.atena_no) for e in later) == [(ADDED, "0000000888"), (REMOVED, "0000000006")]
    module = ingest(runtime)
    assert module.sessions is not None
    async with module.sessions() as session:
        keys = module.tables["delivery_keys"]
        assert await session.scalar(select(func.count()).select_from(keys)) == 0  # forgotten when the run ended


async def test_a_sources_first_load_finds_keys_repeated_across_batches_too(runtime: Runtime, jumin) -> None:
    a, c, d, e = (jumin.row(f"00000000{n}1") for n in (1, 3, 4, 5))
    rows = [
        a,  # batch 1
        jumin.row("0000000021", 続柄="長男"),  # B: quarantined, key readable
        c,
        d,
        jumin.row("0000000011", 続柄="長男"),  # batch 2: A again, quarantined (A stays row 1's)
        a,  # row 1 again: duplicate_row (the first row with A was valid)
        jumin.row("0000000021"),  # B, first quarantined: duplicate_key
        e,
        jumin.row("0000000021", 続柄="長男"),  # batch 3
        jumin.row("0000000031", 氏名="山田　花"),  # C with other values: duplicate_key
    ]
    run = await deliver(runtime, jumin.bytes(rows))
    assert run["counts"] == {"rows": 10, "added": 4, "changed": 0, "unchanged": 0, "removed": 0, "quarantined": 6}
    async with client(runtime) as http:
        page = (await http.get(f"/v1/load-runs/{run['id']}/quarantine", headers=headers(runtime))).json()
    assert [(q["row"], q["reason_code"]) for q in page["items"]] == [
        (2, "unknown_code"),
        (5, "unknown_code"),
        (6, "duplicate_row"),
        (7, "duplicate_key"),
        (9, "unknown_code"),
        (10, "duplicate_key"),
    ]
    assert [(ev.change, ev.provenance.row) for ev in events(runtime)] == [(ADDED, r) for r in (1, 3, 4, 8)]
    again = await deliver(runtime, jumin.bytes([a, c, e]), name="jumin_202605.csv")  # D left: removed
    assert (again["counts"]["unchanged"], again["counts"]["removed"]) == (3, 1)


async def test_unreadable_key_withholds_removals(runtime: Runtime, jumin) -> None:
    town = jumin.town(4)
    await deliver(runtime, jumin.bytes(town))
    run = await deliver(runtime, jumin.bytes([*town[:3], jumin.row("ABCDEFGHIJ")]))
    assert run["removals_withheld"] is True
    assert (run["counts"]["removed"], run["counts"]["quarantined"], run["counts"]["unchanged"]) == (0, 1, 3)
    assert len(events(runtime)) == 4


async def test_upload_errors_are_problems(runtime: Runtime, jumin) -> None:
    async with client(runtime) as http:
        unknown = await http.post(
            "/v1/files", params={"file_name": "jyumin_202604.csv"}, content=b"x", headers=headers(runtime)
        )
        unsupported = await http.post(
            "/v1/files", params={"file_name": "kenshin_202604.xlsx"}, content=b"x", headers=headers(runtime)
        )
        bad_name = await http.post(
            "/v1/files", params={"file_name": "住民_2026.csv"}, content=b"x", headers=headers(runtime)
        )
        big = await http.post(
            "/v1/files", params={"file_name": NAME}, content=b"x" * (64 * 1024 + 1), headers=headers(runtime)
        )

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the limit holds while streaming
            for _ in range(100):
                yield b"y" * 1024

        streamed = await http.post("/v1/files", params={"file_name": NAME}, content=chunks(), headers=headers(runtime))
        analyst = await http.post(
            "/v1/files",
            params={"file_name": NAME},
            content=b"x",
            headers=headers(runtime, roles=("analyst",)),
        )
        wrong_purpose = await http.get("/v1/load-runs", headers=headers(runtime, purpose="case_support"))
        missing = await http.get(f"/v1/load-runs/{uuid.uuid4()}", headers=headers(runtime))
    assert (unknown.status_code, unknown.json()["code"]) == (422, "unknown_layout")
    assert (unsupported.status_code, unsupported.json()["code"]) == (422, "wrong_extension")
    assert (bad_name.status_code, bad_name.json()["code"]) == (422, "invalid_file_name")
    assert (big.status_code, big.json()["code"]) == (413, "file_too_large")
    assert big.headers["content-type"] == "application/problem+json"
    assert (streamed.status_code, streamed.json()["code"]) == (413, "file_too_large")
    assert (analyst.status_code, analyst.json()["code"]) == (403, "role_not_allowed")
    assert (wrong_purpose.status_code, wrong_purpose.json()["code"]) == (403, "purpose_not_allowed")
    assert (missing.status_code, missing.json()["code"]) == (404, "load_run_not_found")
    files_dir = runtime.platform.settings.data_dir / "ingest" / "files"
    assert not files_dir.exists() or list(files_dir.iterdir()) == []  # nothing kept of refused uploads


async def test_runs_are_listed_newest_first_with_paging(runtime: Runtime, jumin) -> None:
    ids = [(await deliver(runtime, jumin.bytes(jumin.town(2, start=10 * i + 1))))["id"] for i in range(3)]
    async with client(runtime) as http:
        first = (await http.get("/v1/load-runs", params={"limit": 2}, headers=headers(runtime))).json()
        second = (
            await http.get(
                "/v1/load-runs",
                params={"limit": 2, "offset": 2},
                headers=headers(runtime, roles=("sysadmin",)),
            )
        ).json()
    assert first["total"] == 3
    assert [r["id"] for r in first["items"] + second["items"]] == ids[::-1]


async def test_an_interrupted_run_is_failed_and_its_file_queued_again(runtime: Runtime, jumin) -> None:
    run = await deliver(runtime, jumin.bytes(jumin.town(3)))
    module = ingest(runtime)
    async with module.loading.uow() as uow:
        await uow.runs.update(run["id"], status="running")
        await uow.commit()
    queued = await handlers.resume_runs(uow=module.loading.uow())
    assert len(queued) == 1 and queued[0] != run["id"]
    old = await handlers.get_run(run["id"], uow=module.loading.uow())
    assert (old.status, old.error_code) == ("failed", "interrupted")
    module.worker.submit(queued[0])
    await module.worker.wait(queued[0])
    again = await handlers.get_run(queued[0], uow=module.loading.uow())
    assert again.status == "succeeded" and again.file.id == run["file"]["id"]
    assert (again.counts["unchanged"], again.counts["added"]) == (3, 0)  # the state already holds its records
    await runtime.wait_idle()
    assert len(events(runtime)) == 3


async def test_no_personal_value_reaches_logs_spans_or_messages(
    runtime: Runtime, jumin, caplog: pytest.LogCaptureFixture
) -> None:
    capture = SpanCapture()
    from opentelemetry import trace

    provider = trace.get_tracer_provider()
    add = getattr(provider, "add_span_processor", None)
    if add is not None:
        add(capture.processor)
    secrets = [
        "0000004321",
        "0000004329",
        "見守　秘子",
        "ﾐﾏﾓﾘ ﾋﾐｺ",
        "神奈川県足柄上郡開成町秘密１番地",
        "長男",
    ]
    rows = [
        jumin.row(secrets[0], 氏名=secrets[2], 氏名カナ=secrets[3], 住所=secrets[4]),
        jumin.row(secrets[1], 続柄=secrets[5]),
    ]
    caplog.set_level(logging.INFO)  # the platform's level; drivers log SQL parameters at DEBUG
    caplog.set_level(logging.DEBUG, logger="mimamori")
    run = await deliver(runtime, jumin.bytes(rows))
    broken = await deliver(runtime, jumin.bytes(rows)[:-10])
    async with client(runtime) as http:
        quarantine = (await http.get(f"/v1/load-runs/{run['id']}/quarantine", headers=headers(runtime))).text
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    spans = "\n".join(f"{s.name} {dict(s.attributes or {})}" for s in capture.spans())
    assert any(r.getMessage() == "file loaded" for r in caplog.records)
    assert capture.spans()
    texts = {"logs": logged, "spans": spans, "quarantine": quarantine, "run": str(run), "broken": str(broken)}
    for where, text in texts.items():
        for secret in secrets:
            assert secret not in text, (where, secret)


def row_index(rt: Runtime) -> list[delivery_rows_pb2.DeliveryRowsIndexed]:
    bus = rt.platform.bus
    assert isinstance(bus, InProcessBus)
    found = [decode(e.type, e.payload) for e in bus.messages("ingest.delivery-rows.v1")]
    assert all(isinstance(m, delivery_rows_pb2.DeliveryRowsIndexed) for m in found)
    return found  # type: ignore[return-value]


async def test_every_row_of_a_later_unchanged_cumulative_file_is_indexed(runtime: Runtime, jumin) -> None:
    rows = jumin.town(6)
    rows.insert(2, jumin.row("12345"))  # row 3: quarantined, not indexed
    data = jumin.bytes(rows)
    first = await deliver(runtime, data, name="jumin_202604.csv")
    emitted = len(events(runtime))
    second = await deliver(runtime, data, name="jumin_202605.csv")
    assert second["counts"]["unchanged"] == 6 and len(events(runtime)) == emitted  # no record event
    index = row_index(runtime)
    bus = runtime.platform.bus
    assert isinstance(bus, InProcessBus)
    assert [m.key for m in bus.messages("ingest.delivery-rows.v1")] == [m.file_name for m in index]
    keys = {e.provenance.row: e.record_key for e in events(runtime)}
    for run, name in ((first, "jumin_202604.csv"), (second, "jumin_202605.csv")):
        chunks = [m for m in index if m.file_name == name]
        assert [m.chunk for m in chunks] == list(range(len(chunks))) and len(chunks) > 2  # batches of 4 rows
        assert [m.last_chunk for m in chunks] == [False] * (len(chunks) - 1) + [True]
        assert {(m.load_run_id, m.month, m.source, m.file_sha256) for m in chunks} == {
            (run["id"], name[6:12], "jumin", run["file"]["sha256"])
        }
        assert [(r.row, r.record_key) for m in chunks for r in m.rows] == [
            (row, keys[row]) for row in (1, 2, 4, 5, 6, 7)
        ]
    again = await deliver(runtime, data, name="jumin_202605.csv")
    assert again["duplicate"] is True
    assert len(row_index(runtime)) == len(index)  # a duplicate delivery indexes nothing new


async def test_an_older_months_full_snapshot_after_a_newer_one_is_refused_and_changes_nothing(
    runtime: Runtime, jumin
) -> None:
    town = jumin.town(5)
    await deliver(runtime, jumin.bytes(town), name="jumin_202604.csv")
    newer = [list(r) for r in town]
    newer[0][7] = "神奈川県足柄上郡開成町吉田島４３２番地"
    await deliver(runtime, jumin.bytes(newer), name="jumin_202605.csv")
    before = (await state(runtime), await outbox_size(runtime), len(events(runtime)))
    corrected_april = [list(r) for r in town]
    del corrected_april[2]
    run = await deliver(runtime, jumin.bytes(corrected_april), name="jumin_202604.csv")
    assert (run["status"], run["error"]["code"]) == ("rejected", "older_snapshot")
    assert "jumin_202604.csv" in run["error"]["message"] and "202605" in run["error"]["message"]
    assert (await state(runtime), await outbox_size(runtime), len(events(runtime))) == before
    again = await deliver(runtime, jumin.bytes(newer), name="jumin_202605.csv")
    assert again["status"] == "succeeded"  # the latest month again is still welcome
