"""A full re-score is a background run: scheduled, scored in household chunks each committed with the run's cursor,
taken over by another worker when its lease runs out, idempotent; alerts only for changes after a rule's first
month; runs visible through the API. On SQLite and on a real PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from mimamori.contracts import event_type, topic_of
from mimamori.events.common.v1 import provenance_pb2
from mimamori.events.ingest.v1 import person_record_pb2
from mimamori.events.ingest.v1 import source_record_pb2 as sr
from mimamori.kit.auth import CONTEXT_HEADER, AccessContext
from mimamori.kit.config import PlatformSettings
from mimamori.kit.messaging.envelope import Envelope
from mimamori.kit.messaging.inprocess import InProcessBus
from mimamori.kit.runtime.process import Runtime, running
from mimamori.risk.adapters.read_model import Reference
from mimamori.risk.domain.facts import FactVersion, Origin
from mimamori.risk.domain.household import BirthDate, Household, Member
from mimamori.risk.domain.month import AssessmentMonth
from mimamori.risk.domain.view import score_view
from mimamori.risk.service_layer import rescore_runs, scoring
from mimamori.risk.service_layer.rescore_runs import RunSettings
from mimamori.risk.service_layer.unit_of_work import RiskUnitOfWork

pytestmark = pytest.mark.integration

APRIL, MAY = "202604", "202605"
NOW = datetime(2026, 4, 1, tzinfo=UTC)
Factory = Callable[[], RiskUnitOfWork]


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str | None:
    return request.getfixturevalue("postgres_url") if request.param == "postgres" else None


@pytest.fixture
async def runtime(tmp_path: Path, database_url: str | None, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Runtime]:
    monkeypatch.setenv("MIMAMORI_RISK_RESCORE_SETTLE_SECONDS", "0")
    monkeypatch.setenv("MIMAMORI_RISK_RESCORE_POLL_SECONDS", "0.05")
    settings = PlatformSettings(data_dir=tmp_path, database_url=database_url, outbox_poll_seconds=0.05)
    async with running(targets=["risk"], settings=settings, bus=InProcessBus()) as started:
        yield started


@pytest.fixture
async def manual(tmp_path: Path, database_url: str | None, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Runtime]:
    # The process's own worker must not take the runs the test drives by hand.
    monkeypatch.setenv("MIMAMORI_RISK_RESCORE_SETTLE_SECONDS", "86400")
    settings = PlatformSettings(data_dir=tmp_path, database_url=database_url, outbox_poll_seconds=0.05)
    async with running(targets=["risk"], settings=settings, bus=InProcessBus()) as started:
        yield started


def factory_of(runtime: Runtime) -> Factory:
    app = runtime.module("risk").app
    assert app is not None
    factory: Factory = app.state.uow_factory
    return factory


def household(index: int, *, single: bool) -> Household:
    members = [Member(f"p{index}", "世帯主", BirthDate.parse("1985-05-01"), "2", True, False)]
    if not single:
        members.append(Member(f"q{index}", "夫", BirthDate.parse("1984-05-01"), "1", True, False))
    members.append(Member(f"c{index}", "子", BirthDate.parse("2015-05-01"), "1", True, False))
    return Household(household_id=f"h{index}", setai_code=f"S{index}", version=1, members=tuple(members))


def fact(key: str, month: str, kind: str, fields: dict[str, str], persons: list[tuple[str, str]]) -> tuple[Any, ...]:
    version = FactVersion(key, month, kind, False, fields, Origin(kind, f"{kind}_{month}.csv", 1))
    refs = [Reference(key, i, role, pid, 1, False) for i, (role, pid) in enumerate(persons)]
    return version, refs


async def store(factory: Factory, *, households: list[Household], facts: list[tuple[Any, ...]]) -> None:
    async with factory() as uow:
        for h in households:
            await uow.households.replace(h, announced_at=NOW)
        await uow.facts.store_fact_versions([f[0] for f in facts])
        await uow.facts.apply_references([r for f in facts for r in f[1]])
        await uow.commit()


def town() -> tuple[list[Household], list[tuple[Any, ...]]]:
    """Five pupils: three of ひとり親 with 児童扶養手当 (young-carer candidates, total 11), two not."""
    households = [household(i, single=i <= 3) for i in range(1, 6)]
    facts = []
    for i in range(1, 6):
        roll = {"school_code": "S1", "student_no": str(i), "grade": "5"}
        facts.append(fact(f"roll:{i}", APRIL, "school_roll", roll, [("child", f"c{i}")]))
        if i <= 3:
            fuyou = {"program": "jidou_fuyou", "status": "有", "start": "2020-04-01", "end": ""}
            facts.append(fact(f"fuyou:{i}", APRIL, "entitlement", fuyou, [("recipient", f"p{i}"), ("child", f"c{i}")]))
    return households, facts


def tardies(child: int, student_no: str, days: list[int]) -> list[tuple[Any, ...]]:
    return [
        fact(
            f"tardy:{child}:{day}",
            MAY,
            "attendance",
            {"school_code": "S1", "student_no": student_no, "date": f"2026-05-{day:02d}", "mark": "遅刻"},
            [("child", f"c{child}")],
        )
        for day in days
    ]


async def stored(factory: Factory, month: str) -> dict[tuple[str, str], tuple[int | None, dict[str, int]]]:
    async with factory() as uow:
        table = uow._tables["assessments"]
        rows = await uow.session.execute(select(table).where(table.c.month == month))
        return {(r.rule_id, r.person_id): (r.total, dict(r.subscores)) for r in rows}


async def expected(factory: Factory, month: str) -> dict[tuple[str, str], tuple[int | None, dict[str, int]]]:
    """What one in-memory scoring of everyone gives (nothing written)."""
    async with factory() as uow:
        rules = await scoring.adopted_rules(uow)
        view = await scoring.full_view(uow, AssessmentMonth.parse(month))
    return {
        (rule.id, s.assessment.person_id): (s.assessment.total, s.assessment.subscores)
        for rule in rules
        for s in score_view(rule, view)
    }


async def run_to_end(factory: Factory, run_id: str, settings: RunSettings) -> int:
    chunks = 0
    while await rescore_runs.advance(run_id, uow=factory(), settings=settings):
        chunks += 1
    return chunks


async def test_a_run_in_chunks_resumes_after_its_worker_dies_and_equals_one_scoring(manual: Runtime) -> None:
    factory = factory_of(manual)
    households, facts = town()
    await store(factory, households=households, facts=facts)
    async with factory() as uow:
        run_id = await rescore_runs.schedule(uow, month=APRIL, reason="requested")
        again = await rescore_runs.schedule(uow, month=APRIL, reason="requested")
        await uow.commit()
    assert again == run_id  # a pending run of the same scope is reused

    dying = RunSettings(chunk_households=2, settle=timedelta(0), lease=timedelta(0))
    assert await rescore_runs.claim(run_id, uow=factory(), settings=dying)
    assert await rescore_runs.advance(run_id, uow=factory(), settings=dying)  # one chunk, then the worker dies
    async with factory() as uow:
        half = await uow.runs.get(run_id)
    assert half is not None and half.status == "running" and half.households_done == 2 and half.cursor == "h2"

    other = RunSettings(chunk_households=2, settle=timedelta(0))
    assert await rescore_runs.claim(run_id, uow=factory(), settings=other)  # the lease ran out: taken over
    assert not await rescore_runs.claim(run_id, uow=factory(), settings=other)  # and now held
    assert await run_to_end(factory, run_id, other) == 2
    async with factory() as uow:
        run = await uow.runs.get(run_id)
    assert run is not None and run.status == "done" and run.progress == 1.0
    assert run.households_done == run.households_total == 5 and run.children == 5
    assert run.alerts == 0 and "young_carer" in run.baseline  # the first month ever scored: no alerts

    april = await stored(factory, APRIL)
    assert april == await expected(factory, APRIL)
    assert [april[("young_carer", f"c{i}")][0] for i in range(1, 6)] == [11, 11, 11, None, None]

    # May: c4 is late three times (a candidate now, 0 → 12); everyone else keeps their band.
    await store(factory, households=[], facts=tardies(4, "4", [7, 8, 11]))
    settings = RunSettings(chunk_households=2, settle=timedelta(0))
    async with factory() as uow:
        may_run = await rescore_runs.schedule(uow, month=MAY, reason="new_month")
        await uow.commit()
    assert await rescore_runs.claim(may_run, uow=factory(), settings=settings)
    await run_to_end(factory, may_run, settings)
    may = await stored(factory, MAY)
    assert may == await expected(factory, MAY)
    assert may[("young_carer", "c4")][0] == 12
    async with factory() as uow:
        alerts = await uow.assessments.alerts(after=0, limit=100)
    assert [(a.rule_id, a.person_id, a.previous_band, a.band) for a in alerts] == [("young_carer", "c4", 0, 2)]

    # The same month again changes nothing and raises nothing; a child who left is forgotten.
    await store(factory, households=[Household("h5", "S5", 2, household(5, single=False).members[:2])], facts=[])
    async with factory() as uow:
        repeat = await rescore_runs.schedule(uow, month=MAY, reason="requested")
        await uow.commit()
    assert await rescore_runs.claim(repeat, uow=factory(), settings=settings)
    await run_to_end(factory, repeat, settings)
    after = await stored(factory, MAY)
    assert after == {k: v for k, v in may.items() if k[1] != "c5"}
    async with factory() as uow:
        assert len(await uow.assessments.alerts(after=0, limit=100)) == 1


def envelope(message: Any, key: str) -> Envelope:
    return Envelope(
        topic=topic_of(message),
        key=key,
        type=event_type(message),
        source="test",
        payload=message.SerializeToString(),
        municipality="143669",
    )


async def test_a_new_month_is_scheduled_by_the_consumer_and_its_progress_is_visible(runtime: Runtime) -> None:
    factory = factory_of(runtime)
    households, facts = town()
    await store(factory, households=households, facts=facts)
    message = sr.SourceRecordReceived(
        record_key="roll:1",
        provenance=provenance_pb2.SourceRef(source="koumu_meibo", file_name="meibo_202605.csv", row=1),
        change=person_record_pb2.RECORD_CHANGE_CHANGED,
        month=MAY,
        persons=[sr.PersonReference(role="child")],
        school_roll=sr.SchoolRollEntry(school_code="S1", student_no="1", grade="5"),
    )
    await runtime.platform.bus.publish([envelope(message, "roll:1")])
    await runtime.wait_idle(timeout=60)  # the risk module's backlog counts unfinished runs

    app = runtime.module("risk").app
    assert app is not None
    signer = runtime.platform.context_signer
    assert signer is not None

    def headers(purpose: str, role: str) -> dict[str, str]:
        context = AccessContext(subject="ops-1", roles=[role], purpose=purpose, decision_id="d", municipality="143669")
        return {CONTEXT_HEADER: signer.sign(context)}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://risk") as client:
        listed = await client.get("/v1/rescore-runs", headers=headers("system_operation", "sysadmin"))
        assert listed.status_code == 200, listed.text
        runs = [r for r in listed.json()["items"] if r["month"] == MAY]
        assert len(runs) == 1 and runs[0]["reason"] == "new_month" and runs[0]["status"] == "done"
        assert runs[0]["progress"] == 1.0 and runs[0]["households_done"] == 5 and runs[0]["children"] == 5
        assert (await stored(factory, MAY))[("young_carer", "c1")][0] == 11

        requested = await client.post(f"/v1/rescore-runs?month={APRIL}", headers=headers("criteria_design", "analyst"))
        assert requested.status_code == 202
        await runtime.wait_idle(timeout=60)
        one = await client.get(
            f"/v1/rescore-runs/{requested.json()['run_id']}", headers=headers("system_operation", "sysadmin")
        )
        assert one.json()["status"] == "done" and one.json()["month"] == APRIL
        refused = await client.get("/v1/rescore-runs", headers=headers("early_detection", "caseworker"))
        assert refused.status_code == 403
        missing = await client.get("/v1/rescore-runs/nope", headers=headers("system_operation", "sysadmin"))
        assert missing.status_code == 404
