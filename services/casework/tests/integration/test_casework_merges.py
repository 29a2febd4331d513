"""casework follows identity's merges: PersonsMerged / PersonUnmerged through the bus, then the reads by person
(cases, 見守り情報, the one-open-case rule) see one child; an unmerge gives back the earlier answers exactly, and a
redelivered event changes nothing. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from google.protobuf.message import Message

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
    settings = PlatformSettings(data_dir=tmp_path, database_url=url, outbox_poll_seconds=0.05)
    async with running(targets=["casework"], settings=settings, bus=InProcessBus()) as rt:
        yield rt


def envelope(message: Message, *, key: str) -> Envelope:
    return Envelope(
        topic=topic_of(message),
        key=key,
        type=event_type(message),
        source="identity",
        payload=message.SerializeToString(),
        municipality="143669",
    )


async def deliver(rt: Runtime, *envelopes: Envelope) -> None:
    await rt.platform.bus.publish(list(envelopes))
    await rt.wait_idle()


def merged(*, surviving: str, merged: str, merge_id: str) -> Envelope:
    message = person_pb2.PersonsMerged(
        surviving_person_id=surviving, merged_person_id=merged, merge_id=merge_id, actor="reviewer-1"
    )
    return envelope(message, key=surviving)


def unmerged(*, surviving: str, restored: str, merge_id: str) -> Envelope:
    message = person_pb2.PersonUnmerged(
        surviving_person_id=surviving, restored_person_id=restored, merge_id=merge_id, actor="reviewer-1"
    )
    return envelope(message, key=surviving)


async def persons(rt: Runtime, count: int) -> list[str]:
    ids = [str(uuid.uuid4()) for _ in range(count)]
    await deliver(
        rt,
        *(
            envelope(person_pb2.PersonLinked(person_id=p, record_key=f"r{i}", source="jumin", created=True), key=p)
            for i, p in enumerate(ids)
        ),
    )
    return ids


def headers(rt: Runtime) -> dict[str, str]:
    assert rt.platform.context_signer is not None
    context = AccessContext(
        subject="cw-1",
        roles=["caseworker"],
        org_unit="子ども育成班",
        purpose="case_support",
        decision_id=str(uuid.uuid4()),
        municipality="143669",
    )
    return {CONTEXT_HEADER: rt.platform.context_signer.sign(context)}


def client(rt: Runtime) -> httpx.AsyncClient:
    app = rt.module("casework").app
    assert app is not None
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://casework")


async def open_case(http: httpx.AsyncClient, rt: Runtime, person_id: str) -> httpx.Response:
    return await http.post(
        "/v1/cases", json={"person_id": person_id, "difficulty_types": ["young_carer"]}, headers=headers(rt)
    )


async def observe(http: httpx.AsyncClient, rt: Runtime, person_id: str, *, days_ago: int) -> str:
    body = {
        "category": "家庭訪問",
        "text": f"訪問記録 {days_ago}",
        "observed_on": (date.today() - timedelta(days=days_ago)).isoformat(),
    }
    created = await http.post(f"/v1/persons/{person_id}/observations", json=body, headers=headers(rt))
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def answers(http: httpx.AsyncClient, rt: Runtime, people: list[str]) -> dict[str, Any]:
    """Every read by person that a merge may change, as the API gives it."""
    found: dict[str, Any] = {}
    for p in people:
        found[f"cases {p}"] = (await http.get("/v1/cases", params={"person_id": p}, headers=headers(rt))).json()
        found[f"observations {p}"] = (await http.get(f"/v1/persons/{p}/observations", headers=headers(rt))).json()
    found["all cases"] = (await http.get("/v1/cases", headers=headers(rt))).json()
    return found


def case_ids(page: dict[str, Any]) -> set[str]:
    return {c["id"] for c in page["items"]}


def flagged(page: dict[str, Any]) -> set[str]:
    return {c["id"] for c in page["items"] if c["duplicate_open_case"]}


async def test_a_merge_shows_one_child_and_the_unmerge_gives_back_the_earlier_answers(runtime: Runtime) -> None:
    survivor, other, bystander = await persons(runtime, 3)
    async with client(runtime) as http:
        case_s = (await open_case(http, runtime, survivor)).json()["id"]
        case_o = (await open_case(http, runtime, other)).json()["id"]
        case_b = (await open_case(http, runtime, bystander)).json()["id"]
        seen_s = await observe(http, runtime, survivor, days_ago=3)
        seen_o = await observe(http, runtime, other, days_ago=1)
        before = await answers(http, runtime, [survivor, other, bystander])

        merge = merged(surviving=survivor, merged=other, merge_id="m-1")
        await deliver(runtime, merge)
        after = await answers(http, runtime, [survivor, other, bystander])
        one_case = (await http.get(f"/v1/cases/{case_o}", headers=headers(runtime))).json()
        await deliver(runtime, merge, merged(surviving=survivor, merged=other, merge_id="m-1"))
        redelivered = await answers(http, runtime, [survivor, other, bystander])

        undo = unmerged(surviving=survivor, restored=other, merge_id="m-1")
        await deliver(runtime, undo)
        restored = await answers(http, runtime, [survivor, other, bystander])
        await deliver(runtime, undo)
        restored_again = await answers(http, runtime, [survivor, other, bystander])

    assert case_ids(before[f"cases {survivor}"]) == {case_s} and not flagged(before["all cases"])
    assert [o["id"] for o in before[f"observations {survivor}"]["items"]] == [seen_s]
    for p in (survivor, other):
        assert case_ids(after[f"cases {p}"]) == {case_s, case_o}
        assert after[f"cases {p}"]["total"] == 2
        assert flagged(after[f"cases {p}"]) == {case_s, case_o}
        assert [o["id"] for o in after[f"observations {p}"]["items"]] == [seen_o, seen_s]
    assert {c["id"]: c["person_id"] for c in after[f"cases {survivor}"]["items"]} == {case_s: survivor, case_o: other}
    assert flagged(after["all cases"]) == {case_s, case_o}
    assert case_ids(after[f"cases {bystander}"]) == {case_b} and not flagged(after[f"cases {bystander}"])
    assert one_case["duplicate_open_case"] is True
    assert redelivered == after
    assert restored == before
    assert restored_again == before


async def test_the_one_open_case_rule_holds_for_the_merged_child_until_the_unmerge(runtime: Runtime) -> None:
    survivor, other = await persons(runtime, 2)
    async with client(runtime) as http:
        case_s = (await open_case(http, runtime, survivor)).json()["id"]
        await deliver(runtime, merged(surviving=survivor, merged=other, merge_id="m-2"))
        for_other = await open_case(http, runtime, other)
        for_survivor = await open_case(http, runtime, survivor)
        await deliver(runtime, unmerged(surviving=survivor, restored=other, merge_id="m-2"))
        after_unmerge = await open_case(http, runtime, other)
    assert (for_other.status_code, for_other.json()["code"], for_other.json()["case_id"]) == (
        409,
        "case_already_open",
        case_s,
    )
    assert (for_survivor.status_code, for_survivor.json()["case_id"]) == (409, case_s)
    assert after_unmerge.status_code == 201, after_unmerge.text
    assert after_unmerge.json()["person_id"] == other


async def test_staff_resolving_a_duplicate_clears_the_flag_without_casework_closing_anything(
    runtime: Runtime,
) -> None:
    survivor, other = await persons(runtime, 2)
    async with client(runtime) as http:
        case_s = (await open_case(http, runtime, survivor)).json()["id"]
        case_o = (await open_case(http, runtime, other)).json()["id"]
        await deliver(runtime, merged(surviving=survivor, merged=other, merge_id="m-3"))
        listed = (await http.get("/v1/cases", params={"person_id": survivor}, headers=headers(runtime))).json()
        declined = await http.post(
            f"/v1/cases/{case_o}/transitions",
            json={"to": "declined", "reason": "already_supported"},
            headers=headers(runtime),
        )
        after = (await http.get("/v1/cases", params={"person_id": survivor}, headers=headers(runtime))).json()
    assert {c["id"]: c["status"] for c in listed["items"]} == {case_s: "triage", case_o: "triage"}
    assert flagged(listed) == {case_s, case_o}
    assert declined.status_code == 201 and declined.json()["duplicate_open_case"] is False
    assert {c["id"]: c["status"] for c in after["items"]} == {case_s: "triage", case_o: "declined"}
    assert not flagged(after)


async def test_a_chain_of_merges_is_followed_and_undoing_the_later_keeps_the_earlier(runtime: Runtime) -> None:
    first, middle, last = await persons(runtime, 3)
    async with client(runtime) as http:
        seen = {p: await observe(http, runtime, p, days_ago=i + 1) for i, p in enumerate((first, middle, last))}
        await deliver(runtime, merged(surviving=middle, merged=first, merge_id="m-a"))
        before_second = await answers(http, runtime, [first, middle, last])
        await deliver(runtime, merged(surviving=last, merged=middle, merge_id="m-b"))
        chained = await answers(http, runtime, [last])
        await deliver(runtime, unmerged(surviving=last, restored=middle, merge_id="m-b"))
        after_undo = await answers(http, runtime, [first, middle, last])
    assert {o["id"] for o in chained[f"observations {last}"]["items"]} == set(seen.values())
    assert {o["id"] for o in after_undo[f"observations {middle}"]["items"]} == {seen[first], seen[middle]}
    assert [o["id"] for o in after_undo[f"observations {last}"]["items"]] == [seen[last]]
    assert after_undo == before_second


async def test_reading_a_merged_childs_observations_audits_every_person_disclosed(runtime: Runtime) -> None:
    survivor, other = await persons(runtime, 2)
    async with client(runtime) as http:
        await observe(http, runtime, other, days_ago=2)
        await deliver(runtime, merged(surviving=survivor, merged=other, merge_id="m-4"))
        await http.get(f"/v1/persons/{survivor}/observations", headers=headers(runtime))
    await runtime.wait_idle()
    bus = runtime.platform.bus
    assert isinstance(bus, InProcessBus)
    reads = [
        sorted(m.person_ids)
        for e in bus.messages("audit.access.v1")
        if isinstance(m := decode(e.type, e.payload), access_pb2.AccessRecorded) and m.action == "read"
    ]
    assert reads == [sorted([survivor, other])]


async def test_two_staff_opening_a_case_for_one_merged_child_at_once_get_one_case(runtime: Runtime) -> None:
    survivor, other = await persons(runtime, 2)
    await deliver(runtime, merged(surviving=survivor, merged=other, merge_id="m-5"))
    async with client(runtime) as http:
        answered = await asyncio.gather(*(open_case(http, runtime, p) for p in (survivor, other) * 3))
        listed = (await http.get("/v1/cases", params={"person_id": survivor}, headers=headers(runtime))).json()
    assert sorted(r.status_code for r in answered) == [201, 409, 409, 409, 409, 409]
    assert listed["total"] == 1 and not flagged(listed)
