"""risk keeps casework's case statuses: the newest version of each case wins whatever the order of arrival, a case of
a merged person counts for the surviving one until the merge is undone, and the candidate filter `case=open|none`
reads them. On SQLite and on a real PostgreSQL (in-process bus)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from mimamori.contracts import event_type, topic_of
from mimamori.events.casework.v1 import case_pb2
from mimamori.events.identity.v1 import person_pb2
from mimamori.kit.auth import CONTEXT_HEADER, AccessContext
from mimamori.kit.config import PlatformSettings
from mimamori.kit.messaging.envelope import Envelope
from mimamori.kit.messaging.inprocess import InProcessBus
from mimamori.kit.runtime.process import Runtime, running
from mimamori.risk.adapters.read_model import Reference
from mimamori.risk.domain.facts import FactVersion, Origin
from mimamori.risk.domain.household import BirthDate, Household, Member
from mimamori.risk.service_layer import rescore_runs
from mimamori.risk.service_layer.unit_of_work import RiskUnitOfWork

pytestmark = pytest.mark.integration

APRIL = "202604"
NOW = datetime(2026, 4, 1, tzinfo=UTC)
NONE = {"c1": (False, None), "c2": (False, None), "c3": (False, None)}


@pytest.fixture(params=["sqlite", "postgres"])
async def runtime(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Runtime]:
    monkeypatch.setenv("MIMAMORI_RISK_RESCORE_SETTLE_SECONDS", "0")
    monkeypatch.setenv("MIMAMORI_RISK_RESCORE_POLL_SECONDS", "0.05")
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    settings = PlatformSettings(data_dir=tmp_path, database_url=url, outbox_poll_seconds=0.05)
    async with running(targets=["risk"], settings=settings, bus=InProcessBus()) as started:
        yield started


async def scored_town(runtime: Runtime) -> None:
    """c1–c3: ひとり親 with 児童扶養手当 (young-carer candidates); c4, c5 two parents (not)."""
    app = runtime.module("risk").app
    assert app is not None
    factory: Callable[[], RiskUnitOfWork] = app.state.uow_factory
    async with factory() as uow:
        for i in range(1, 6):
            members = [Member(f"p{i}", "世帯主", BirthDate.parse("1985-05-01"), "2", True, False)]
            if i > 3:
                members.append(Member(f"q{i}", "夫", BirthDate.parse("1984-05-01"), "1", True, False))
            members.append(Member(f"c{i}", "子", BirthDate.parse("2015-05-01"), "1", True, False))
            await uow.households.replace(Household(f"h{i}", f"S{i}", 1, tuple(members)), announced_at=NOW)
            roll = FactVersion(
                f"roll:{i}",
                APRIL,
                "school_roll",
                False,
                {"school_code": "S1", "student_no": str(i), "grade": "5"},
                Origin("koumu_meibo", "m.csv", i),
            )
            refs = [Reference(f"roll:{i}", 0, "child", f"c{i}", 1, False)]
            versions = [roll]
            if i <= 3:
                fields = {"program": "jidou_fuyou", "status": "有", "start": "2020-04-01", "end": ""}
                versions.append(
                    FactVersion(f"fuyou:{i}", APRIL, "entitlement", False, fields, Origin("jidou_fuyou", "f.csv", i))
                )
                refs += [Reference(f"fuyou:{i}", 0, "recipient", f"p{i}", 1, False)]
            await uow.facts.store_fact_versions(versions)
            await uow.facts.apply_references(refs)
        await rescore_runs.schedule(uow, month=APRIL, reason="requested")
        await uow.commit()
    await runtime.wait_idle(timeout=60)


async def publish(runtime: Runtime, *messages: Any) -> None:
    envelopes = [
        Envelope(
            topic=topic_of(m),
            key=getattr(m, "case_id", "") or "k",
            type=event_type(m),
            source="test",
            payload=m.SerializeToString(),
            municipality="143669",
        )
        for m in messages
    ]
    await runtime.platform.bus.publish(envelopes)
    await runtime.wait_idle(timeout=60)


async def candidates(runtime: Runtime, case: str | None = None, *, purpose: str = "early_detection") -> dict[str, Any]:
    app = runtime.module("risk").app
    signer = runtime.platform.context_signer
    assert app is not None and signer is not None
    role = "analyst" if purpose == "criteria_design" else "caseworker"
    context = AccessContext(subject="s", roles=[role], purpose=purpose, decision_id="d", municipality="143669")
    params = {"month": APRIL, **({"case": case} if case else {})}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://risk") as http:
        r = await http.get(
            "/v1/rules/young_carer/candidates", params=params, headers={CONTEXT_HEADER: signer.sign(context)}
        )
    assert r.status_code == 200, r.text
    key = "pseudonym" if purpose == "criteria_design" else "person_id"
    return {i[key]: (i["has_open_case"], i["case_status"]) for i in r.json()["items"]}


def opened(case_id: str, person_id: str) -> case_pb2.CaseOpened:
    return case_pb2.CaseOpened(
        case_id=case_id, person_id=person_id, difficulty_types=["young_carer"], status=case_pb2.CASE_STATUS_TRIAGE,
        version=1,
    )


def changed(
    case_id: str, person_id: str, status: case_pb2.CaseStatus.ValueType, version: int
) -> case_pb2.CaseStatusChanged:
    return case_pb2.CaseStatusChanged(
        case_id=case_id, person_id=person_id, difficulty_types=["young_carer"], status=status, version=version,
    )


async def test_the_newest_version_wins_whatever_the_order_of_arrival(runtime: Runtime) -> None:
    await scored_town(runtime)
    await publish(runtime, opened("k1", "c1"))
    assert await candidates(runtime, "open") == {"c1": (True, "triage")}
    # 終結 (version 3) overtakes 受理 (version 2): the older one arriving later changes nothing.
    await publish(runtime, changed("k1", "c1", case_pb2.CASE_STATUS_CLOSED, 3))
    await publish(runtime, changed("k1", "c1", case_pb2.CASE_STATUS_ACCEPTED, 2), opened("k1", "c1"))
    assert await candidates(runtime, "open") == {}
    assert await candidates(runtime) == NONE
    # A declined case is not open either; a later case of the same child is.
    await publish(runtime, opened("k2", "c3"), changed("k2", "c3", case_pb2.CASE_STATUS_DECLINED, 2))
    await publish(runtime, opened("k3", "c3"), changed("k3", "c3", case_pb2.CASE_STATUS_SUPPORT, 4))
    assert await candidates(runtime, "open") == {"c3": (True, "support")}
    assert await candidates(runtime, "none") == {"c1": (False, None), "c2": (False, None)}
    pseudonymous = await candidates(runtime, "open", purpose="criteria_design")
    assert list(pseudonymous.values()) == [(True, "support")] and "c3" not in pseudonymous


async def test_a_case_of_a_merged_person_counts_for_the_survivor_until_the_merge_is_undone(runtime: Runtime) -> None:
    await scored_town(runtime)
    await publish(runtime, opened("k9", "dup-2"))  # casework knew the child under a duplicate person
    assert await candidates(runtime) == NONE
    await publish(runtime, person_pb2.PersonsMerged(surviving_person_id="c2", merged_person_id="dup-2", merge_id="m1"))
    assert await candidates(runtime, "open") == {"c2": (True, "triage")}
    await publish(
        runtime, person_pb2.PersonUnmerged(surviving_person_id="c2", restored_person_id="dup-2", merge_id="m1")
    )
    assert await candidates(runtime, "open") == {}
    assert await candidates(runtime, "none") == NONE
