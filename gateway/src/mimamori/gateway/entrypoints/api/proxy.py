"""`/api/<service>/<rest>`: decide, sign the context, forward to the service's `/<rest>`, stream back.

A plain ASGI app rather than a FastAPI route: the body streams through untouched and the hop stays cheap."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import quote, unquote

from starlette.types import Receive, Scope, Send

from mimamori.gateway.adapters.forwarders import Forwarder, UpstreamRequest, UpstreamUnavailable
from mimamori.gateway.service_layer.gate import AccessRequest, Admission, Gate, Refusal
from mimamori.kit.auth import CONTEXT_HEADER, DECISION_RECORDED_RAW, ContextSigner
from mimamori.kit.problems import Problem, problem_response
from mimamori.kit.telemetry import current_traceparent

log = logging.getLogger("mimamori.gateway")

DECISION_HEADER = "X-Mimamori-Decision"
PURPOSE_HEADER = "X-Purpose"
BREAK_GLASS_HEADER = "X-Break-Glass"
REALM = "mimamori"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Request headers passed to services. Everything else stays here: Authorization (services trust the signed
# context only), cookies, and any X-Mimamori-Context a client might try to smuggle in.
FORWARDED = frozenset(
    {
        b"accept",
        b"accept-encoding",
        b"accept-language",
        b"content-type",
        b"content-length",
        b"content-encoding",
        b"content-disposition",
        b"if-match",
        b"if-none-match",
        b"if-modified-since",
        b"if-unmodified-since",
        b"idempotency-key",
        b"x-request-id",
        b"user-agent",
    }
)

TITLES: dict[str, str] = {
    "invalid_token": "アクセストークンがないか、無効です",
    "route_not_found": "そのAPIはありません",
    "purpose_required": "利用目的 (X-Purpose) を指定してください",
    "purpose_unknown": "登録されていない利用目的です",
    "purpose_not_allowed": "この利用目的ではこの操作はできません",
    "role_not_allowed": "この役割ではこの操作はできません",
    "break_glass_not_allowed": "この役割・利用目的では緊急時アクセスはできません",
    "rate_limited": "リクエストが多すぎます。しばらく待ってから再度お試しください",
    "token_keys_unavailable": "認証基盤に接続できません",
    "audit_unavailable": "アクセス記録を保存できないため処理を中止しました",
    "upstream_unavailable": "連携先のサービスが応答しません",
}


@dataclass(frozen=True, slots=True)
class RouteTemplate:
    """Stands in scope["route"], so the server span is named by the policy's route template."""

    path: str


class ClientDisconnected(Exception):
    """The caller went away while its request body was being forwarded."""


def _text(value: bytes) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


async def _body(receive: Receive) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnected
        chunk = message.get("body", b"")
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return


