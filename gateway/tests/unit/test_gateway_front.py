"""The gateway's front: `/api/...` goes to the proxy without FastAPI's stack, the rest to FastAPI's routes, and an
unexpected error on the fast path is still a problem+json answer."""

from __future__ import annotations

import httpx
from starlette.types import Receive, Scope, Send

from mimamori.gateway.entrypoints.api.front import GatewayApp
from mimamori.kit.http import bare_app


def app_with(api_calls: list[str], *, fail: bool = False) -> GatewayApp:
    app = bare_app(GatewayApp)
    assert isinstance(app, GatewayApp)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    async def api(scope: Scope, receive: Receive, send: Send) -> None:
        api_calls.append(scope["path"])
        if fail:
            raise RuntimeError("a bug")
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"proxied"})

    app.api = api
    return app


async def test_api_paths_take_the_fast_path_and_other_paths_fastapi_routes() -> None:
    calls: list[str] = []
    transport = httpx.ASGITransport(app=app_with(calls))
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        assert (await client.get("/api/casework/v1/x")).text == "proxied"
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        assert (await client.get("/nothing")).status_code == 404
    assert calls == ["/api/casework/v1/x"]


async def test_an_unexpected_error_on_the_fast_path_is_a_problem_answer() -> None:
    transport = httpx.ASGITransport(app=app_with([], fail=True), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        response = await client.get("/api/casework/v1/x")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "internal_error"
    assert "a bug" not in response.text
