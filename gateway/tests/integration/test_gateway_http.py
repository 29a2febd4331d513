"""The distributed form over real sockets: the development issuer and a fake service served by uvicorn
on ephemeral ports; JWKS over HTTP (aiohttp), forwarding over HTTP (aiohttp), the gateway in front of both."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request, Response

from mimamori.gateway.adapters.dev_issuer import DevIssuer
from mimamori.gateway.adapters.forwarders import HttpForwarder, UpstreamRequest, UpstreamUnavailable
from mimamori.gateway.adapters.tokens import HttpJwksSource, InvalidToken, KeysUnavailable, TokenValidator
from mimamori.gateway.config import PERMITTED_ALGORITHMS, GatewaySettings
from mimamori.gateway.domain.policy import Policy
from mimamori.gateway.entrypoints.api import dev_oidc
from mimamori.gateway.module import GatewayModule
from mimamori.kit.auth import AccessContext, ContextSigner, ContextVerifier, generate_signing_key
from mimamori.kit.config import PlatformSettings
from mimamori.kit.http import bare_app
from mimamori.kit.messaging.inprocess import InProcessBus
from mimamori.kit.runtime.module import Platform

pytestmark = pytest.mark.integration


@contextlib.asynccontextmanager
async def serving(make_app: Callable[[str], FastAPI]) -> AsyncIterator[str]:
    """Serve the app that `make_app(base_url)` builds on an ephemeral port of 127.0.0.1."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(make_app(base), log_config=None, access_log=False, lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        for _ in range(500):
            if server.started:
                break
            await asyncio.sleep(0.01)
        assert server.started, "uvicorn did not start"
        yield base
    finally:
        server.should_exit = True
        await task
        sock.close()


def issuer_app(issuer: DevIssuer) -> FastAPI:
    app = bare_app()
    app.include_router(dev_oidc.router)
    app.state.dev_issuer = issuer
    return app


@pytest.fixture
def roles(policy: Policy) -> dict[str, str]:
    return {r.code: r.name for r in policy.roles}


@pytest.fixture
async def served_issuer(roles: dict[str, str]) -> AsyncIterator[DevIssuer]:
    issuers: list[DevIssuer] = []

    def make(base: str) -> FastAPI:
        issuers.append(DevIssuer(base_url=base, roles=roles))
        return issuer_app(issuers[0])

    async with serving(make):
        yield issuers[0]


def validator(issuer: str, source: HttpJwksSource) -> TokenValidator:
    return TokenValidator(
        source=source,
        issuer=issuer,
        audience="mimamori",
        algorithms=PERMITTED_ALGORITHMS,
        leeway=30,
        refresh_min_seconds=0,
    )


async def test_http_jwks_source_discovers_the_keys_and_follows_a_rotation(served_issuer: DevIssuer) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{served_issuer.issuer}/token",
            data={
                "grant_type": "password",
                "username": "caseworker1",
                "password": "demo",
                "client_id": "cli",
            },
        ) as response,
    ):
        assert response.status == 200
        token = (await response.json())["access_token"]
    source = HttpJwksSource(issuer=served_issuer.issuer)
    tokens = validator(served_issuer.issuer, source)
    try:
        principal = await tokens.validate(token)
        assert principal.subject == served_issuer.users["caseworker1"].subject
        assert tokens.fetches == 1
        served_issuer.rotate_key(keep_previous=False)
        assert await tokens.validate(served_issuer.mint("auditor1"))
        assert tokens.fetches == 2
        with pytest.raises(InvalidToken, match="unknown_key"):
            await tokens.validate(token)  # its key is gone from the JWKS
    finally:
        await tokens.close()


async def test_discovery_that_names_another_issuer_is_not_trusted(roles: dict[str, str]) -> None:
    impostor = DevIssuer(base_url="https://idp.example", roles=roles)
    async with serving(lambda base: issuer_app(impostor)) as base:
        source = HttpJwksSource(issuer=f"{base}/dev-oidc")
        try:
            with pytest.raises(KeysUnavailable, match="another issuer"):
                await source.fetch()
        finally:
            await source.close()


