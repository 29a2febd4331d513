"""The gateway app in front of fake in-process services: decisions as HTTP problems, the signed context the
service verifies, what is forwarded and what is not, streaming, tracing, the dev issuer routes."""

from __future__ import annotations

import hashlib
import itertools
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from mimamori.gateway.bootstrap import Gateway, GatewayMisconfigured, bootstrap
from mimamori.gateway.config import GatewaySettings
from mimamori.kit.auth import CONTEXT_HEADER, AccessContext
from mimamori.kit.runtime.module import Platform
from mimamori.kit.telemetry import setup_tracing
from mimamori.kit.testing.spans import SpanCapture

OBSERVATIONS = "/api/casework/v1/persons/{person}/observations"


def client(gateway: Gateway) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway.app), base_url="http://gateway")


def auth(gateway: Gateway, username: str, purpose: str | None = "case_support", **extra: str) -> dict[str, str]:
    assert gateway.dev_issuer is not None
    headers = {"Authorization": f"Bearer {gateway.dev_issuer.mint(username)}", **extra}
    if purpose:
        headers["X-Purpose"] = purpose
    return headers


@pytest.fixture
def gateway(make_gateway: Callable[..., Gateway]) -> Gateway:
    return make_gateway(rate_limit_per_second=0)


async def test_allowed_request_reaches_the_service_with_a_context_it_verifies(gateway: Gateway, recorder: Any) -> None:
    person = str(uuid.uuid4())
    async with client(gateway) as http:
        response = await http.get(
            OBSERVATIONS.format(person=person) + "?limit=5&q=%E3%81%82",
            headers=auth(gateway, "caseworker1", **{"Accept-Language": "ja", "Cookie": "session=1"}),
        )
    assert response.status_code == 200, response.text
    seen = response.json()
    assert seen["path"] == f"/v1/persons/{person}/observations"
    assert seen["query"] == "limit=5&q=%E3%81%82"
    context = AccessContext.model_validate(seen["context"])
    assert gateway.dev_issuer is not None
    assert context.subject == gateway.dev_issuer.users["caseworker1"].subject
    assert (context.roles, context.org_unit, context.purpose) == (
        ["caseworker"],
        "kodomo-ikusei",
        "case_support",
    )
    assert context.decision_id == response.headers["X-Mimamori-Decision"]
    assert not context.break_glass
    forwarded = seen["headers"]
    assert forwarded["accept-language"] == "ja"
    assert {"authorization", "cookie", "x-purpose"}.isdisjoint(forwarded)
    [event] = recorder.by_decision(context.decision_id)
    assert (event.outcome, event.route, list(event.person_ids)) == (
        1,
        "/api/casework/v1/persons/{person_id}/observations",
        [person],
    )


async def test_a_context_smuggled_in_by_the_client_never_reaches_the_service(
    gateway: Gateway, make_platform: Callable[..., Platform]
) -> None:
    other = make_platform()  # a different signing key: a forger's
    assert other.context_signer is not None
    forged = other.context_signer.sign(
        AccessContext(subject="x", roles=["auditor"], purpose="audit_disclosure", decision_id="d", municipality="1")
    )
    headers = auth(gateway, "caseworker1") | {CONTEXT_HEADER: forged}
    async with client(gateway) as http:
        response = await http.get(OBSERVATIONS.format(person="p-1"), headers=headers)
    assert response.status_code == 200
    assert response.json()["headers"][CONTEXT_HEADER.lower()] != forged
    assert response.json()["context"]["roles"] == ["caseworker"]


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        (lambda g: {}, 401, "invalid_token"),
        (lambda g: {"Authorization": "Basic Y2FzZXdvcmtlcjE6ZGVtbw=="}, 401, "invalid_token"),
        (
            lambda g: {"Authorization": "Bearer not-a-token", "X-Purpose": "case_support"},
            401,
            "invalid_token",
        ),
        (lambda g: auth(g, "caseworker1", purpose=None), 400, "purpose_required"),
        (lambda g: auth(g, "caseworker1", purpose="curiosity"), 400, "purpose_unknown"),
        (lambda g: auth(g, "caseworker1", purpose="policy_statistics"), 403, "purpose_not_allowed"),
        (lambda g: auth(g, "analyst1", purpose="case_support"), 403, "purpose_not_allowed"),
        (lambda g: auth(g, "education_supervisor1"), 403, "role_not_allowed"),
        (lambda g: auth(g, "midwife1", **{"X-Break-Glass": "urgent"}), 403, "break_glass_not_allowed"),
    ],
)
async def test_refusals_are_problems_with_their_code(
    gateway: Gateway, recorder: Any, headers: Any, status: int, code: str
) -> None:
    async with client(gateway) as http:
        response = await http.get(OBSERVATIONS.format(person="p-1"), headers=headers(gateway))
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert (body["status"], body["code"]) == (status, code)
    assert body["title"]  # Japanese, for staff
    [event] = recorder.by_decision(response.headers["X-Mimamori-Decision"])
    assert event.outcome == 2 and event.reason.split(":")[0] == code and event.status_code == status
    if status == 401:
        challenge = response.headers["WWW-Authenticate"]
        assert challenge.startswith('Bearer realm="mimamori"')
        bearer = headers(gateway).get("Authorization", "").startswith("Bearer ")
        assert ('error="invalid_token"' in challenge) == bearer
        assert event.actor == "anonymous"


