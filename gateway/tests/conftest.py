"""Fixtures of the gateway's tests: the bundled policy, the dev issuer, fake services, a wired gateway."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse

from mimamori.events.audit.v1 import access_pb2
from mimamori.gateway.adapters.dev_issuer import DevIssuer
from mimamori.gateway.adapters.policy_file import load_policy
from mimamori.gateway.bootstrap import Gateway, bootstrap
from mimamori.gateway.config import GatewaySettings
from mimamori.gateway.domain.policy import Policy
from mimamori.kit.auth import ContextDep, ContextSigner, ContextVerifier, generate_signing_key
from mimamori.kit.config import PlatformSettings
from mimamori.kit.http import create_service_app
from mimamori.kit.messaging.inprocess import InProcessBus
from mimamori.kit.runtime.module import Platform

SERVICES = ("ingest", "identity", "risk", "casework", "audit")


class FakeRecorder:
    """Keeps decisions in memory; can be told to fail, as a database that is down would."""

    def __init__(self) -> None:
        self.events: list[access_pb2.AccessRecorded] = []
        self.failing = False

    async def record(self, event: access_pb2.AccessRecorded) -> None:
        if self.failing:
            raise ConnectionError("database down")
        self.events.append(event)

    async def close(self) -> None:
        return None

    def by_decision(self, decision_id: str) -> list[access_pb2.AccessRecorded]:
        return [e for e in self.events if e.decision_id == decision_id]


def fake_service(name: str, verifier: ContextVerifier) -> FastAPI:
    """A service app that answers every routed path with what it received, after verifying the context."""
    app = create_service_app(name=name, title=f"fake {name}", description="test double", verifier=verifier)

    async def echo(request: Request, context: ContextDep) -> dict[str, Any]:
        digest = hashlib.sha256()
        size = chunks = 0
        async for chunk in request.stream():
            if chunk:
                digest.update(chunk)
                size += len(chunk)
                chunks += 1
        return {
            "service": name,
            "path": request.url.path,
            "query": request.url.query,
            "headers": {k.lower(): v for k, v in request.headers.items()},
            "context": context.model_dump(),
            "body": {"size": size, "sha256": digest.hexdigest(), "chunks": chunks},
        }

    for path in (
        "/v1/persons/{person_id}/observations",
        "/v1/persons",
        "/v1/persons/{person_id}",
        "/v1/files",
        "/v1/load-runs",
        "/v1/load-runs/{run_id}",
        "/v1/load-runs/{run_id}/quarantine",
        "/v1/children/{person_id}",
        "/v1/verify",
        "/v1/entries",
        "/v1/actors/{actor}/accesses",
        "/v1/persons/{person_id}/accesses",
        "/v1/checkpoints",
    ):
        for method in ("GET", "POST"):
            app.add_api_route(path, echo, methods=[method], operation_id=f"{method}{path}")

    @app.get("/v1/stream/{n}")
    async def stream(n: int, context: ContextDep) -> StreamingResponse:
        async def parts() -> AsyncIterator[bytes]:
            for i in range(n):
                yield f"part-{i};".encode()

        return StreamingResponse(parts(), media_type="text/plain", headers={"ETag": '"v1"', "X-Custom": "kept"})

    return app


@pytest.fixture
def service_app() -> Callable[[str, ContextVerifier], FastAPI]:
    """The fake service factory, for tests that wire their own platform."""
    return fake_service


@pytest.fixture
def unreachable() -> dict[str, str]:
    """Upstream URLs where nothing listens."""
    return dict(UNREACHABLE)


@pytest.fixture(scope="session")
def policy() -> Policy:
    return load_policy()


@pytest.fixture(scope="session")
def dev_issuer(policy: Policy) -> DevIssuer:
    """One issuer for the session (RSA keys take a while); tests that rotate keys make their own."""
    return DevIssuer(base_url="http://localhost:8000", roles={r.code: r.name for r in policy.roles})


@pytest.fixture
def make_platform(tmp_path: Path) -> Callable[..., Platform]:
    def make(*, embedded: bool = True, environment: str = "development", **settings: Any) -> Platform:
        key = generate_signing_key()
        if environment == "production":
            settings |= {
                "database_url": "postgresql+asyncpg://unused/unused",
                "kafka_bootstrap": "unused:9092",
                "context_public_key": "unused",
            }
        return Platform(
            settings=PlatformSettings(data_dir=tmp_path, environment=environment, **settings),  # type: ignore[arg-type]
            bus=InProcessBus(),
            context_verifier=ContextVerifier(key),
            context_signer=ContextSigner(key),
            embedded=embedded,
            targets=("all",) if embedded else ("gateway",),
        )

    return make


@pytest.fixture
def recorder() -> FakeRecorder:
    return FakeRecorder()


# Port 9 (discard) is closed here: a service that is not in the process is unreachable, never some other
# process that happens to listen on a default port.
UNREACHABLE = {name: "http://127.0.0.1:9" for name in SERVICES}


@pytest.fixture
async def make_gateway(
    make_platform: Callable[..., Platform], recorder: FakeRecorder, policy: Policy
) -> AsyncIterator[Callable[..., Gateway]]:
    """A wired gateway in front of fake services, recording into memory (no database)."""
    made: list[Gateway] = []

    def make(
        *,
        services: tuple[str, ...] = SERVICES,
        policy_: Policy | None = None,
        apps: dict[str, Callable[[ContextVerifier], FastAPI]] | None = None,
        **settings: Any,
    ) -> Gateway:
        platform = make_platform()
        for name in services:
            platform.apps[name] = fake_service(name, platform.context_verifier)
        for name, app in (apps or {}).items():
            platform.apps[name] = app(platform.context_verifier)
        settings["upstreams"] = UNREACHABLE | settings.get("upstreams", {})
        gateway = bootstrap(
            platform=platform,
            settings=GatewaySettings(**settings),
            recorder=recorder,
            policy=policy_ or policy,
        )
        made.append(gateway)
        return gateway

    yield make
    for gateway in made:
        await gateway.close()