async def test_unreachable_issuer_is_keys_unavailable() -> None:
    source = HttpJwksSource(issuer="http://127.0.0.1:9/realms/town", timeout=2)
    try:
        with pytest.raises(KeysUnavailable):
            await source.fetch()
    finally:
        await source.close()


@pytest.fixture
def key_pair() -> tuple[ContextSigner, ContextVerifier]:
    key = generate_signing_key()
    return ContextSigner(key), ContextVerifier(key)


@pytest.fixture
async def served_service(
    service_app: Callable[[str, ContextVerifier], FastAPI], key_pair: tuple[ContextSigner, ContextVerifier]
) -> AsyncIterator[str]:
    async with serving(lambda base: service_app("casework", key_pair[1])) as base:
        yield base


async def read(response_body: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in response_body])


async def test_http_forwarder_streams_requests_and_responses(
    served_service: str, key_pair: tuple[ContextSigner, ContextVerifier]
) -> None:
    signer, _ = key_pair
    context = signer.sign(
        AccessContext(
            subject="s-1",
            roles=["data_officer"],
            purpose="system_operation",
            decision_id="d",
            municipality="1",
        )
    )
    forwarder = HttpForwarder(upstream={"casework": served_service}.get, pool_size=4)
    chunk = hashlib.sha256(b"x").digest() * 4096  # 128 KiB
    digest = hashlib.sha256()

    async def upload() -> AsyncIterator[bytes]:
        for _ in range(32):  # 4 MiB
            digest.update(chunk)
            yield chunk

    import json

    try:
        posted = await forwarder.forward(
            UpstreamRequest(
                service="casework",
                method="POST",
                raw_path=b"/v1/files",
                query_string=b"file_name=a%20b.csv",
                headers=[("content-type", "text/csv"), ("x-mimamori-context", context)],
                body=upload(),
            )
        )
        seen = json.loads(await read(posted.body))
        await posted.release()
        assert posted.status == 200
        assert (seen["path"], seen["query"]) == ("/v1/files", "file_name=a%20b.csv")
        assert seen["body"]["size"] == 32 * len(chunk) and seen["body"]["sha256"] == digest.hexdigest()
        assert seen["body"]["chunks"] > 1
        assert seen["context"]["subject"] == "s-1"
        digest = hashlib.sha256()
        sized = await forwarder.forward(
            UpstreamRequest(
                service="casework",
                method="POST",
                raw_path=b"/v1/files",
                query_string=b"",
                headers=[("content-length", str(32 * len(chunk))), ("x-mimamori-context", context)],
                body=upload(),
            )
        )
        seen = json.loads(await read(sized.body))
        await sized.release()
        assert (seen["body"]["size"], seen["headers"]["content-length"]) == (
            32 * len(chunk),
            str(32 * len(chunk)),
        )
        assert "transfer-encoding" not in seen["headers"]
        streamed = await forwarder.forward(
            UpstreamRequest(
                service="casework",
                method="GET",
                raw_path=b"/v1/stream/200",
                query_string=b"",
                headers=[("x-mimamori-context", context)],
                body=None,
            )
        )
        parts = [part async for part in streamed.body]
        await streamed.release()
        assert b"".join(parts) == b"".join(f"part-{i};".encode() for i in range(200))
        headers = {k.decode().lower(): v.decode() for k, v in streamed.headers}
        assert headers["etag"] == '"v1"' and "transfer-encoding" not in headers
    finally:
        await forwarder.close()


def cookie_app() -> FastAPI:
    app = bare_app()

    @app.get("/v1/set")
    async def set_cookie() -> Response:
        response = Response("set")
        response.set_cookie("session", "caller-a")
        return response

    @app.get("/v1/echo")
    async def echo(request: Request) -> dict[str, str | None]:
        return {"cookie": request.headers.get("cookie")}

    return app


