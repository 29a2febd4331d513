"""Households by month: a past month is scored with the household it had then, not today's. A disabled father
leaves in May and a younger sibling (in nursery) arrives; April, re-scored after May's data (by a late link and by
a full run), keeps April's family, and May uses the new one. Through risk's consumers, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from mimamori.contracts import event_type, topic_of
from mimamori.events.identity.v1 import person_pb2
from mimamori.kit.auth import CONTEXT_HEADER, AccessContext
from mimamori.kit.config import PlatformSettings
from mimamori.kit.messaging.envelope import Envelope
from mimamori.kit.messaging.inprocess import InProcessBus
from mimamori.kit.runtime.process import Runtime, running
from mimamori.risk.adapters.read_model import Reference
from mimamori.risk.domain.facts import FactVersion, Origin
from mimamori.risk.domain.month import AssessmentMonth
from mimamori.risk.domain.view import score_view
from mimamori.risk.service_layer import rescore_runs, scoring
from mimamori.risk.service_layer.unit_of_work import RiskUnitOfWork

pytestmark = pytest.mark.integration

APRIL, MAY = "202604", "202605"
T0 = datetime(2026, 5, 1, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgres"])
async def runtime(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Runtime]:
    database_url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    monkeypatch.setenv("MIMAMORI_RISK_RESCORE_SETTLE_SECONDS", "0")
    monkeypatch.setenv("MIMAMORI_RISK_RESCORE_POLL_SECONDS", "0.05")
    settings = PlatformSettings(data_dir=tmp_path, database_url=database_url, outbox_poll_seconds=0.05)
    async with running(targets=["risk"], settings=settings, bus=InProcessBus()) as started:
        yield started


def uow_of(runtime: Runtime) -> RiskUnitOfWork:
    app = runtime.module("risk").app
    assert app is not None
    uow: RiskUnitOfWork = app.state.uow_factory()
    return uow


def member(person_id: str, zokugara: str, born: str, sex: str = "2") -> person_pb2.HouseholdMember:
    return person_pb2.HouseholdMember(person_id=person_id, zokugara=zokugara, birth_date=born, sex=sex, resident=True)


MOTHER = member("mother", "世帯主", "1985-05-01")
FATHER = member("father", "夫", "1984-05-01", sex="1")
CHILD = member("kid", "子", "2015-05-01")  # 小5 in 2026
SIBLING = member("sib", "子", "2022-06-01")  # a younger sibling, enrolled in a nursery since 2025


def announced(household_id: str, version: int, month: str, *members: person_pb2.HouseholdMember) -> Envelope:
    message = person_pb2.HouseholdChanged(
        household_id=household_id, setai_code=f"S{household_id}", members=members, version=version, month=month
    )
    return envelope(message, household_id, at=T0 + timedelta(minutes=version))


def envelope(message: Any, key: str, *, at: datetime = T0) -> Envelope:
    return Envelope(
        topic=topic_of(message),
        key=key,
        type=event_type(message),
        source="identity",
        payload=message.SerializeToString(),
        municipality="143669",
        time=at.isoformat(timespec="microseconds"),
    )


async def publish(runtime: Runtime, *envelopes: Envelope) -> None:
    await runtime.platform.bus.publish(list(envelopes))
    await runtime.wait_idle(timeout=60)


async def store_facts(
    runtime: Runtime, facts: list[tuple[str, str, str, dict[str, str], list[tuple[str, str]]]]
) -> None:
    """Source facts and their references as the records' and identity's consumers keep them."""
    async with uow_of(runtime) as uow:
        await uow.facts.store_fact_versions(
            [
                FactVersion(key, month, kind, False, fields, Origin(kind, f"{kind}_{month}.csv", 1))
                for key, month, kind, fields, _ in facts
            ]
        )
        await uow.facts.apply_references(
            [
                Reference(key, i, role, pid, 1, False)
                for key, _, _, _, persons in facts
                for i, (role, pid) in enumerate(persons)
            ]
        )
        await uow.commit()


async def full_run(runtime: Runtime, month: str) -> None:
    async with uow_of(runtime) as uow:
        await rescore_runs.schedule(uow, month=month, reason="requested")
        await uow.commit()
    await runtime.wait_idle(timeout=60)  # the module's backlog counts unfinished runs


async def young_carer(runtime: Runtime, month: str) -> tuple[int | None, dict[str, int]]:
    async with uow_of(runtime) as uow:
        table = uow._tables["assessments"]
        row = (
            await uow.session.execute(
                select(table).where(
                    table.c.rule_id == "young_carer", table.c.month == month, table.c.person_id == "kid"
                )
            )
        ).one()
    return row.total, dict(row.subscores)


async def scored_at_once(runtime: Runtime, month: str) -> tuple[int | None, dict[str, int]]:
    """One in-memory scoring of everyone as of the month (nothing written)."""
    async with uow_of(runtime) as uow:
        rule = next(r for r in await scoring.adopted_rules(uow) if r.id == "young_carer")
        view = await scoring.full_view(uow, AssessmentMonth.parse(month))
    found = next(s.assessment for s in score_view(rule, view) if s.assessment.person_id == "kid")
    return found.total, found.subscores


async def april_then_may(runtime: Runtime, *, late_link: bool) -> None:
    """April: mother, her disabled husband, the child. May: the father left (a household of his own), the younger
    sibling arrived. The father's 手帳 is linked now, or (late_link) only later by staff review."""
    await publish(runtime, announced("H", 1, APRIL, MOTHER, FATHER, CHILD))
    await store_facts(
        runtime,
        [
            (
                "roll:kid",
                APRIL,
                "school_roll",
                {"school_code": "S1", "student_no": "1", "grade": "5"},
                [("child", "kid")],
            ),
            (
                "techo:father",
                APRIL,
                "certificate",
                {"kind": "身体", "level": "2級", "issued": "2020-04-01", "valid_until": ""},
                [("holder", "" if late_link else "father")],
            ),
            (
                "hoiku:sib",
                APRIL,
                "nursery_enrolment",
                {"facility_code": "N1", "start": "2025-04-01", "end": ""},
                [("child", "sib")],
            ),
        ],
    )
    await full_run(runtime, APRIL)
    await publish(runtime, announced("H", 2, MAY, MOTHER, CHILD, SIBLING), announced("G", 1, MAY, FATHER))
    await store_facts(
        runtime,
        [("roll:kid", MAY, "school_roll", {"school_code": "S1", "student_no": "1", "grade": "5"}, [("child", "kid")])],
    )
    await full_run(runtime, MAY)


