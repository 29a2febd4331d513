"""Every decision, allowed or denied, is exactly one AccessRecorded: in the gateway's outbox (SQLite and
PostgreSQL) and, once relayed, on the bus. And the gateway starts through the real runtime."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from mimamori.contracts import decode
from mimamori.events.audit.v1 import access_pb2
from mimamori.gateway.config import GatewaySettings
from mimamori.gateway.module import GatewayModule
from mimamori.kit.auth import ContextSigner, ContextVerifier, generate_signing_key
from mimamori.kit.config import PlatformSettings
from mimamori.kit.messaging.inprocess import InProcessBus
from mimamori.kit.runtime.module import Platform
from mimamori.kit.runtime.process import running

pytestmark = pytest.mark.integration

OBSERVATIONS = "/api/casework/v1/persons/{person_id}/observations"


@pytest.fixture(params=["sqlite", "postgresql"])
async def gateway(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    service_app: Callable[[str, ContextVerifier], FastAPI],
    unreachable: dict[str, str],
) -> AsyncIterator[tuple[GatewayModule, Platform]]:
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    key = generate_signing_key()
    platform = Platform(
        settings=PlatformSettings(data_dir=tmp_path, database_url=url, outbox_poll_seconds=0.2),
        bus=InProcessBus(),
        context_verifier=ContextVerifier(key),
        context_signer=ContextSigner(key),
        embedded=True,
        targets=("all",),
    )
    platform.apps["casework"] = service_app("casework", platform.context_verifier)
    platform.apps["ingest"] = service_app("ingest", platform.context_verifier)
    module = GatewayModule(
        settings=GatewaySettings(rate_limit_per_second=0.001, rate_limit_burst=4, upstreams=unreachable)
    )
    await module.start(platform)
    await platform.bus.start()
    try:
        yield module, platform
    finally:
        await platform.bus.stop()
        await module.stop()


async def relayed(module: GatewayModule) -> None:
    deadline = time.monotonic() + 10.0
    while await module.backlog():
        assert time.monotonic() < deadline, "the outbox was not relayed"
        await asyncio.sleep(0.05)


async def test_every_decision_is_exactly_one_access_recorded(gateway: tuple[GatewayModule, Platform]) -> None:
    module, platform = gateway
    assert module.gateway is not None and module.gateway.dev_issuer is not None
    issuer = module.gateway.dev_issuer
    person = str(uuid.uuid4())
    observations = OBSERVATIONS.format(person_id=person)

    def bearer(username: str, purpose: str | None = "case_support", **claims: Any) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {issuer.mint(username, **claims)}"}
        return headers | ({"X-Purpose": purpose} if purpose else {})

    # (method, path, headers) -> expected (status, outcome, reason prefix, actor username or None, purpose)
    cases: list[tuple[str, str, dict[str, str], tuple[int, int, str, str | None, str]]] = [
        ("GET", observations, bearer("caseworker1"), (200, 1, "", "caseworker1", "case_support")),
        ("POST", observations, bearer("caseworker1"), (200, 1, "", "caseworker1", "case_support")),
        ("GET", observations, {"X-Purpose": "case_support"}, (401, 2, "invalid_token:missing", None, "")),
        ("GET", observations, bearer("caseworker1", exp=1), (401, 2, "invalid_token:expired", None, "")),
        (
            "GET",
            "/api/casework/v1/secrets",
            bearer("caseworker1"),
            (404, 2, "route_not_found", "caseworker1", ""),
        ),
        ("GET", observations, bearer("caseworker1", None), (400, 2, "purpose_required", "caseworker1", "")),
        ("GET", observations, bearer("midwife1", "gossip"), (400, 2, "purpose_unknown", "midwife1", "")),
        (
            "GET",
            observations,
            bearer("analyst1"),
            (403, 2, "purpose_not_allowed", "analyst1", "case_support"),
        ),
        (
            "GET",
            observations,
            bearer("education_supervisor1"),
            (403, 2, "role_not_allowed", "education_supervisor1", "case_support"),
        ),
        (
            "GET",
            observations,
            bearer("midwife1") | {"X-Break-Glass": "urgent"},
            (403, 2, "break_glass_not_allowed", "midwife1", "case_support"),
        ),
        (
            "GET",
            observations,
            bearer("team_leader1") | {"X-Break-Glass": quote("緊急の通告")},
            (200, 1, "break_glass", "team_leader1", "case_support"),
        ),
        (
            "GET",
            f"/api/risk/v1/children/{person}",
            bearer("public_health_nurse1", "early_detection"),
            (502, 1, "", "public_health_nurse1", "early_detection"),
        ),
    ]
    runs = "/api/ingest/v1/load-runs"
    cases += [("GET", runs, bearer("data_officer1", None), (200, 1, "", "data_officer1", "system_operation"))] * 4
    cases += [("GET", runs, bearer("data_officer1", None), (429, 2, "rate_limited", "data_officer1", ""))]

    decisions: list[tuple[str, tuple[int, int, str, str | None, str], str]] = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=module.app), base_url="http://gw") as http:  # type: ignore[arg-type]
        for method, path, headers, expected in cases:
            response = await http.request(method, path, headers=headers, json={} if method == "POST" else None)
            assert response.status_code == expected[0], (path, response.text)
            decisions.append((response.headers["X-Mimamori-Decision"], expected, path))

    await relayed(module)
    assert module.sessions is not None
    async with module.sessions() as session:
        rows = (await session.execute(select(module.outbox_table))).all()
    assert len(rows) == len(cases)  # nothing more, nothing less
    assert all(row.sent_at is not None for row in rows)
    assert isinstance(platform.bus, InProcessBus)
    on_bus = platform.bus.messages("audit.access.v1")
    assert len(on_bus) == len(cases)
    templates = {r.path for r in module.gateway.policy.policy.routes} | {"unmatched"}
    events = [decode(e.type, e.payload) for e in on_bus]
    stored = [decode(row.type, row.payload) for row in rows]
    for decision_id, (status, outcome, reason, username, purpose), path in decisions:
        [event] = [e for e in events if isinstance(e, access_pb2.AccessRecorded) and e.decision_id == decision_id]
        assert [s.decision_id for s in stored].count(decision_id) == 1
        actor = issuer.users[username].subject if username else "anonymous"
        assert (event.outcome, event.actor, event.purpose, event.recorder) == (
            outcome,
            actor,
            purpose,
            "gateway",
        )
        assert event.reason.startswith(reason) and (reason or not event.reason)
        assert event.status_code == (0 if outcome == 1 else status)
        assert event.break_glass == (reason == "break_glass")
        assert event.municipality_code == "143669"
        assert event.action == "decide"
        assert person not in event.route and event.route in templates
        if person in path:
            assert list(event.person_ids) == [person]
    envelope = next(e for e in on_bus if e.actor == "anonymous")
    assert (envelope.topic, envelope.source, envelope.key) == ("audit.access.v1", "gateway", "anonymous")


async def test_gateway_alone_starts_through_the_runtime_and_reports_ready(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unreachable: dict[str, str]
) -> None:
    """`mimamori run --target gateway`: distributed form, a configured issuer, no dev issuer."""
    import json

    monkeypatch.setenv("MIMAMORI_GATEWAY_ISSUER", "http://127.0.0.1:9/realms/town")
    monkeypatch.setenv("MIMAMORI_GATEWAY_UPSTREAMS", json.dumps(unreachable))
    settings = PlatformSettings(data_dir=tmp_path, outbox_poll_seconds=0.2)
    async with running(targets=["gateway"], settings=settings, bus=InProcessBus()) as runtime:
        gateway = runtime.module("gateway")
        assert isinstance(gateway, GatewayModule) and gateway.gateway is not None
        assert gateway.gateway.dev_issuer is None
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway.app), base_url="http://gw") as http:  # type: ignore[arg-type]
            ready = await http.get("/readyz")
            dev = await http.post("/dev-oidc/token", data={"grant_type": "password", "username": "x", "password": "y"})
            down = await http.get("/api/identity/v1/persons", headers={"Authorization": "Bearer a.b.c"})
        assert ready.status_code == 200, ready.text
        assert dev.status_code == 404
        assert (down.status_code, down.json()["code"]) == (401, "invalid_token")
        assert "Tokens: from http://127.0.0.1:9/realms/town" in gateway.banner("http://localhost:8000")
