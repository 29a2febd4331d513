"""A read's decision handed to the service: the gateway records it itself only when the service's answer does not
say it committed it; a write's decision is recorded before the service acts, and never handed over."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from mimamori.gateway.bootstrap import Gateway
from mimamori.kit.audit_trail import carried_decision_event
from mimamori.kit.auth import AccessContext, ContextDep, ContextVerifier, request_decision
from mimamori.kit.http import create_service_app

READ = "/api/casework/v1/persons/p-1/observations"


def recording_service(verifier: ContextVerifier) -> FastAPI:
    """casework reduced to the contract: `?commit=1` stands for a unit of work that committed the decision with
    the service's record of the access; `?forge=1` answers the header with another decision's id."""
    app = create_service_app(name="casework", title="fake casework", description="test double", verifier=verifier)

    async def observations(request: Request, context: ContextDep) -> Any:
        carried = request_decision.get()
        assert carried is not None  # the kit's middleware made one for this request
        if request.query_params.get("commit") and carried.context is not None:
            carried.mark_recorded()
        if request.query_params.get("forge"):
            return JSONResponse(
                {"context": context.model_dump()}, headers={"X-Mimamori-Decision-Recorded": "someone-else"}
            )
        return {"context": context.model_dump()}

    app.add_api_route("/v1/persons/{person_id}/observations", observations, methods=["GET", "POST"])
    return app


def gateway_with(make_gateway: Callable[..., Gateway]) -> Gateway:
    return make_gateway(services=(), rate_limit_per_second=0, apps={"casework": recording_service})


def auth(gateway: Gateway) -> dict[str, str]:
    assert gateway.dev_issuer is not None
    return {"Authorization": f"Bearer {gateway.dev_issuer.mint('caseworker1')}", "X-Purpose": "case_support"}


async def call(gateway: Gateway, method: str, url: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=gateway.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        return await http.request(method, url, headers=auth(gateway))


async def test_a_read_committed_by_the_service_is_not_recorded_again(
    make_gateway: Callable[..., Gateway], recorder: Any
) -> None:
    gateway = gateway_with(make_gateway)
    response = await call(gateway, "GET", READ + "?commit=1")
    assert response.status_code == 200, response.text
    decision_id = response.headers["X-Mimamori-Decision"]
    context = AccessContext.model_validate(response.json()["context"])
    assert context.decision is not None
    assert (context.decision.method, context.decision.route, context.decision.person_ids) == (
        "GET",
        "/api/casework/v1/persons/{person_id}/observations",
        ["p-1"],
    )
    assert recorder.by_decision(decision_id) == []  # on record through casework's unit of work
    assert "x-mimamori-decision-recorded" not in response.headers  # between the service and the gateway only


async def test_a_read_the_service_did_not_record_is_recorded_by_the_gateway_with_the_same_event(
    make_gateway: Callable[..., Gateway], recorder: Any
) -> None:
    gateway = gateway_with(make_gateway)
    response = await call(gateway, "GET", READ)
    assert response.status_code == 200, response.text
    context = AccessContext.model_validate(response.json()["context"])
    [event] = recorder.by_decision(response.headers["X-Mimamori-Decision"])
    assert context.decision is not None
    assert (event.event_id, event.occurred_at, event.relayed_by) == (
        context.decision.event_id,
        context.decision.decided_at,
        "",
    )
    # What a service would commit from the context is the gateway's own event, field for field, but for who
    # relayed it (and the trace, which is the service's span of the same trace).
    relayed = carried_decision_event(context, relayed_by="casework")
    assert relayed.relayed_by == "casework"
    relayed.relayed_by = ""
    relayed.trace_id = event.trace_id
    assert relayed == event


async def test_an_answer_naming_another_decision_does_not_count(
    make_gateway: Callable[..., Gateway], recorder: Any
) -> None:
    gateway = gateway_with(make_gateway)
    response = await call(gateway, "GET", READ + "?forge=1")
    assert response.status_code == 200
    assert len(recorder.by_decision(response.headers["X-Mimamori-Decision"])) == 1
    assert "x-mimamori-decision-recorded" not in response.headers


async def test_a_read_is_refused_when_neither_the_service_nor_the_gateway_could_record_it(
    make_gateway: Callable[..., Gateway], recorder: Any
) -> None:
    gateway = gateway_with(make_gateway)
    recorder.failing = True
    refused = await call(gateway, "GET", READ)
    assert (refused.status_code, refused.json()["code"]) == (503, "audit_unavailable")
    assert "context" not in refused.json()  # nothing of the service's answer
    committed = await call(gateway, "GET", READ + "?commit=1")  # the service's record suffices
    assert committed.status_code == 200


async def test_a_write_is_recorded_before_the_service_acts_and_carries_no_decision(
    make_gateway: Callable[..., Gateway], recorder: Any
) -> None:
    gateway = gateway_with(make_gateway)
    response = await call(gateway, "POST", READ + "?commit=1")
    assert response.status_code == 200, response.text
    assert AccessContext.model_validate(response.json()["context"]).decision is None
    assert len(recorder.by_decision(response.headers["X-Mimamori-Decision"])) == 1