APRIL_FAMILY = (11, {"a": 1, "b": 0, "c": 0, "d": 10})  # the father's 手帳 (a-2); no younger sibling yet
MAY_FAMILY = (11, {"a": 0, "b": 1, "c": 0, "d": 10})  # no father; the sibling's nursery place (b-1)


async def test_a_full_run_of_a_past_month_uses_that_months_household(runtime: Runtime) -> None:
    await april_then_may(runtime, late_link=False)
    assert await young_carer(runtime, APRIL) == APRIL_FAMILY
    assert await young_carer(runtime, MAY) == MAY_FAMILY

    await full_run(runtime, APRIL)  # e.g. a new rule version, after May's data: April keeps April's family
    assert await young_carer(runtime, APRIL) == APRIL_FAMILY == await scored_at_once(runtime, APRIL)
    assert await young_carer(runtime, MAY) == MAY_FAMILY == await scored_at_once(runtime, MAY)


async def test_a_late_link_re_scores_april_with_aprils_household_and_may_with_mays(runtime: Runtime) -> None:
    await april_then_may(runtime, late_link=True)
    assert await young_carer(runtime, APRIL) == (None, {"a": 0, "b": 0, "c": 0, "d": 10})  # no gate: no candidate
    assert await young_carer(runtime, MAY) == MAY_FAMILY

    # Staff accept the 手帳's link to the father in review: identity re-resolves the reference.
    link = person_pb2.ReferenceResolved(
        record_key="techo:father",
        source="shogai_techo",
        reference_index=0,
        role="holder",
        person_id="father",
        version=2,
    )
    await publish(runtime, envelope(link, "techo:father"))
    assert await young_carer(runtime, APRIL) == APRIL_FAMILY  # he lived with the child in April
    assert await young_carer(runtime, MAY) == MAY_FAMILY  # and no longer in May


async def test_past_announcement_arriving_late_is_kept_for_its_month_and_reads_follow_the_month(
    runtime: Runtime,
) -> None:
    # May's announcement first, April's (an earlier version) after it: each holds for its own month.
    await publish(runtime, announced("H", 2, MAY, MOTHER, CHILD, SIBLING))
    await publish(runtime, announced("H", 1, APRIL, MOTHER, FATHER, CHILD))
    await publish(runtime, announced("H", 1, APRIL, MOTHER, CHILD))  # a different event, same version: replaces
    await publish(runtime, announced("H", 3, APRIL, MOTHER, FATHER, CHILD))  # a correction of April
    app = runtime.module("risk").app
    signer = runtime.platform.context_signer
    assert app is not None and signer is not None
    context = AccessContext(
        subject="staff-1", roles=["caseworker"], purpose="case_support", decision_id="d", municipality="143669"
    )
    headers = {CONTEXT_HEADER: signer.sign(context)}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://risk") as client:
        april = (await client.get(f"/v1/children/kid?month={APRIL}", headers=headers)).json()
        may = (await client.get(f"/v1/children/kid?month={MAY}", headers=headers)).json()
        march = await client.get("/v1/households/H/summary?month=202603", headers=headers)
        summary = (await client.get(f"/v1/households/H/summary?month={APRIL}", headers=headers)).json()
    assert sorted(april["parents"]) == ["father", "mother"] and april["younger_siblings"] == []
    assert may["parents"] == ["mother"] and may["younger_siblings"] == ["sib"]
    assert march.status_code == 404  # not announced for any month by then
    assert (summary["version"], summary["member_count"]) == (3, 3)
    stale = person_pb2.HouseholdChanged(household_id="H", setai_code="SH", members=[MOTHER], version=2, month=APRIL)
    await publish(runtime, envelope(stale, "H"))  # lower than April's stored version 3: changes nothing
    async with uow_of(runtime) as uow:
        household = await uow.households.get("H", month=APRIL)
    assert household is not None and household.version == 3 and len(household.members) == 3
