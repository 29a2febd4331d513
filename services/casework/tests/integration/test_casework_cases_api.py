"""Cases through casework's API: opened, moved through the lifecycle, read back with history; every read and write
audited; opening and status changes announced on casework.case.v1 with no free text. On SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mimamori.contracts import decode, event_type, topic_of
from mimamori.events.audit.v1 import access_pb2
from mimamori.events.casework.v1 import case_pb2
from mimamori.events.identity.v1 import person_pb2
from mimamori.kit.auth import CONTEXT_HEADER, AccessContext
from mimamori.kit.config import PlatformSettings
from mimamori.kit.messaging.envelope import Envelope
from mimamori.kit.messaging.inprocess import InProcessBus
from mimamori.kit.runtime.process import Runtime, running

pytestmark = pytest.mark.integration

NOTE = "ネットワーク会議で報告。祖母の介護を担っている様子。"


@pytest.fixture(params=["sqlite", "postgresql"])
async def runtime(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Runtime]:
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    settings = PlatformSettings(data_dir=tmp_path, database_url=url, outbox_poll_seconds=0.05)
    async with running(targets=["casework"], settings=settings, bus=InProcessBus()) as rt:
        yield rt


async def known(rt: Runtime, person_id: str) -> None:
    message = person_pb2.PersonLinked(person_id=person_id, record_key="r1", source="jumin", created=True)
    envelope = Envelope(
        topic=topic_of(message),
        key=person_id,
        type=event_type(message),
        source="identity",
        payload=message.SerializeToString(),
        municipality="143669",
    )
    await rt.platform.bus.publish([envelope])
    await rt.wait_idle()


def headers(
    rt: Runtime, *, purpose: str = "case_support", roles: tuple[str, ...] = ("caseworker",), subject: str = "cw-1"
) -> dict[str, str]:
    assert rt.platform.context_signer is not None
    context = AccessContext(
        subject=subject,
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


def bus(rt: Runtime) -> InProcessBus:
    found = rt.platform.bus
    assert isinstance(found, InProcessBus)
    return found


def audits(rt: Runtime) -> list[access_pb2.AccessRecorded]:
    return [
        m
        for e in bus(rt).messages("audit.access.v1")
        if isinstance(m := decode(e.type, e.payload), access_pb2.AccessRecorded)
    ]


def opening(person_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "person_id": person_id,
        "difficulty_types": ["young_carer"],
        "origin": {"rule_id": "young_carer", "rule_version": 1, "month": "202610"},
        "note": NOTE,
        **extra,
    }


async def test_a_case_goes_from_triage_to_closed_with_its_history_announced_and_audited(runtime: Runtime) -> None:
    child = str(uuid.uuid4())
    await known(runtime, child)
    async with client(runtime) as http:
        opened = await http.post(
            "/v1/cases",
            json=opening(child),
            headers=headers(runtime, purpose="early_detection", roles=("team_leader",)),
        )
        assert opened.status_code == 201, opened.text
        case_id = opened.json()["id"]
        steps = [
            {"to": "accepted", "risk_level": 3, "note": "受理"},
            {"to": "conference"},
            {"to": "support", "note": "役割分担: 保健師が家庭訪問"},
            {"to": "closed"},
        ]
        for step in steps:
            moved = await http.post(f"/v1/cases/{case_id}/transitions", json=step, headers=headers(runtime))
            assert moved.status_code == 201, moved.text
        read = await http.get(f"/v1/cases/{case_id}", headers=headers(runtime))
    body = read.json()
    assert (body["status"], body["risk_level"], body["version"]) == ("closed", 3, 5)
    assert [(h["from_status"], h["to_status"]) for h in body["history"]] == [
        (None, "triage"),
        ("triage", "accepted"),
        ("accepted", "conference"),
        ("conference", "support"),
        ("support", "closed"),
    ]
    assert body["history"][0]["note"] == NOTE and body["origin"]["rule_id"] == "young_carer"
    await runtime.wait_idle()
    sent = bus(runtime).messages("casework.case.v1")
    events = [decode(e.type, e.payload) for e in sent]
    assert {e.key for e in sent} == {case_id}
    assert isinstance(events[0], case_pb2.CaseOpened) and events[0].origin.month == "202610"
    assert [(type(e).__name__, e.status, e.version) for e in events] == [
        ("CaseOpened", case_pb2.CASE_STATUS_TRIAGE, 1),
        ("CaseStatusChanged", case_pb2.CASE_STATUS_ACCEPTED, 2),
        ("CaseStatusChanged", case_pb2.CASE_STATUS_CONFERENCE, 3),
        ("CaseStatusChanged", case_pb2.CASE_STATUS_SUPPORT, 4),
        ("CaseStatusChanged", case_pb2.CASE_STATUS_CLOSED, 5),
    ]
    assert all(NOTE.encode() not in e.payload and "役割分担".encode() not in e.payload for e in sent)
    recorded = [(a.action, a.method, a.route, list(a.person_ids)) for a in audits(runtime)]
    assert recorded == [
        ("create", "POST", "/v1/cases", [child]),
        *[("update", "POST", "/v1/cases/{case_id}/transitions", [child])] * 4,
        ("read", "GET", "/v1/cases/{case_id}", [child]),
    ]


async def test_invalid_steps_are_refused_with_a_code_and_change_nothing(runtime: Runtime) -> None:
    child = str(uuid.uuid4())
    await known(runtime, child)
    async with client(runtime) as http:
        case_id = (await http.post("/v1/cases", json=opening(child), headers=headers(runtime))).json()["id"]
        url = f"/v1/cases/{case_id}/transitions"
        skip = await http.post(url, json={"to": "support"}, headers=headers(runtime))
        no_level = await http.post(url, json={"to": "accepted"}, headers=headers(runtime))
        no_reason = await http.post(url, json={"to": "declined"}, headers=headers(runtime))
        declined = await http.post(
            url, json={"to": "declined", "reason": "already_supported"}, headers=headers(runtime)
        )
        after = await http.post(url, json={"to": "accepted", "risk_level": 2}, headers=headers(runtime))
        level = await http.patch(f"/v1/cases/{case_id}", json={"risk_level": 2}, headers=headers(runtime))
        bad_type = await http.post(
            "/v1/cases", json=opening(child, difficulty_types=["bullying"]), headers=headers(runtime)
        )
        unknown = await http.post("/v1/cases", json=opening(str(uuid.uuid4())), headers=headers(runtime))
        missing = await http.get(f"/v1/cases/{uuid.uuid4()}", headers=headers(runtime))
        read = await http.get(f"/v1/cases/{case_id}", headers=headers(runtime))
    assert [(r.status_code, r.json()["code"]) for r in (skip, no_level, no_reason, after, level)] == [
        (422, "transition_not_allowed"),
        (422, "risk_level_required"),
        (422, "decline_reason_required"),
        (422, "case_closed"),
        (422, "case_closed"),
    ]
    assert skip.json()["title"] == "この状態からはその状態に移れません"
    assert skip.headers["content-type"] == "application/problem+json"
    assert declined.status_code == 201 and bad_type.status_code == 422
    assert (unknown.status_code, unknown.json()["code"]) == (404, "person_not_found")
    assert (missing.status_code, missing.json()["code"]) == (404, "case_not_found")
    body = read.json()
    assert (body["status"], body["decline_reason"], body["version"], len(body["history"])) == (
        "declined",
        "already_supported",
        2,
        2,
    )


async def test_one_open_case_per_child_and_a_new_one_after_closing(runtime: Runtime) -> None:
    child = str(uuid.uuid4())
    await known(runtime, child)
    async with client(runtime) as http:
        first = (await http.post("/v1/cases", json=opening(child), headers=headers(runtime))).json()["id"]
        again = await http.post("/v1/cases", json=opening(child), headers=headers(runtime))
        declined = {"to": "declined", "reason": "no_concern"}
        await http.post(f"/v1/cases/{first}/transitions", json=declined, headers=headers(runtime))
        second = await http.post("/v1/cases", json=opening(child), headers=headers(runtime))
        listed = await http.get("/v1/cases", params={"person_id": child}, headers=headers(runtime))
        open_only = await http.get("/v1/cases", params={"person_id": child, "open": "true"}, headers=headers(runtime))
        by_status = await http.get("/v1/cases", params={"status": "declined"}, headers=headers(runtime))
    assert (again.status_code, again.json()["code"], again.json()["case_id"]) == (409, "case_already_open", first)
    assert second.status_code == 201
    assert listed.json()["total"] == 2
    assert [c["id"] for c in open_only.json()["items"]] == [second.json()["id"]]
    assert [c["id"] for c in by_status.json()["items"]] == [first]


async def test_staff_outside_the_coordinating_unit_work_only_on_cases_assigned_to_them(runtime: Runtime) -> None:
    child, other = str(uuid.uuid4()), str(uuid.uuid4())
    await known(runtime, child)
    await known(runtime, other)
    nurse = {"roles": ("public_health_nurse",), "subject": "nurse-1"}
    async with client(runtime) as http:
        mine = (
            await http.post("/v1/cases", json=opening(child, assignees=["nurse-1"]), headers=headers(runtime))
        ).json()
        theirs = (await http.post("/v1/cases", json=opening(other), headers=headers(runtime))).json()
        listed = await http.get("/v1/cases", headers=headers(runtime, **nurse))  # type: ignore[arg-type]
        read_mine = await http.get(f"/v1/cases/{mine['id']}", headers=headers(runtime, **nurse))  # type: ignore[arg-type]
        read_theirs = await http.get(f"/v1/cases/{theirs['id']}", headers=headers(runtime, **nurse))  # type: ignore[arg-type]
        stale = await http.patch(
            f"/v1/cases/{mine['id']}", json={"risk_level": 2, "expected_version": 99}, headers=headers(runtime)
        )
        assigned = await http.patch(
            f"/v1/cases/{mine['id']}",
            json={"assignees": ["nurse-1", "cw-2"], "risk_level": 2},
            headers=headers(runtime),
        )
        wrong_purpose = await http.get("/v1/cases", headers=headers(runtime, purpose="early_detection"))
    assert [c["id"] for c in listed.json()["items"]] == [mine["id"]]
    assert read_mine.status_code == 200
    assert (read_theirs.status_code, read_theirs.json()["code"]) == (403, "case_not_assigned")
    assert (stale.status_code, stale.json()["code"]) == (409, "case_version_conflict")
    assert (assigned.json()["assignees"], assigned.json()["risk_level"], assigned.json()["version"]) == (
        ["nurse-1", "cw-2"],
        2,
        3,
    )
    assert (wrong_purpose.status_code, wrong_purpose.json()["code"]) == (403, "purpose_not_allowed")
    await runtime.wait_idle()
    denied = [a for a in audits(runtime) if a.outcome == access_pb2.OUTCOME_DENIED]
    assert [(a.actor, list(a.person_ids), a.reason) for a in denied] == [("nurse-1", [other], "case_not_assigned")]
