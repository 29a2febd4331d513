"""Free text (相談メモ, 理由 …) is stored once by ingest, never in an event or a log, and served only for case
support to the roles the source allows, every read audited."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from mimamori.contracts import decode
from mimamori.events.audit.v1 import access_pb2
from mimamori.events.ingest.v1 import source_record_pb2
from mimamori.ingest.module import IngestModule
from mimamori.kit.auth import CONTEXT_HEADER, AccessContext
from mimamori.kit.config import PlatformSettings
from mimamori.kit.messaging.inprocess import InProcessBus
from mimamori.kit.runtime.process import Runtime, running

pytestmark = pytest.mark.integration

SECRET = "母の体調がすぐれず育児に不安があると話す。"
OTHER = "祖母の介護で疲れていると話す。"
HEADER = "利用日,保護者氏名,子氏名,子生年月日,利用内容,相談メモ\n"
FILE = "kosodate_center_202604.csv"


@pytest.fixture(params=["sqlite", "postgresql"])
async def runtime(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Runtime]:
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    settings = PlatformSettings(data_dir=tmp_path, database_url=url, outbox_poll_seconds=0.2)
    async with running(targets=["ingest"], settings=settings, bus=InProcessBus()) as rt:
        yield rt


def headers(rt: Runtime, *, purpose: str, roles: tuple[str, ...]) -> dict[str, str]:
    assert rt.platform.context_signer is not None
    context = AccessContext(
        subject="staff-1",
        roles=list(roles),
        purpose=purpose,
        decision_id=str(uuid.uuid4()),
        municipality="143669",
    )
    return {CONTEXT_HEADER: rt.platform.context_signer.sign(context)}


async def upload(rt: Runtime, http: httpx.AsyncClient, body: str) -> dict[str, object]:
    module = rt.module("ingest")
    assert isinstance(module, IngestModule)
    response = await http.post(
        "/v1/files",
        params={"file_name": FILE},
        content=body.encode("utf-8"),
        headers=headers(rt, purpose="system_operation", roles=("data_officer",)),
    )
    assert response.status_code == 202, response.text
    await module.worker.wait(response.json()["id"])
    await rt.wait_idle()
    run = await http.get(
        f"/v1/load-runs/{response.json()['id']}", headers=headers(rt, purpose="system_operation", roles=("sysadmin",))
    )
    return run.json()  # type: ignore[no-any-return]


async def test_free_text_is_served_only_for_case_support_and_never_travels(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # the platform's level; drivers log SQL parameters at DEBUG
    caplog.set_level(logging.DEBUG, logger="mimamori")
    app = runtime.module("ingest").app
    assert app is not None
    bus = runtime.platform.bus
    assert isinstance(bus, InProcessBus)
    body = (
        HEADER
        + f"2026/04/03,石井　彩,石井　悠真,2023/11/28,相談,{SECRET}\n2026/04/05,石井　彩,石井　悠真,2023/11/28,講座,\n"
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ingest") as http:
        run = await upload(runtime, http, body)
        assert run["status"] == "succeeded"
        events = [decode(e.type, e.payload) for e in bus.messages("ingest.source-record.v1")]
        assert [e.has_free_text for e in events] == [True, False]  # type: ignore[attr-defined]
        with_text = events[0]
        assert isinstance(with_text, source_record_pb2.SourceRecordReceived)
        key = with_text.record_key
        route = f"/v1/records/{key}/free-text"

        read = await http.get(route, headers=headers(runtime, purpose="case_support", roles=("caseworker",)))
        school = await http.get(
            route, headers=headers(runtime, purpose="case_support", roles=("school_social_worker",))
        )
        early = await http.get(route, headers=headers(runtime, purpose="early_detection", roles=("caseworker",)))
        analyst = await http.get(route, headers=headers(runtime, purpose="case_support", roles=("analyst",)))
        none = await http.get(
            f"/v1/records/{events[1].record_key}/free-text",  # type: ignore[attr-defined]
            headers=headers(runtime, purpose="case_support", roles=("caseworker",)),
        )
        assert read.status_code == 200, read.text
        assert read.json() == {
            "record_key": key,
            "source": "kosodate_center",
            "fields": [{"column": "相談メモ", "text": SECRET}],
        }
        assert (school.status_code, school.json()["code"]) == (403, "role_not_allowed")  # not a school record
        assert (early.status_code, early.json()["code"]) == (403, "purpose_not_allowed")
        assert (analyst.status_code, analyst.json()["code"]) == (403, "role_not_allowed")
        assert (none.status_code, none.json()["code"]) == (404, "free_text_not_found")

        # A corrected memo is a change; a withdrawn row takes its text with it.
        corrected = HEADER + f"2026/04/03,石井　彩,石井　悠真,2023/11/28,相談,{OTHER}\n"
        second = await upload(runtime, http, corrected)
        assert (second["counts"]["changed"], second["counts"]["removed"]) == (1, 1)  # type: ignore[index]
        again = await http.get(route, headers=headers(runtime, purpose="case_support", roles=("public_health_nurse",)))
        assert again.json()["fields"] == [{"column": "相談メモ", "text": OTHER}]

    await runtime.wait_idle()
    audits = [decode(e.type, e.payload) for e in bus.messages("audit.access.v1")]
    reads = [a for a in audits if isinstance(a, access_pb2.AccessRecorded) and a.action == "read_free_text"]
    assert [(a.status_code, a.outcome) for a in reads] == [
        (200, access_pb2.OUTCOME_ALLOWED),
        (403, access_pb2.OUTCOME_DENIED),
        (404, access_pb2.OUTCOME_ALLOWED),
        (200, access_pb2.OUTCOME_ALLOWED),
    ]
    for topic in ("ingest.source-record.v1", "audit.access.v1"):
        for message in bus.messages(topic):
            assert SECRET.encode() not in message.payload and OTHER.encode() not in message.payload
    assert SECRET not in caplog.text and OTHER not in caplog.text
