"""The gateway's app: `/api/...` goes straight to the proxy (with its server span), everything else through
FastAPI. The proxy does every check itself (token, policy, purpose, rate limit, the recorded decision, the signed
context, problem details), so FastAPI's exception, routing and mount layers would only add cost on the hot path."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mimamori.kit.problems import Problem, problem_response

log = logging.getLogger("mimamori.gateway")

API_PREFIX = "/api/"


class GatewayApp(FastAPI):
    """FastAPI with a fast path in front for the proxied API (set `api` after construction)."""

    api: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        api = self.api
        if api is None or scope["type"] != "http" or not scope["path"].startswith(API_PREFIX):
            await super().__call__(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await api(scope, receive, tracked)
        except Exception as exc:
            # What FastAPI's error middleware would have done: a problem, never a stack trace, then re-raise for
            # the server's log. Only the exception's type is logged: its message may hold personal data.
            log.error("unhandled error on the API path", extra={"error": type(exc).__name__})
            if not started:
                await problem_response(Problem(status=500, code="internal_error"), scope["path"])(scope, receive, send)
            raise
