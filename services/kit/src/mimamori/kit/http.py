"""The HTTP side of a service: problem details, a server span per request named by its route template."""

from __future__ import annotations

import inspect
from typing import Any

from fastapi import FastAPI
from opentelemetry.trace import SpanKind, Status, StatusCode
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mimamori.kit.auth import DECISION_RECORDED_RAW, ContextVerifier, RequestDecision, request_decision
from mimamori.kit.problems import install_problem_handlers
from mimamori.kit.telemetry import span_from


class TracingMiddleware:
    """A server span per request that continues the caller's trace. Only the route template is recorded:
    concrete paths and query strings may carry identifiers or names. It also carries the request's
    RequestDecision: when the access the service recorded committed the gateway's decision with it, the answer
    says so (`X-Mimamori-Decision-Recorded: <decision id>`) and the gateway need not record it again. The gateway
    itself, which makes decisions rather than carrying them, passes `carries_decisions=False`."""

    def __init__(self, app: ASGIApp, *, service: str, carries_decisions: bool = True) -> None:
        self.app = app
        self.service = service
        self.carries_decisions = carries_decisions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        carrier = {
            k.decode("latin-1"): v.decode("latin-1")
            for k, v in scope.get("headers", [])
            if k in (b"traceparent", b"tracestate")
        }
        method = scope.get("method", "")
        status: dict[str, int] = {}
        carried = RequestDecision() if self.carries_decisions else None
        reset = request_decision.set(carried)

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                if carried is not None and carried.recorded and carried.context is not None:
                    decision = carried.context.decision_id.encode("latin-1")
                    message = {**message, "headers": [*message.get("headers", ()), (DECISION_RECORDED_RAW, decision)]}
            await send(message)

        with span_from(carrier, f"{method} {self.service}", kind=SpanKind.SERVER) as span:
            span.set_attribute("http.request.method", method)
            span.set_attribute("mimamori.service", self.service)
            try:
                await self.app(scope, receive, send_wrapper)
            finally:
                route = scope.get("route")
                template = getattr(route, "path", None) or "unmatched"
                span.update_name(f"{method} {template}")
                span.set_attribute("http.route", template)
                code = status.get("code", 500)
                span.set_attribute("http.response.status_code", code)
                if code >= 500:
                    span.set_status(Status(StatusCode.ERROR))
                request_decision.reset(reset)


def bare_app(app_class: type[FastAPI] = FastAPI, **options: Any) -> FastAPI:
    """A FastAPI app (of `app_class`, a FastAPI subclass) without FastAPI's native telemetry (0.165+), which
    records concrete paths and query strings (identifiers, names in a search): TracingMiddleware records route
    templates instead."""
    if "telemetry" in inspect.signature(FastAPI.__init__).parameters:
        options.setdefault("telemetry", {"tracing": False, "metrics": False, "logs": False})
    return app_class(**options)


def create_service_app(*, name: str, title: str, description: str, verifier: ContextVerifier, **state: Any) -> FastAPI:
    """A service's FastAPI app with problem details, tracing and the context verifier on app.state."""
    app = bare_app(title=title, description=description, version="1.0.0", openapi_url="/openapi.json", docs_url=None)
    install_problem_handlers(app)
    app.state.context_verifier = verifier
    for key, value in state.items():
        setattr(app.state, key, value)
    app.add_middleware(TracingMiddleware, service=name)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