async def test_unknown_route_is_a_404_problem(gateway: Gateway) -> None:
    async with client(gateway) as http:
        for path in ("/api/casework/v1/secrets", "/api/nowhere/v1/x", "/api/identity/v1/persons/../../audit"):
            response = await http.get(path, headers=auth(gateway, "caseworker1"))
            assert (response.status_code, response.json()["code"]) == (404, "route_not_found"), path


async def test_expired_token_is_refused_with_a_challenge(gateway: Gateway) -> None:
    assert gateway.dev_issuer is not None
    token = gateway.dev_issuer.mint("caseworker1", exp=1)
    async with client(gateway) as http:
        response = await http.get(
            OBSERVATIONS.format(person="p-1"),
            headers={"Authorization": f"Bearer {token}", "X-Purpose": "case_support"},
        )
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


async def test_break_glass_is_marked_in_the_context_and_the_record(gateway: Gateway, recorder: Any) -> None:
    reason = "夜間の緊急通報 (児童相談所から)"
    from urllib.parse import quote

    async with client(gateway) as http:
        response = await http.get(
            OBSERVATIONS.format(person="p-1"),
            headers=auth(gateway, "team_leader1", **{"X-Break-Glass": quote(reason)}),
        )
    assert response.status_code == 200, response.text
    context = AccessContext.model_validate(response.json()["context"])
    assert (context.break_glass, context.break_glass_reason) == (True, reason)
    [event] = recorder.by_decision(context.decision_id)
    assert event.break_glass and event.reason == "break_glass"
    assert reason not in event.SerializeToString().decode("utf-8", errors="ignore")  # free text stays out


async def test_rate_limit_refuses_with_retry_after(make_gateway: Callable[..., Gateway], recorder: Any) -> None:
    gateway = make_gateway(rate_limit_per_second=0.5, rate_limit_burst=2)
    async with client(gateway) as http:
        codes = [
            (await http.get(OBSERVATIONS.format(person="p-1"), headers=auth(gateway, "caseworker1"))).status_code
            for _ in range(3)
        ]
        limited = await http.get(OBSERVATIONS.format(person="p-1"), headers=auth(gateway, "caseworker1"))
        other = await http.get(OBSERVATIONS.format(person="p-1"), headers=auth(gateway, "midwife1"))
    assert codes == [200, 200, 429]
    assert (limited.status_code, limited.json()["code"]) == (429, "rate_limited")
    assert int(limited.headers["Retry-After"]) >= 1
    assert other.status_code == 200
    assert sum(1 for e in recorder.events if e.reason == "rate_limited") == 2