class ApiProxy:
    """The gateway's hot path."""

    def __init__(self, *, gate: Gate, forwarder: Forwarder, signer: ContextSigner, prefix: str = "/api") -> None:
        self._gate = gate
        self._forwarder = forwarder
        self._signer = signer
        self._prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
            return
        path: str = scope["path"]
        method: str = scope["method"]
        bearer = purpose = reason = None
        has_body = False
        forwarded: list[tuple[str, str]] = []
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, credentials = value.decode("latin-1").partition(" ")
                if scheme.lower() == "bearer" and credentials.strip():
                    bearer = credentials.strip()
            elif name == b"x-purpose":
                purpose = value.decode("latin-1").strip()
            elif name == b"x-break-glass":
                reason = unquote(_text(value))  # non-ASCII reasons arrive percent-encoded
            elif name in FORWARDED:
                forwarded.append((name.decode("latin-1"), value.decode("latin-1")))
                if name == b"content-length":
                    has_body = value.strip() not in (b"", b"0")
            elif name == b"transfer-encoding":
                has_body = True
        request = AccessRequest(
            method="GET" if method == "HEAD" else method,
            path=path,
            bearer=bearer,
            purpose=purpose,
            break_glass_reason=reason,
        )
        try:
            admission = await self._gate.admit(request)
        except Refusal as refusal:
            scope["route"] = RouteTemplate(refusal.route)
            await self._refuse(scope, receive, send, refusal=refusal, had_token=bearer is not None)
            return
        scope["route"] = RouteTemplate(admission.route.rule.path)
        if method not in SAFE_METHODS:
            # A write waits for its decision to be on record before the service acts on it.
            try:
                await admission.recorded()
            except Refusal as refusal:
                await self._refuse(scope, receive, send, refusal=refusal, had_token=True)
                return
        await self._forward(
            scope,
            receive,
            send,
            admission=admission,
            headers=forwarded,
            has_body=has_body,
            carry=method in SAFE_METHODS,
        )

    async def _forward(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        *,
        admission: Admission,
        headers: list[tuple[str, str]],
        has_body: bool,
        carry: bool,
    ) -> None:
        service = admission.route.rule.service
        # A read hands its decision to the service, which commits it with its own record of the access.
        context = admission.carried() if carry else admission.context
        headers.append((CONTEXT_HEADER, self._signer.sign(context)))
        traceparent, tracestate = current_traceparent()
        if traceparent:
            headers.append(("traceparent", traceparent))
        if tracestate:
            headers.append(("tracestate", tracestate))
        upstream = UpstreamRequest(
            service=service,
            method=scope["method"],
            raw_path=self._service_path(scope, service),
            query_string=scope.get("query_string", b""),
            headers=headers,
            body=_body(receive) if has_body else None,
        )
        decision = admission.context.decision_id.encode()
        try:
            response = await self._forwarder.forward(upstream)
        except UpstreamUnavailable as exc:
            log.warning("upstream unavailable", extra={"service": service, "why": exc.why})
            try:
                await admission.recorded()
            except Refusal as refusal:
                await self._refuse(scope, receive, send, refusal=refusal, had_token=True)
                return
            await self._problem(scope, receive, send, code="upstream_unavailable", status=502, decision=decision)
            return
        except ClientDisconnected:
            admission.record()  # the decision is recorded all the same: its recording runs on by itself
            return
        try:
            headers_out = []
            service_recorded = False
            for name, value in response.headers:
                if name.lower() == DECISION_RECORDED_RAW:
                    service_recorded = carry and value == decision
                else:
                    headers_out.append((name, value))
            # Nothing of the answer leaves before the decision is on record: committed by the service with its
            # record of the read, or else recorded here now.
            if not service_recorded:
                try:
                    await admission.recorded()
                except Refusal as refusal:
                    await self._refuse(scope, receive, send, refusal=refusal, had_token=True)
                    return
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status,
                    "headers": [*headers_out, (b"x-mimamori-decision", decision)],
                }
            )
            async for chunk in response.body:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            await response.release()

    def _service_path(self, scope: Scope, service: str) -> bytes:
        """The raw path without /api/<service>, as the client encoded it."""
        prefix = f"{self._prefix}/{service}".encode()
        raw: bytes | None = scope.get("raw_path")
        if raw is not None and raw.startswith(prefix + b"/") and unquote(raw.decode("latin-1")) == scope["path"]:
            return raw[len(prefix) :]
        rest: str = scope["path"][len(prefix) :]
        return quote(rest, safe="/:@!$&'()*+,;=-._~").encode()

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, *, refusal: Refusal, had_token: bool) -> None:
        extra: list[tuple[str, str]] = []
        if refusal.status == 401:
            challenge = f'Bearer realm="{REALM}"' + (', error="invalid_token"' if had_token else "")
            extra.append(("WWW-Authenticate", challenge))
        if refusal.retry_after > 0:
            extra.append(("Retry-After", str(max(1, round(refusal.retry_after + 0.5)))))
        await self._problem(
            scope,
            receive,
            send,
            code=refusal.code,
            status=refusal.status,
            decision=refusal.decision_id.encode(),
            headers=extra,
        )

    async def _problem(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        *,
        code: str,
        status: int,
        decision: bytes,
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        response = problem_response(Problem(status=status, code=code, title=TITLES.get(code)), scope["path"])
        response.headers[DECISION_HEADER] = decision.decode()
        for name, value in headers or ():
            response.headers[name] = value
        await response(scope, receive, send)
