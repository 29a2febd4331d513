"""The internal access context: who, which roles, which org unit, which purpose. The gateway signs it; every
service verifies it and re-checks its own rules. Signed with Ed25519 (joserfc, authlib's JOSE library), so a
service that can verify cannot forge."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import Annotated

from fastapi import Depends, Request
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey
from pydantic import BaseModel, Field

from mimamori.kit.problems import Problem

CONTEXT_HEADER = "X-Mimamori-Context"
ALGORITHM = "Ed25519"
AUDIENCE = "mimamori-services"
ISSUER = "mimamori-gateway"
LIFETIME_SECONDS = 60


class AccessContext(BaseModel):
    """Who is asking, in which role and unit, and for which declared purpose (利用目的)."""

    subject: str = Field(description="the token's subject: a staff account id, not a name")
    roles: list[str]
    org_unit: str = ""
    purpose: str = Field(description="purpose code from the purpose registry (個人情報ファイル簿)")
    decision_id: str = Field(description="the gateway's policy decision, as recorded in the audit ledger")
    municipality: str
    break_glass: bool = False
    break_glass_reason: str = ""

    def has_role(self, *roles: str) -> bool:
        """Whether the caller holds any of these roles."""
        return any(r in self.roles for r in roles)


def generate_signing_key() -> OKPKey:
    """A new Ed25519 key for signing contexts (embedded mode makes one per process)."""
    return OKPKey.generate_key("Ed25519")


def load_key(pem: str) -> OKPKey:
    """A key from PEM (private for the gateway, public for services)."""
    return OKPKey.import_key(pem)


class ContextSigner:
    """The gateway's side: a short-lived signed context per forwarded request."""

    def __init__(self, key: OKPKey) -> None:
        self._key = key

    def sign(self, context: AccessContext) -> str:
        """A compact JWS of the context, valid for a minute."""
        now = int(time.time())
        claims = {
            **context.model_dump(),
            "iss": ISSUER,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + LIFETIME_SECONDS,
            "jti": str(uuid.uuid4()),
        }
        return jwt.encode({"alg": ALGORITHM}, claims, self._key, algorithms=[ALGORITHM])


class ContextVerifier:
    """A service's side: verify signature, issuer, audience and expiry."""

    def __init__(self, key: OKPKey) -> None:
        self._key = key
        self._claims = jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": ISSUER},
            aud={"essential": True, "value": AUDIENCE},
            exp={"essential": True},
        )

    def verify(self, token: str) -> AccessContext:
        """The context in a token, or a 401 problem."""
        try:
            decoded = jwt.decode(token, self._key, algorithms=[ALGORITHM])
            self._claims.validate(decoded.claims)
            return AccessContext.model_validate(decoded.claims)
        except (JoseError, ValueError) as exc:
            raise Problem(status=401, code="invalid_internal_context") from exc


def context_dependency(
    verifier_of: Callable[[Request], ContextVerifier],
) -> Callable[[Request], Awaitable[AccessContext]]:
    """A FastAPI dependency that yields the verified context of a request."""

    # async: FastAPI runs a plain `def` dependency in its thread pool, a thread hop per request for no I/O.
    async def dependency(request: Request) -> AccessContext:
        token = request.headers.get(CONTEXT_HEADER)
        if not token:
            raise Problem(status=401, code="missing_internal_context")
        return verifier_of(request).verify(token)

    return dependency


def verifier_from_app(request: Request) -> ContextVerifier:
    """The verifier the service's bootstrap put on app.state."""
    verifier: ContextVerifier = request.app.state.context_verifier
    return verifier


current_context = context_dependency(verifier_from_app)
ContextDep = Annotated[AccessContext, Depends(current_context)]


def require(
    *, purposes: Iterable[str], roles: Iterable[str] | None = None
) -> Callable[[AccessContext], Awaitable[AccessContext]]:
    """Route dependency: the service's own re-check of purpose and role (the gateway checked them first)."""
    allowed_purposes = frozenset(purposes)
    allowed_roles = frozenset(roles) if roles is not None else None

    async def check(context: ContextDep) -> AccessContext:
        if context.purpose not in allowed_purposes:
            raise Problem(status=403, code="purpose_not_allowed", title="この利用目的ではこの操作はできません")
        if allowed_roles is not None and not allowed_roles.intersection(context.roles):
            raise Problem(status=403, code="role_not_allowed", title="この役割ではこの操作はできません")
        return context

    return check