async def test_http_forwarder_never_carries_a_cookie_one_caller_got_to_the_next() -> None:
    async with serving(lambda base: cookie_app()) as base:
        # By host name, as in a deployment (a cookie jar keeps no cookie of a bare IP address anyway).
        by_name = base.replace("127.0.0.1", "localhost")
        forwarder = HttpForwarder(upstream={"casework": by_name}.get, pool_size=1)

        async def get(path: bytes) -> tuple[dict[str, str], bytes]:
            request = UpstreamRequest(
                service="casework", method="GET", raw_path=path, query_string=b"", headers=[], body=None
            )
            response = await forwarder.forward(request)
            body = await read(response.body)
            await response.release()
            return {k.decode().lower(): v.decode() for k, v in response.headers}, body

        try:
            headers, _ = await get(b"/v1/set")
            assert "session=caller-a" in headers["set-cookie"]  # passed back to the caller it was meant for
            _, echoed = await get(b"/v1/echo")
        finally:
            await forwarder.close()
    assert json.loads(echoed) == {"cookie": None}


async def test_http_forwarder_reports_an_unreachable_service() -> None:
    forwarder = HttpForwarder(upstream={"casework": "http://127.0.0.1:9"}.get, connect_timeout=2)
    try:
        with pytest.raises(UpstreamUnavailable):
            await forwarder.forward(
                UpstreamRequest(
                    service="casework",
                    method="GET",
                    raw_path=b"/v1/x",
                    query_string=b"",
                    headers=[],
                    body=None,
                )
            )
        with pytest.raises(UpstreamUnavailable, match="no upstream"):
            await forwarder.forward(
                UpstreamRequest(
                    service="nowhere",
                    method="GET",
                    raw_path=b"/v1/x",
                    query_string=b"",
                    headers=[],
                    body=None,
                )
            )
    finally:
        await forwarder.close()


async def test_distributed_gateway_trusts_the_issuer_and_forwards_over_http(
    tmp_path: Path,
    served_issuer: DevIssuer,
    served_service: str,
    key_pair: tuple[ContextSigner, ContextVerifier],
    unreachable: dict[str, str],
) -> None:
    signer, verifier = key_pair
    platform = Platform(
        settings=PlatformSettings(data_dir=tmp_path, outbox_poll_seconds=0.2),
        bus=InProcessBus(),
        context_verifier=verifier,
        context_signer=signer,
        embedded=False,
        targets=("gateway",),
    )
    module = GatewayModule(
        settings=GatewaySettings(
            issuer=served_issuer.issuer,
            upstreams=unreachable | {"casework": served_service},
            rate_limit_per_second=0,
        )
    )
    await module.start(platform)
    await platform.bus.start()
    try:
        assert module.gateway is not None and module.gateway.dev_issuer is None
        token = served_issuer.mint("childcare_worker1")
        headers = {"Authorization": f"Bearer {token}", "X-Purpose": "case_support"}
        app = module.app
        assert app is not None
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as http:
            response = await http.get("/api/casework/v1/persons/p-7/observations?limit=3", headers=headers)
            missing = await http.get("/api/risk/v1/children/p-7", headers=headers)
            document = (await http.get("/openapi.json")).json()
        assert response.status_code == 200, response.text
        seen = response.json()
        assert (seen["path"], seen["query"]) == ("/v1/persons/p-7/observations", "limit=3")
        assert seen["context"]["subject"] == served_issuer.users["childcare_worker1"].subject
        assert seen["context"]["decision_id"] == response.headers["X-Mimamori-Decision"]
        assert (missing.status_code, missing.json()["code"]) == (502, "upstream_unavailable")
        observations = document["paths"]["/api/casework/v1/persons/{person_id}/observations"]["get"]
        assert "x-mimamori-undocumented" not in observations
        assert document["x-mimamori-services"] == ["casework"]
        assert document["components"]["securitySchemes"]["oidc"]["openIdConnectUrl"].startswith(served_issuer.issuer)
    finally:
        await platform.bus.stop()
        await module.stop()