async def test_upload_streams_through_to_the_service(gateway: Gateway) -> None:
    chunk = hashlib.sha256(b"seed").digest() * 2048  # 64 KiB
    expected = hashlib.sha256()

    async def upload() -> AsyncIterator[bytes]:
        for _ in range(64):  # 4 MiB
            expected.update(chunk)
            yield chunk

    headers = auth(gateway, "data_officer1", purpose="system_operation") | {"Content-Type": "text/csv"}
    async with client(gateway) as http:
        response = await http.post("/api/ingest/v1/files?file_name=jumin.csv", content=upload(), headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()["body"]
    assert body["size"] == 64 * len(chunk)
    assert body["sha256"] == expected.hexdigest()
    assert body["chunks"] > 1  # arrived piece by piece, not gathered by the gateway
    assert response.json()["headers"]["content-type"] == "text/csv"


async def test_streamed_response_and_its_headers_come_back(make_gateway: Callable[..., Gateway], policy: Any) -> None:
    import yaml

    from mimamori.gateway.adapters.policy_file import bundled_policy_text
    from mimamori.gateway.domain.policy import Policy

    data = yaml.safe_load(bundled_policy_text())
    data["routes"].append(
        {
            "service": "casework",
            "method": "GET",
            "path": "/api/casework/v1/stream/{n}",
            "purposes": ["case_support"],
            "personal": True,
        }
    )
    gateway = make_gateway(policy_=Policy.model_validate(data), rate_limit_per_second=0)
    async with client(gateway) as http:
        response = await http.get("/api/casework/v1/stream/50", headers=auth(gateway, "caseworker1"))
    assert response.status_code == 200
    assert response.text == "".join(f"part-{i};" for i in range(50))
    assert (response.headers["etag"], response.headers["x-custom"]) == ('"v1"', "kept")
    assert "transfer-encoding" not in response.headers or response.headers.get("content-length") is None


async def test_service_not_running_is_a_502_problem_after_an_allowed_decision(
    make_gateway: Callable[..., Gateway], recorder: Any
) -> None:
    gateway = make_gateway(
        services=("identity",), rate_limit_per_second=0, upstreams={"casework": "http://127.0.0.1:9"}
    )
    async with client(gateway) as http:
        response = await http.get(OBSERVATIONS.format(person="p-1"), headers=auth(gateway, "caseworker1"))
    assert (response.status_code, response.json()["code"]) == (502, "upstream_unavailable")
    [event] = recorder.by_decision(response.headers["X-Mimamori-Decision"])
    assert event.outcome == 1


async def test_no_answer_leaves_when_the_decision_cannot_be_recorded(gateway: Gateway, recorder: Any) -> None:
    recorder.failing = True
    async with client(gateway) as http:
        read = await http.get(OBSERVATIONS.format(person="p-1"), headers=auth(gateway, "caseworker1"))
        write = await http.post(OBSERVATIONS.format(person="p-1"), headers=auth(gateway, "caseworker1"), json={})
    assert (read.status_code, read.json()["code"]) == (503, "audit_unavailable")
    assert (write.status_code, write.json()["code"]) == (503, "audit_unavailable")
    assert "person_id" not in read.text


async def test_gateway_span_is_the_parent_of_the_service_span(gateway: Gateway) -> None:
    capture = SpanCapture()
    setup_tracing(service_name="mimamori-test", ratio=1.0, otlp_endpoint=None, extra_processors=[capture.processor])
    person = str(uuid.uuid4())
    async with client(gateway) as http:
        response = await http.get(OBSERVATIONS.format(person=person), headers=auth(gateway, "caseworker1"))
    assert response.status_code == 200
    spans = {s.attributes.get("mimamori.service"): s for s in capture.spans() if s.attributes}
    outer, inner = spans["gateway"], spans["casework"]
    assert outer.name == "GET /api/casework/v1/persons/{person_id}/observations"
    assert inner.parent is not None and outer.context is not None
    assert inner.parent.span_id == outer.context.span_id
    assert inner.context is not None and inner.context.trace_id == outer.context.trace_id
    assert all(person not in s.name and person not in str(dict(s.attributes or {})) for s in capture.spans())


async def test_dev_issuer_routes_serve_tokens_discovery_and_users(gateway: Gateway) -> None:
    async with client(gateway) as http:
        token = await http.post(
            "/dev-oidc/token", data={"grant_type": "password", "username": "auditor1", "password": "demo"}
        )
        wrong = await http.post(
            "/dev-oidc/token", data={"grant_type": "password", "username": "auditor1", "password": "x"}
        )
        discovery = (await http.get("/dev-oidc/.well-known/openid-configuration")).json()
        jwks = (await http.get("/dev-oidc/jwks")).json()
        users = (await http.get("/dev-oidc/users")).json()
        verify = await http.get(
            "/api/audit/v1/verify", headers={"Authorization": f"Bearer {token.json()['access_token']}"}
        )
    assert token.status_code == 200 and token.headers["cache-control"] == "no-store"
    assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_grant")
    assert discovery["issuer"] == "http://localhost:8000/dev-oidc"
    assert jwks["keys"][0]["kty"] == "RSA"
    assert {u["username"] for u in users["users"]} >= {"caseworker1", "auditor1", "data_officer1"}
    assert verify.status_code == 200, verify.text  # non-personal route: the auditor's only purpose is inferred
    assert verify.json()["context"]["purpose"] == "audit_disclosure"


async def test_health_and_readiness(gateway: Gateway, make_platform: Callable[..., Platform]) -> None:
    states = iter([None, False, True])
    state: dict[str, Any] = {}

    async def caught_up() -> bool:
        return bool(state["value"])

    def readiness() -> Any:
        value = next(states)
        state["value"] = value
        return None if value is None else caught_up

    gateway.app.state.readiness = readiness
    async with client(gateway) as http:
        assert (await http.get("/healthz")).json() == {"status": "ok"}
        starting, catching_up, ready = [await http.get("/readyz") for _ in range(3)]
    assert (starting.status_code, starting.json()["code"]) == (503, "starting")
    assert (catching_up.status_code, catching_up.json()["code"]) == (503, "catching_up")
    assert ready.status_code == 200


async def dev_oidc_mounted(gateway: Gateway) -> bool:
    async with client(gateway) as http:
        return (await http.get("/dev-oidc/jwks")).status_code == 200


async def test_dev_issuer_is_never_mounted_in_production(make_platform: Callable[..., Platform], recorder: Any) -> None:
    for embedded in (True, False):
        platform = make_platform(environment="production", embedded=embedded)
        with pytest.raises(GatewayMisconfigured, match="MIMAMORI_GATEWAY_ISSUER"):
            bootstrap(platform=platform, settings=GatewaySettings(), recorder=recorder)
        configured = bootstrap(
            platform=platform, settings=GatewaySettings(issuer="https://idp.example/realms/town"), recorder=recorder
        )
        assert configured.dev_issuer is None and not await dev_oidc_mounted(configured)


async def test_distributed_development_uses_the_dev_issuer_only_without_a_configured_one(
    make_platform: Callable[..., Platform], recorder: Any
) -> None:
    platform = make_platform(embedded=False)
    alone = bootstrap(platform=platform, settings=GatewaySettings(), recorder=recorder)
    assert alone.dev_issuer is not None and await dev_oidc_mounted(alone)
    configured = bootstrap(
        platform=platform, settings=GatewaySettings(issuer="https://idp.example/realms/town"), recorder=recorder
    )
    assert configured.dev_issuer is None and not await dev_oidc_mounted(configured)
    with pytest.raises(GatewayMisconfigured):
        bootstrap(platform=make_platform(), settings=GatewaySettings(dev_issuer=False), recorder=recorder)


async def test_the_role_purpose_route_matrix_through_the_gate(
    make_gateway: Callable[..., Gateway], recorder: Any
) -> None:
    """Every role x purpose x route through token validation and the gate (the policy tests check the
    expectation itself); each decision recorded exactly once."""
    from mimamori.gateway.service_layer.gate import AccessRequest, Refusal

    gateway = make_gateway(rate_limit_per_second=0)
    assert gateway.dev_issuer is not None
    policy = gateway.policy
    tokens = {u.role: gateway.dev_issuer.mint(u.username) for u in gateway.dev_issuer.users.values()}
    decisions = 0
    for route, role, purpose in itertools.product(policy.routes(), sorted(tokens), sorted(policy.purposes)):
        path = route.rule.path.replace("{", "x-").replace("}", "")
        request = AccessRequest(
            method=route.rule.method, path=path, bearer=tokens[role], purpose=purpose, break_glass_reason=None
        )
        expected = policy.decide(route=route, roles=frozenset({role}), purpose=purpose, break_glass=False)
        try:
            admission = await gateway.gate.admit(request)
            await admission.recorded()
            assert expected.allowed, (role, purpose, route.key)
            decision = admission.context.decision_id
            assert (admission.context.roles, admission.context.purpose) == ([role], purpose)
        except Refusal as refusal:
            assert refusal.code == expected.denial, (role, purpose, route.key)
            decision = refusal.decision_id
        [event] = recorder.by_decision(decision)
        assert event.route == route.rule.path and event.method == route.rule.method
        decisions += 1
    assert decisions == len(recorder.events) == len(policy.routes()) * len(tokens) * len(policy.purposes)
