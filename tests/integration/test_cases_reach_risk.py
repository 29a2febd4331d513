"""casework's cases reach risk over Kafka: a case opened through casework's API puts the child on the "already a
case" side of risk's candidate filter, closing it puts the child back, and redelivered or stale announcements change
nothing. casework and risk run as modules on a real PostgreSQL (a schema each) and a real Kafka."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from mimamori.contracts import decode, event_type, topic_of
from mimamori.events.casework.v1 import case_pb2
from mimamori.events.identity.v1 import person_pb2
from mimamori.kit.auth import CONTEXT_HEADER, AccessContext
from mimamori.kit.config import PlatformSettings
from mimamori.kit.messaging.envelope import Envelope
from mimamori.kit.runtime.process import Runtime, running
from mimamori.kit.runtime.service import ServiceModule
from mimamori.risk.adapters.read_model import Reference
from mimamori.risk.domain.facts import FactVersion, Origin
from mimamori.risk.domain.household import BirthDate, Household, Member
from mimamori.risk.service_layer import rescore_runs
from mimamori.risk.service_layer.unit_of_work import RiskUnitOfWork

pytestmark = pytest.mark.integration

APRIL = "202604"
NOW = datetime(2026, 4, 1, tzinfo=UTC)
CANDIDATES = ["c1", "c2", "c3"]  # ひとり親 with 児童扶養手当: young-carer candidates (total 11); c4, c5 are not


@dataclass
class Platform:
    """casework and risk started together, with HTTP clients on both apps."""

    runtime: Runtime
    casework: httpx.AsyncClient
    risk: httpx.AsyncClient

    def module(self, name: str) -> ServiceModule:
        module = self.runtime.module(name)
        assert isinstance(module, ServiceModule)
        return module

    def headers(self, purpose: str, role: str = "caseworker") -> dict[str, str]:
        signer = self.runtime.platform.context_signer
        assert signer is not None
        context = AccessContext(
            subject="cw-1",
            roles=[role],
            org_unit="子ども育成班",
            purpose=purpose,
            decision_id="d",
            municipality="143669",
        )
        return {CONTEXT_HEADER: signer.sign(context)}

    async def candidates(self, case: str | None = None) -> dict[str, Any]:
        params = {"month": APRIL, "size": 100, **({"case": case} if case else {})}
        response = await self.risk.get(
            "/v1/rules/young_carer/candidates", params=params, headers=self.headers("early_detection")
        )
        assert response.status_code == 200, response.text
        return {item["person_id"]: (item["has_open_case"], item["case_status"]) for item in response.json()["items"]}


def client(runtime: Runtime, name: str) -> httpx.AsyncClient:
    app = runtime.module(name).app
    assert app is not None
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{name}", timeout=30)


@pytest.fixture
async def platform(
    postgres_url: str, kafka_bootstrap: str, unique: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Platform]:
    monkeypatch.setenv("MIMAMORI_RISK_RESCORE_SETTLE_SECONDS", "0")
    monkeypatch.setenv("MIMAMORI_RISK_RESCORE_POLL_SECONDS", "0.05")
    settings = PlatformSettings(
        data_dir=tmp_path,
        database_url=postgres_url,
        kafka_bootstrap=kafka_bootstrap,
        kafka_namespace=f"t{unique}.",
        outbox_poll_seconds=0.05,
    )
    async with (
        running(targets=["casework", "risk"], settings=settings) as runtime,
        client(runtime, "casework") as casework,
        client(runtime, "risk") as risk,
    ):
        yield Platform(runtime=runtime, casework=casework, risk=risk)


def household(index: int, *, single: bool) -> Household:
    members = [Member(f"p{index}", "世帯主", BirthDate.parse("1985-05-01"), "2", True, False)]
    if not single:
        members.append(Member(f"q{index}", "夫", BirthDate.parse("1984-05-01"), "1", True, False))
    members.append(Member(f"c{index}", "子", BirthDate.parse("2015-05-01"), "1", True, False))
    return Household(household_id=f"h{index}", setai_code=f"S{index}", version=1, members=tuple(members))


def fact(key: str, kind: str, fields: dict[str, str], persons: list[tuple[str, str]]) -> tuple[Any, list[Any]]:
    version = FactVersion(key, APRIL, kind, False, fields, Origin(kind, f"{kind}_{APRIL}.csv", 1))
    return version, [Reference(key, i, role, pid, 1, False) for i, (role, pid) in enumerate(persons)]


async def scored_town(platform: Platform) -> None:
    """Five pupils in risk's read model, scored for April by a re-score run."""
    app = platform.runtime.module("risk").app
    assert app is not None
    factory: Callable[[], RiskUnitOfWork] = app.state.uow_factory
    facts = []
    for i in range(1, 6):
        facts.append(
            fact(
                f"roll:{i}",
                "school_roll",
                {"school_code": "S1", "student_no": str(i), "grade": "5"},
                [("child", f"c{i}")],
            )
        )
        if i <= 3:
            fuyou = {"program": "jidou_fuyou", "status": "有", "start": "2020-04-01", "end": ""}
            facts.append(fact(f"fuyou:{i}", "entitlement", fuyou, [("recipient", f"p{i}"), ("child", f"c{i}")]))
    async with factory() as uow:
        for i in range(1, 6):
            await uow.households.replace(household(i, single=i <= 3), announced_at=NOW)
        await uow.facts.store_fact_versions([f[0] for f in facts])
        await uow.facts.apply_references([r for f in facts for r in f[1]])
        await rescore_runs.schedule(uow, month=APRIL, reason="requested")
        await uow.commit()
    await platform.runtime.wait_idle(timeout=60)


