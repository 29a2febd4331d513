"""`/openapi.json`: one document for the whole API, merged from the services' own documents.

Only routes in the policy appear (nothing else is reachable), under /api/<service>; components are merged
without collisions; every operation gets the bearer scheme, and personal routes the X-Purpose header."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request

from mimamori.gateway.adapters.forwarders import Forwarder, UpstreamRequest, UpstreamUnavailable
from mimamori.gateway.domain.policy import CompiledRoute, PolicyIndex

log = logging.getLogger("mimamori.gateway")

router = APIRouter()
REF = "#/components/"
FETCH_TIMEOUT = 5.0
_PARAMETER_NAME = re.compile(r"\{[^}/]+\}")

DocumentSource = Callable[[str], Awaitable[dict[str, Any] | None]]


def _shape(path: str) -> str:
    return _PARAMETER_NAME.sub("{}", path)


def _refs(node: Any) -> set[str]:
    """Every local component reference inside a JSON value."""
    found: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str) and ref.startswith(REF):
                found.add(ref)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _rewrite(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        return {
            k: (renames.get(v, v) if k == "$ref" and isinstance(v, str) else _rewrite(v, renames))
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rewrite(v, renames) for v in node]
    return node


def _merge_components(merged: dict[str, dict[str, Any]], service: str, components: dict[str, Any]) -> dict[str, str]:
    """Add one service's components; a name already taken by a different definition is renamed
    `<service>_<name>` (and so is every component that refers to a renamed one). Returns the $ref renames."""
    own = {
        f"{REF}{kind}/{name}": (kind, name, definition)
        for kind, entries in components.items()
        if isinstance(entries, dict)
        for name, definition in entries.items()
    }
    clashing = {
        ref for ref, (kind, name, definition) in own.items() if merged.get(kind, {}).get(name, definition) != definition
    }
    changed = True
    while changed:
        changed = False
        for ref, (_, _, definition) in own.items():
            if ref not in clashing and _refs(definition) & clashing:
                clashing.add(ref)
                changed = True
    renames: dict[str, str] = {}
    for ref in clashing:
        kind, name, _ = own[ref]
        candidate, n = f"{service}_{name}", 2
        while candidate in merged.get(kind, {}):
            candidate, n = f"{service}_{name}_{n}", n + 1
        renames[ref] = f"{REF}{kind}/{candidate}"
    for ref, (kind, _, definition) in own.items():
        target = renames.get(ref, ref)[len(REF) + len(kind) + 1 :]
        merged.setdefault(kind, {})[target] = _rewrite(definition, renames)
    return renames


def _operation(
    route: CompiledRoute, found: dict[str, Any] | None, *, policy: PolicyIndex, renames: dict[str, str]
) -> dict[str, Any]:
    rule = route.rule
    if found is None:
        operation: dict[str, Any] = {
            "summary": rule.summary,
            "description": "The service does not describe this operation (not running, or not yet built).",
            "responses": {"default": {"description": "see the service"}},
            "x-mimamori-undocumented": True,
        }
    else:
        operation = _rewrite(copy.deepcopy(found), renames)
        if "operationId" in operation:
            operation["operationId"] = f"{rule.service}_{operation['operationId']}"
    operation.setdefault("tags", [rule.service])
    parameters = [p for p in operation.get("parameters", []) if p.get("name") not in ("X-Purpose", "X-Break-Glass")]
    parameters.append({"$ref": f"{REF}parameters/{'XPurpose' if rule.personal else 'XPurposeOptional'}"})
    if route.purposes & policy.break_glass_purposes:
        parameters.append({"$ref": f"{REF}parameters/XBreakGlass"})
    operation["parameters"] = parameters
    operation["security"] = [{"bearer": []}]
    responses = operation.setdefault("responses", {})
    for status in ("400", "401", "403", "429", "502"):
        responses.setdefault(status, {"$ref": f"{REF}responses/Problem"})
    operation["x-mimamori-policy"] = {
        "purposes": list(rule.purposes),
        "roles": list(rule.roles) if rule.roles is not None else None,
        "personal": rule.personal,
    }
    return operation


def combine(documents: dict[str, dict[str, Any]], *, policy: PolicyIndex, issuer: str | None) -> dict[str, Any]:
    """The combined document of the routed API."""
    purposes = policy.policy.purposes
    purpose_list = "、".join(f"`{p.code}` {p.name}" for p in purposes)
    components: dict[str, dict[str, Any]] = {
        "securitySchemes": {
            "bearer": {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": "OIDC access token of the town's identity provider",
            }
        },
        "parameters": {
            "XPurpose": {
                "name": "X-Purpose",
                "in": "header",
                "required": True,
                "description": f"利用目的 (purpose of use): {purpose_list}",
                "schema": {"type": "string", "enum": [p.code for p in purposes]},
            },
            "XPurposeOptional": {
                "name": "X-Purpose",
                "in": "header",
                "required": False,
                "description": "利用目的; may be omitted when the caller's role admits only one purpose here",
                "schema": {"type": "string", "enum": [p.code for p in purposes]},
            },
            "XBreakGlass": {
                "name": "X-Break-Glass",
                "in": "header",
                "required": False,
                "description": "緊急時アクセスの理由 (percent-encoded UTF-8); "
                f"roles {', '.join(policy.policy.break_glass.roles)} only; audited",
                "schema": {"type": "string", "maxLength": policy.policy.break_glass.max_reason_length},
            },
        },
        "responses": {
            "Problem": {
                "description": "RFC 9457 problem details",
                "content": {"application/problem+json": {"schema": {"$ref": f"{REF}schemas/Problem"}}},
            }
        },
        "schemas": {
            "Problem": {
                "type": "object",
                "properties": {
                    "type": {"type": "string"},
                    "title": {"type": "string"},
                    "status": {"type": "integer"},
                    "code": {"type": "string"},
                    "detail": {"type": "string"},
                    "instance": {"type": "string"},
                },
                "required": ["type", "title", "status", "code"],
            }
        },
    }
    if issuer:
        components["securitySchemes"]["oidc"] = {
            "type": "openIdConnect",
            "openIdConnectUrl": f"{issuer}/.well-known/openid-configuration",
        }
    renames: dict[str, dict[str, str]] = {}
    for service in sorted(documents):
        renames[service] = _merge_components(components, service, documents[service].get("components", {}))
    paths: dict[str, dict[str, Any]] = {}
    for route in policy.routes():
        rule = route.rule
        document = documents.get(rule.service, {})
        rest = _shape(rule.path[len(f"/api/{rule.service}") :])
        found = None
        for path, item in document.get("paths", {}).items():
            if _shape(path) == rest and isinstance(item, dict):
                found = item.get(rule.method.lower())
                break
        operation = _operation(route, found, policy=policy, renames=renames.get(rule.service, {}))
        paths.setdefault(rule.path, {})[rule.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Mimamori API",
            "version": policy.version,
            "description": "こども見守りシステム: every request carries an OIDC access token and, on routes "
            "with personal data, a declared purpose of use (X-Purpose).",
            "x-policy-version": policy.version,
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": components,
        "x-mimamori-services": sorted(documents),
    }


def forwarded_documents(forwarder: Forwarder) -> DocumentSource:
    """Each service's `/openapi.json` through the forwarder: in-process apps or upstream URLs alike."""

    async def fetch(service: str) -> dict[str, Any] | None:
        request = UpstreamRequest(
            service=service,
            method="GET",
            raw_path=b"/openapi.json",
            query_string=b"",
            headers=[("accept", "application/json")],
            body=None,
        )

        async def read() -> tuple[int, bytes]:
            response = await forwarder.forward(request)
            try:
                return response.status, b"".join([chunk async for chunk in response.body])
            finally:
                await response.release()

        try:
            status, body = await asyncio.wait_for(read(), FETCH_TIMEOUT)
        except (UpstreamUnavailable, TimeoutError):
            log.warning("service description unavailable", extra={"service": service})
            return None
        if status != 200:
            return None
        try:
            document = json.loads(body)
        except ValueError:
            return None
        return document if isinstance(document, dict) else None

    return fetch


