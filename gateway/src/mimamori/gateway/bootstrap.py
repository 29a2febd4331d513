"""The one place where the gateway is wired together."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import FastAPI

from mimamori.gateway.adapters.dev_issuer import DevIssuer
from mimamori.gateway.adapters.forwarders import (
    Forwarder,
    HttpForwarder,
    InProcessForwarder,
    RoutingForwarder,
)
from mimamori.gateway.adapters.policy_file import load_policy
from mimamori.gateway.adapters.tokens import HttpJwksSource, InProcessJwksSource, JwksSource, TokenValidator
from mimamori.gateway.config import GatewaySettings
from mimamori.gateway.domain.policy import Policy, PolicyIndex
from mimamori.gateway.domain.rate_limit import RateLimiter
from mimamori.gateway.entrypoints.api import dev_oidc, health, openapi
from mimamori.gateway.entrypoints.api.front import GatewayApp
from mimamori.gateway.entrypoints.api.openapi import CombinedOpenApi, forwarded_documents
from mimamori.gateway.entrypoints.api.proxy import ApiProxy
from mimamori.gateway.service_layer.decisions import BrokerPublish, DecisionRecorder, Recorder
from mimamori.gateway.service_layer.gate import Gate
from mimamori.kit.http import TracingMiddleware, bare_app
from mimamori.kit.messaging.kafka import KafkaBus
from mimamori.kit.problems import install_problem_handlers
from mimamori.kit.runtime.module import Platform
from mimamori.kit.unit_of_work import UnitOfWork

SERVICE = "gateway"

log = logging.getLogger("mimamori.gateway")


class GatewayMisconfigured(RuntimeError):
    """The gateway cannot start with these settings."""


@dataclass
class Gateway:
    """The wired gateway: its app and the parts the module stops (tests reach the parts too)."""

    app: FastAPI
    policy: PolicyIndex
    gate: Gate
    tokens: TokenValidator
    forwarder: Forwarder
    recorder: Recorder
    dev_issuer: DevIssuer | None

    async def close(self) -> None:
        """Stop recording and close outbound connections."""
        await self.recorder.close()
        await self.forwarder.close()
        await self.tokens.close()


def dev_issuer_allowed(platform: Platform, settings: GatewaySettings) -> bool:
    """The development issuer runs never in production; otherwise in the embedded form, and in the distributed
    form when no issuer is configured (a development machine without Keycloak)."""
    if platform.settings.environment == "production" or not settings.dev_issuer:
        return False
    return platform.embedded or settings.issuer is None


def bootstrap(
    *,
    platform: Platform,
    settings: GatewaySettings,
    uow: Callable[[], UnitOfWork] | None = None,
    recorder: Recorder | None = None,
    policy: Policy | None = None,
    jwks: JwksSource | None = None,
    forwarder: Forwarder | None = None,
) -> Gateway:
    """Build the gateway: policy, token validation, decisions and their record, forwarding, the app.
    Decisions go through `uow` (the gateway's outbox) unless a `recorder` is given (tests)."""
    index = PolicyIndex(policy or load_policy(settings.policy_file))
    dev_issuer = (
        DevIssuer(
            base_url=settings.dev_issuer_base_url,
            roles={code: role.name for code, role in index.roles.items()},
            audience=settings.audience,
            key_pem=settings.dev_issuer_key_file.read_bytes() if settings.dev_issuer_key_file else None,
        )
        if dev_issuer_allowed(platform, settings)
        else None
    )
    issuer = settings.issuer or (dev_issuer.issuer if dev_issuer is not None else None)
    if dev_issuer is not None:
        log.warning(
            "development OIDC issuer active: anyone can sign in as any role",
            extra={"issuer": dev_issuer.issuer, "trusted": issuer == dev_issuer.issuer},
        )
    if issuer is None:
        raise GatewayMisconfigured(
            "MIMAMORI_GATEWAY_ISSUER is required: the development issuer never runs in production"
        )
    if platform.context_signer is None:
        raise GatewayMisconfigured("the gateway signs access contexts: set MIMAMORI_CONTEXT_PRIVATE_KEY")
    if jwks is None:
        local = dev_issuer is not None and issuer == dev_issuer.issuer
        jwks = InProcessJwksSource(dev_issuer) if local and dev_issuer is not None else HttpJwksSource(issuer=issuer)
    tokens = TokenValidator(
        source=jwks,
        issuer=issuer,
        audience=settings.audience,
        algorithms=settings.algorithms,
        leeway=settings.leeway_seconds,
        roles_claim=settings.roles_claim,
        org_unit_claim=settings.org_unit_claim,
        known_roles=index.roles,
        refresh_min_seconds=settings.jwks_refresh_min_seconds,
        cache_seconds=settings.jwks_cache_seconds,
    )
    municipality = platform.settings.municipality_code
    if recorder is None:
        if settings.decisions_to_broker and isinstance(platform.bus, KafkaBus):
            recorder = DecisionRecorder(bus=BrokerPublish(bus=platform.bus, source=SERVICE, municipality=municipality))
        elif uow is None:
            raise GatewayMisconfigured("decisions need a unit of work (the gateway's outbox) or a recorder")
        else:
            recorder = DecisionRecorder(uow=uow)
    gate = Gate(
        policy=index,
        tokens=tokens,
        limiter=RateLimiter(rate=settings.rate_limit_per_second, burst=settings.rate_limit_burst),
        recorder=recorder,
        municipality=municipality,
    )
    if forwarder is None:
        forwarder = RoutingForwarder(
            local=InProcessForwarder(platform.apps),
            remote=HttpForwarder(
                upstream=settings.upstream,
                pool_size=settings.upstream_pool_size,
                connect_timeout=settings.upstream_connect_timeout,
                read_timeout=settings.upstream_read_timeout,
            ),
        )

    def readiness() -> Callable[[], Awaitable[bool]] | None:
        return platform.readiness

    app = bare_app(
        GatewayApp,
        title="Mimamori gateway",
        description="OIDC resource server, purpose-of-use policy, audit of every decision",
        version=index.version,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    install_problem_handlers(app)
    app.state.readiness = readiness
    app.state.dev_issuer = dev_issuer
    app.state.openapi = CombinedOpenApi(
        policy=index, source=forwarded_documents(forwarder), issuer=issuer, ttl=settings.openapi_cache_seconds
    )
    proxy = ApiProxy(gate=gate, forwarder=forwarder, signer=platform.context_signer)
    app.mount("/api", proxy)  # what the fast path does not take (`/api` itself)
    app.include_router(health.router)
    app.include_router(openapi.router)
    if dev_issuer is not None:
        app.include_router(dev_oidc.router)
    app.add_middleware(TracingMiddleware, service=SERVICE, carries_decisions=False)
    assert isinstance(app, GatewayApp)
    app.api = TracingMiddleware(proxy, service=SERVICE, carries_decisions=False)
    return Gateway(
        app=app,
        policy=index,
        gate=gate,
        tokens=tokens,
        forwarder=forwarder,
        recorder=recorder,
        dev_issuer=dev_issuer,
    )
