"""A gateway decision handed to a service with a read: `record_access` commits it in the unit of work that
records the access, ahead of it, once per request, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from mimamori.events.audit.v1 import access_pb2
from mimamori.kit.audit_trail import access_event, record_access
from mimamori.kit.auth import AccessContext, CarriedDecision, RequestDecision, request_decision
from mimamori.kit.messaging.inprocess import InProcessBus

if TYPE_CHECKING:
    from conftest import OpenService, TinyService

pytestmark = pytest.mark.integration

DECISION = CarriedDecision(
    event_id="5b3f8a56-2f7a-4f55-9a43-2d0c9b8f8f10",
    decided_at="2026-11-26T01:02:03.000004+00:00",
    method="GET",
    route="/api/casework/v1/persons/{person_id}/observations",
    person_ids=["p-1"],
)


def context(decision: CarriedDecision | None = DECISION) -> AccessContext:
    return AccessContext(
        subject="u-1",
        roles=["caseworker"],
        org_unit="kodomo",
        purpose="case_support",
        decision_id="d-1",
        municipality="143669",
        decision=decision,
    )


@pytest.fixture
def carried() -> Iterator[RequestDecision]:
    """The request's holder, as the service's HTTP middleware and context dependency set it up."""
    holder = RequestDecision(context=context())
    reset = request_decision.set(holder)
    yield holder
    request_decision.reset(reset)


def read_event() -> access_pb2.AccessRecorded:
    return access_event(
        recorder="casework", context=context(), action="read", method="GET", route="/v1/x", person_ids=["p-1"]
    )


async def published(service: TinyService) -> list[access_pb2.AccessRecorded]:
    """The AccessRecorded events in the outbox, in commit order."""
    t = service.outbox.table
    async with service.sessions() as session:
        payloads = (await session.execute(select(t.c.payload).order_by(t.c.seq))).scalars().all()
    return [access_pb2.AccessRecorded.FromString(p) for p in payloads]


async def test_the_decision_commits_with_the_access_ahead_of_it(
    tiny_service: OpenService, database_url: str, carried: RequestDecision
) -> None:
    service = await tiny_service(database_url, InProcessBus(), relay=False)
    async with service.uow() as uow:
        record_access(uow, read_event())
        record_access(uow, read_event())  # a second access in the same unit: the decision once
        assert not carried.recorded  # not before the commit
        await uow.commit()
    assert carried.recorded
    decision, first, second = await published(service)
    assert (decision.event_id, decision.recorder, decision.action, decision.relayed_by) == (
        DECISION.event_id,
        "gateway",
        "decide",
        "casework",
    )
    assert (decision.occurred_at, decision.route, list(decision.person_ids)) == (
        DECISION.decided_at,
        DECISION.route,
        ["p-1"],
    )
    assert (decision.decision_id, decision.outcome, decision.actor) == ("d-1", access_pb2.OUTCOME_ALLOWED, "u-1")
    assert (first.action, second.action, first.relayed_by) == ("read", "read", "")

    async with service.uow() as uow:  # a later unit of the same request: already on record
        record_access(uow, read_event())
        await uow.commit()
    assert [e.action for e in await published(service)] == ["decide", "read", "read", "read"]


async def test_a_unit_that_rolls_back_leaves_the_decision_to_the_next(
    tiny_service: OpenService, database_url: str, carried: RequestDecision
) -> None:
    service = await tiny_service(database_url, InProcessBus(), relay=False)
    unit = service.uow()
    async with unit as uow:
        record_access(uow, read_event())
        await uow.rollback()
    assert not carried.recorded
    assert await published(service) == []
    async with unit as uow:  # the same unit of work object, entered again
        record_access(uow, read_event())
        await uow.commit()
    assert carried.recorded
    assert [(e.action, e.event_id == DECISION.event_id) for e in await published(service)] == [
        ("decide", True),
        ("read", False),
    ]


async def test_without_a_carried_decision_only_the_access_is_recorded(
    tiny_service: OpenService, database_url: str
) -> None:
    service = await tiny_service(database_url, InProcessBus(), relay=False)
    holder = RequestDecision(context=None)  # a direct call, or a write whose decision the gateway recorded
    reset = request_decision.set(holder)
    try:
        async with service.uow() as uow:
            record_access(uow, read_event())
            await uow.commit()
    finally:
        request_decision.reset(reset)
    assert not holder.recorded
    assert [e.action for e in await published(service)] == ["read"]