class CombinedOpenApi:
    """The combined document, rebuilt at most every `ttl` seconds (services may come up after the gateway)."""

    def __init__(self, *, policy: PolicyIndex, source: DocumentSource, issuer: str | None, ttl: float) -> None:
        self._policy = policy
        self._source = source
        self._issuer = issuer
        self._ttl = ttl
        self._document: dict[str, Any] | None = None
        self._built_at = 0.0
        self._lock = asyncio.Lock()

    async def document(self) -> dict[str, Any]:
        """The current combined document."""
        async with self._lock:
            fresh = time.monotonic() - self._built_at < self._ttl
            if self._document is None or not fresh:
                services = sorted({r.rule.service for r in self._policy.routes()})
                fetched = await asyncio.gather(*(self._source(s) for s in services))
                documents = {s: d for s, d in zip(services, fetched, strict=True) if d is not None}
                self._document = combine(documents, policy=self._policy, issuer=self._issuer)
                # A service that did not answer is asked again on the next request.
                self._built_at = time.monotonic() if len(documents) == len(services) else 0.0
            return self._document


@router.get("/openapi.json", include_in_schema=False)
async def openapi(request: Request) -> dict[str, Any]:
    """The combined OpenAPI document."""
    combined: CombinedOpenApi = request.app.state.openapi
    return await combined.document()