async def announce_person(platform: Platform, person_id: str) -> None:
    message = person_pb2.PersonLinked(
        person_id=person_id, record_key=f"jumin:{person_id}", source="jumin", created=True
    )
    envelope = Envelope(
        topic=topic_of(message), key=person_id, type=event_type(message), source="identity",
        payload=message.SerializeToString(), municipality="143669",
    )
    await platform.runtime.platform.bus.publish([envelope])
    await platform.runtime.wait_idle(timeout=60)


async def sent_case_events(platform: Platform) -> list[Envelope]:
    """casework's relayed case announcements, as they went out (same event ids)."""
    casework = platform.module("casework")
    outbox = casework.outbox_table
    assert casework.sessions is not None
    async with casework.sessions() as session:
        rows = await session.execute(select(outbox).where(outbox.c.topic == "casework.case.v1").order_by(outbox.c.seq))
        return [
            Envelope(
                topic=r.topic,
                key=r.key,
                type=r.type,
                source=r.source,
                payload=r.payload,
                municipality=r.municipality,
                id=r.id,
                time=r.event_time,
            )
            for r in rows
        ]


async def risk_rows(platform: Platform) -> list[tuple[str, str, str, int]]:
    risk = platform.module("risk")
    table = risk.tables["case_statuses"]
    assert risk.sessions is not None
    async with risk.sessions() as session:
        rows = await session.execute(select(table).order_by(table.c.case_id))
        return [(r.case_id, r.person_id, r.status, r.version) for r in rows]


async def test_a_case_opened_in_casework_moves_the_child_between_the_candidate_filters(platform: Platform) -> None:
    await scored_town(platform)
    await announce_person(platform, "c1")
    assert await platform.candidates() == {c: (False, None) for c in CANDIDATES}
    assert await platform.candidates("open") == {}

    opened = await platform.casework.post(
        "/v1/cases",
        json={
            "person_id": "c1",
            "difficulty_types": ["young_carer"],
            "origin": {"rule_id": "young_carer", "rule_version": 1, "month": APRIL},
        },
        headers=platform.headers("early_detection"),
    )
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["id"]
    await platform.runtime.wait_idle(timeout=60)
    assert await platform.candidates("open") == {"c1": (True, "triage")}
    assert await platform.candidates("none") == {"c2": (False, None), "c3": (False, None)}

    transitions = f"/v1/cases/{case_id}/transitions"
    for step in ({"to": "accepted", "risk_level": 2}, {"to": "closed", "note": "転出のため終結"}):
        moved = await platform.casework.post(transitions, json=step, headers=platform.headers("case_support"))
        assert moved.status_code == 201, moved.text
        await platform.runtime.wait_idle(timeout=60)
        if step["to"] == "accepted":
            assert await platform.candidates("open") == {"c1": (True, "accepted")}
    assert await platform.candidates("open") == {}
    assert await platform.candidates("none") == {c: (False, None) for c in CANDIDATES}
    assert await risk_rows(platform) == [(case_id, "c1", "closed", 3)]

    # Redelivery (the same events again, same ids) and a stale announcement (an older version under a new id,
    # as a re-published event could arrive) change nothing: the case stays closed in risk.
    sent = await sent_case_events(platform)
    assert [type(decode(e.type, e.payload)).__name__ for e in sent] == [
        "CaseOpened",
        "CaseStatusChanged",
        "CaseStatusChanged",
    ]
    stale = sent[0]
    await platform.runtime.platform.bus.publish([*sent, replace(stale, id=str(uuid.uuid4()))])
    await platform.runtime.wait_idle(timeout=60)
    assert await risk_rows(platform) == [(case_id, "c1", "closed", 3)]
    assert await platform.candidates("open") == {}
    risk = platform.module("risk")
    assert risk.sessions is not None
    async with risk.sessions() as session:
        processed = await session.scalar(
            select(func.count())
            .select_from(risk.inbox_table)
            .where(risk.inbox_table.c.consumer_group.endswith("risk.cases"))
        )
    assert processed == 4  # three announcements once each, plus the stale one under its new id
    assert isinstance(decode(stale.type, stale.payload), case_pb2.CaseOpened)
