"""risk started as a module: HouseholdChanged events in, the child view out through the API, on SQLite and
on a real PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from mimamori.contracts import event_type, topic_of
from mimamori.events.audit.v1 import access_pb2
from mimamori.events.identity.v1 import person_pb2
from mimamori.kit.auth import CONTEXT_HEADER, AccessContext
from mimamori.kit.config import PlatformSettings
from mimamori.kit.messaging.envelope import Envelope
from mimamori.kit.messaging.inprocess import InProcessBus
from mimamori.kit.runtime.process import Runtime, running
from mimamori.kit.runtime.service import ServiceModule

pytestmark = pytest.mark.integration

T0 = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)


@dataclass
class Risk:
    """The started risk module, its bus and an HTTP client on its app."""

    runtime: Runtime
    bus: InProcessBus
    client: httpx.AsyncClient

    @property
    def module(self) -> ServiceModule:
        module = self.runtime.module("risk")
        assert isinstance(module, ServiceModule)
        return module

    async def publish(self, *envelopes: Envelope) -> None:
        await self.bus.publish(list(envelopes))
        await self.runtime.wait_idle()

    async def get(
        self, path: str, *, purpose: str = "early_detection", roles: tuple[str, ...] = ("caseworker",)
    ) -> httpx.Response:
        signer = self.runtime.platform.context_signer
        assert signer is not None
        context = AccessContext(
            subject="staff-0042",
            roles=list(roles),
            org_unit="kodomo-ikusei",
            purpose=purpose,
            decision_id="decision-1",
            municipality="143669",
        )
        response = await self.client.get(path, headers={CONTEXT_HEADER: signer.sign(context)})
        await self.runtime.wait_idle()
        return response

    def audit(self) -> list[access_pb2.AccessRecorded]:
        events = []
        for envelope in self.bus.messages("audit.access.v1"):
            event = access_pb2.AccessRecorded()
            event.ParseFromString(envelope.payload)
            events.append(event)
        return events


@pytest.fixture(params=["sqlite", "postgres"])
async def risk(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Risk]:
    database_url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    settings = PlatformSettings(data_dir=tmp_path, database_url=database_url, outbox_poll_seconds=0.05)
    bus = InProcessBus()
    async with running(targets=["risk"], settings=settings, bus=bus) as runtime:
        app = runtime.module("risk").app
        assert app is not None
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://risk") as client:
            yield Risk(runtime=runtime, bus=bus, client=client)


def member(person_id: str, zokugara: str, born: str, *, resident: bool = True) -> person_pb2.HouseholdMember:
    return person_pb2.HouseholdMember(
        person_id=person_id, zokugara=zokugara, birth_date=born, sex="2", resident=resident
    )


def changed(household_id: str, version: int, *members: person_pb2.HouseholdMember, at: datetime = T0) -> Envelope:
    message = person_pb2.HouseholdChanged(
        household_id=household_id, setai_code=f"S{household_id}", members=members, version=version
    )
    return Envelope(
        topic=topic_of(message),
        key=household_id,
        type=event_type(message),
        source="identity",
        payload=message.SerializeToString(),
        municipality="143669",
        time=at.isoformat(timespec="microseconds"),
    )


async def households_of(risk: Risk, person_id: str) -> list[str]:
    members = risk.module.metadata.tables["household_members"]
    assert risk.module.sessions is not None
    async with risk.module.sessions() as session:
        rows = await session.execute(
            select(members.c.household_id).where(members.c.person_id == person_id).order_by(members.c.household_id)
        )
        return [r.household_id for r in rows]


async def test_child_view_comes_from_the_household_and_every_read_is_audited(risk: Risk) -> None:
    await risk.publish(
        changed(
            "h-1",
            1,
            member("mother", "世帯主", "1988-05-01"),
            member("lodger", "同居人", "1980-01-01"),
            member("kid", "子", "2015-06-10"),
            member("twin", "子", "2015-06-10"),
            member("baby", "子", "2023-02-02"),
        )
    )

    response = await risk.get("/v1/children/kid?month=202603")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["household_id"] == "h-1"
    assert body["parents"] == ["mother"]
    assert body["single_parent"] is True
    assert body["younger_siblings"] == ["baby"]
    assert body["age"] == 10
    assert body["as_of"] == "2026-03-31"
    assert body["school_grade"] == 4
    (audit,) = risk.audit()
    assert audit.recorder == "risk"
    assert audit.route == "/v1/children/{person_id}"
    assert audit.actor == "staff-0042" and audit.purpose == "early_detection"
    assert list(audit.person_ids) == ["baby", "kid", "mother"]
    assert audit.status_code == 200


async def test_redelivered_event_changes_nothing(risk: Risk) -> None:
    first = changed(
        "h-2",
        1,
        member("father", "世帯主", "1985-01-01"),
        member("mother", "妻", "1987-02-02"),
        member("kid", "子", "2016-07-07"),
    )
    second = changed(
        "h-2",
        2,
        member("father", "世帯主", "1985-01-01"),
        member("kid", "子", "2016-07-07"),
        at=T0 + timedelta(minutes=1),
    )
    await risk.publish(first, second)
    await risk.publish(first, second)  # the same events again (same ids): at-least-once delivery

    body = (await risk.get("/v1/children/kid?month=202603")).json()

    assert body["parents"] == ["father"] and body["single_parent"] is True
    inbox = risk.module.inbox_table
    assert risk.module.sessions is not None
    async with risk.module.sessions() as session:
        processed = await session.scalar(select(func.count()).select_from(inbox))
    assert processed == 2


async def test_stale_version_is_ignored(risk: Risk) -> None:
    await risk.publish(changed("h-3", 3, member("mother", "世帯主", "1988-05-01"), member("kid", "子", "2015-06-10")))
    await risk.publish(
        changed(
            "h-3",
            2,
            member("father", "世帯主", "1985-01-01"),
            member("mother", "妻", "1988-05-01"),
            member("kid", "子", "2015-06-10"),
            at=T0 + timedelta(minutes=5),
        )
    )

    child = (await risk.get("/v1/children/kid?month=202603")).json()
    summary = (await risk.get("/v1/households/h-3/summary?month=202603")).json()

    assert child["parents"] == ["mother"] and child["single_parent"] is True
    assert summary["version"] == 3 and summary["member_count"] == 2
    assert await households_of(risk, "father") == []


async def test_person_moving_between_households_ends_only_in_the_new_one(risk: Risk) -> None:
    # identity announced: A v1 (kid with mother) at T0, then the move: A v2 (without) and B v2 (with kid).
    # The move's announcement of B arrives before A's older ones, as across Kafka partitions.
    await risk.publish(changed("B", 1, member("father", "世帯主", "1985-01-01"), at=T0))
    await risk.publish(
        changed(
            "B",
            2,
            member("father", "世帯主", "1985-01-01"),
            member("kid", "子", "2015-06-10"),
            at=T0 + timedelta(days=30),
        )
    )
    await risk.publish(
        changed("A", 1, member("mother", "世帯主", "1988-05-01"), member("kid", "子", "2015-06-10"), at=T0)
    )

    during = (await risk.get("/v1/children/kid?month=202605")).json()
    assert during["household_id"] == "B" and during["parents"] == ["father"]

    await risk.publish(changed("A", 2, member("mother", "世帯主", "1988-05-01"), at=T0 + timedelta(days=30)))

    after = (await risk.get("/v1/children/kid?month=202605")).json()
    summary_a = (await risk.get("/v1/households/A/summary?month=202605")).json()
    assert after["household_id"] == "B" and after["parents"] == ["father"]
    assert await households_of(risk, "kid") == ["B"]
    assert summary_a["children"] == [] and summary_a["member_count"] == 1


async def test_month_sets_the_day_ages_are_taken_on(risk: Risk) -> None:
    await risk.publish(
        changed(
            "h-4",
            1,
            member("father", "世帯主", "1990-01-01"),
            member("mother", "妻", "2008-04-15"),
            member("baby", "子", "2025-12-01"),
        )
    )

    march = (await risk.get("/v1/children/baby?month=202603")).json()
    april = (await risk.get("/v1/children/baby?month=202604")).json()
    invalid = await risk.get("/v1/children/baby?month=202613")

    assert march["parents"] == ["father"] and march["single_parent"] is True
    assert april["parents"] == ["father", "mother"] and april["single_parent"] is False
    assert invalid.status_code == 422 and invalid.json()["code"] == "invalid_month"


async def test_unknown_person_and_non_child_are_404_problems_and_audited(risk: Risk) -> None:
    await risk.publish(changed("h-5", 1, member("mother", "世帯主", "1988-05-01"), member("kid", "子", "2015-06-10")))

    unknown = await risk.get("/v1/children/nobody?month=202603")
    adult = await risk.get("/v1/children/mother?month=202603")

    for response in (unknown, adult):
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == "child_not_found"
    audited = [(list(a.person_ids), a.status_code) for a in risk.audit()]
    assert audited == [(["nobody"], 404), (["mother"], 404)]


async def test_purpose_and_role_are_checked_by_the_service(risk: Risk) -> None:
    await risk.publish(changed("h-6", 1, member("mother", "世帯主", "1988-05-01"), member("kid", "子", "2015-06-10")))

    statistics = await risk.get("/v1/children/kid", purpose="policy_statistics")
    analyst = await risk.get("/v1/children/kid", roles=("analyst",))
    nurse = await risk.get("/v1/children/kid", purpose="case_support", roles=("public_health_nurse",))
    anonymous = await risk.client.get("/v1/children/kid")

    assert statistics.status_code == 403 and statistics.json()["code"] == "purpose_not_allowed"
    assert analyst.status_code == 403 and analyst.json()["code"] == "role_not_allowed"
    assert anonymous.status_code == 401
    assert nurse.status_code == 200
    assert len(risk.audit()) == 1
