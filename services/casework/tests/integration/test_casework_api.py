"""casework end to end within the service: identity's events in, 見守り情報 written and read back, audited."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from mimamori.contracts import decode, event_type, topic_of
from mimamori.events.audit.v1 import access_pb2
from mimamori.events.identity.v1 import person_pb2
from mimamori.kit.auth import CONTEXT_HEADER, AccessContext
from mimamori.kit.config import PlatformSettings
from mimamori.kit.messaging.envelope import Envelope
from mimamori.kit.messaging.inprocess import InProcessBus
from mimamori.kit.runtime.process import Runtime, running

pytestmark = pytest.mark.integration


@pytest.fixture(params=["sqlite", "postgresql"])
async def runtime(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Runtime]:
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    settings = PlatformSettings(data_dir=tmp_path, database_url=url, outbox_poll_seconds=0.2)
    bus = InProcessBus()
    async with running(targets=["casework"], settings=settings, bus=bus) as rt:
        yield rt


def linked(person_id: str) -> Envelope:
    message = person_pb2.PersonLinked(person_id=person_id, record_key="r1", source="jumin", created=True)
    return Envelope(
        topic=topic_of(message),
        key=person_id,
        type=event_type(message),
        source="identity",
        payload=message.SerializeToString(),
        municipality="143669",
    )


def headers(rt: Runtime, *, purpose: str = "case_support", roles: tuple[str, ...] = ("caseworker",)) -> dict[str, str]:
    assert rt.platform.context_signer is not None
    context = AccessContext(
        subject="staff-001",
        roles=list(roles),
        org_unit="子ども育成班",
        purpose=purpose,
        decision_id=str(uuid.uuid4()),
        municipality="143669",
    )
    return {CONTEXT_HEADER: rt.platform.context_signer.sign(context)}


def client(rt: Runtime) -> httpx.AsyncClient:
    app = rt.module("casework").app
    assert app is not None
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://casework")


async def test_observation_written_is_read_back_and_both_accesses_are_audited(runtime: Runtime) -> None:
    person_id = str(uuid.uuid4())
    await runtime.platform.bus.publish([linked(person_id)])
    await runtime.wait_idle()
    body = {
        "category": "家庭訪問",
        "text": "母親と面談。生活は落ち着いている。",
        "observed_on": date.today().isoformat(),
    }
    async with client(runtime) as http:
        created = await http.post(f"/v1/persons/{person_id}/observations", json=body, headers=headers(runtime))
        assert created.status_code == 201, created.text
        page = await http.get(f"/v1/persons/{person_id}/observations", headers=headers(runtime))
    assert page.status_code == 200
    assert [o["text"] for o in page.json()["items"]] == [body["text"]]
    await runtime.wait_idle()
    bus = runtime.platform.bus
    assert isinstance(bus, InProcessBus)
    audits = [decode(e.type, e.payload) for e in bus.messages("audit.access.v1")]
    assert [(a.action, list(a.person_ids)) for a in audits if isinstance(a, access_pb2.AccessRecorded)] == [
        ("create", [person_id]),
        ("read", [person_id]),
    ]
    recorded = bus.messages("casework.observation.v1")
    assert len(recorded) == 1
    assert body["text"].encode() not in recorded[0].payload  # the text stays in casework


async def test_observation_needs_case_support_purpose_and_a_known_person(runtime: Runtime) -> None:
    person_id = str(uuid.uuid4())
    await runtime.platform.bus.publish([linked(person_id)])
    await runtime.wait_idle()
    body = {"category": "電話", "text": "連絡あり", "observed_on": date.today().isoformat()}
    async with client(runtime) as http:
        wrong_purpose = await http.post(
            f"/v1/persons/{person_id}/observations", json=body, headers=headers(runtime, purpose="policy_statistics")
        )
        wrong_role = await http.post(
            f"/v1/persons/{person_id}/observations", json=body, headers=headers(runtime, roles=("analyst",))
        )
        unknown = await http.post(f"/v1/persons/{uuid.uuid4()}/observations", json=body, headers=headers(runtime))
        no_context = await http.get(f"/v1/persons/{person_id}/observations")
    assert (wrong_purpose.status_code, wrong_purpose.json()["code"]) == (403, "purpose_not_allowed")
    assert (wrong_role.status_code, wrong_role.json()["code"]) == (403, "role_not_allowed")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "person_not_found")
    assert (no_context.status_code, no_context.json()["code"]) == (401, "missing_internal_context")
    assert wrong_purpose.headers["content-type"] == "application/problem+json"


async def test_redelivered_person_event_changes_nothing(runtime: Runtime) -> None:
    person_id = str(uuid.uuid4())
    event = linked(person_id)
    await runtime.platform.bus.publish([event, event])
    await runtime.wait_idle()
    casework = runtime.module("casework")
    assert casework.sessions is not None
    from sqlalchemy import func, select

    from mimamori.casework.module import CaseworkModule

    assert isinstance(casework, CaseworkModule)
    async with casework.sessions() as session:
        processed = await session.scalar(select(func.count()).select_from(casework.inbox_table))
        persons = await session.scalar(select(func.count()).select_from(casework.tables["known_persons"]))
    assert (processed, persons) == (1, 1)


async def test_reading_pages_tells_a_known_person_without_observations_from_an_unknown_one(runtime: Runtime) -> None:
    person_id = str(uuid.uuid4())
    await runtime.platform.bus.publish([linked(person_id)])
    await runtime.wait_idle()
    async with client(runtime) as http:
        url = f"/v1/persons/{person_id}/observations"
        empty = await http.get(url, headers=headers(runtime))
        days = [(date.today() - timedelta(days=n)).isoformat() for n in (3, 1, 2)]
        for day in days:
            body = {"category": "電話", "text": f"連絡 {day}", "observed_on": day}
            assert (await http.post(url, json=body, headers=headers(runtime))).status_code == 201
        first = await http.get(url, params={"limit": 2}, headers=headers(runtime))
        second = await http.get(url, params={"limit": 2, "offset": 2}, headers=headers(runtime))
        beyond = await http.get(url, params={"offset": 10}, headers=headers(runtime))
        unknown = await http.get(f"/v1/persons/{uuid.uuid4()}/observations", headers=headers(runtime))
        unknown_beyond = await http.get(
            f"/v1/persons/{uuid.uuid4()}/observations", params={"offset": 10}, headers=headers(runtime)
        )
    assert (empty.status_code, empty.json()["items"]) == (200, [])
    assert [o["observed_on"] for o in first.json()["items"]] == [days[1], days[2]]
    assert [o["observed_on"] for o in second.json()["items"]] == [days[0]]
    assert (beyond.status_code, beyond.json()["items"]) == (200, [])
    assert (unknown.status_code, unknown.json()["code"]) == (404, "person_not_found")
    assert (unknown_beyond.status_code, unknown_beyond.json()["code"]) == (404, "person_not_found")
