"""The internal access context: who, which roles, which org unit, which purpose. The gateway signs it; every
service verifies it and re-checks its own rules. Signed with Ed25519 (joserfc, authlib's JOSE library), so a
service that can verify cannot forge."""

from __future__ import annotations

import base64
import binascii
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Annotated, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from fastapi import Depends, Request
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey, RSAKey
from pydantic import BaseModel, Field

from mimamori.kit.messaging.envelope import Envelope
from mimamori.kit.problems import Problem

CONTEXT_HEADER = "X-Mimamori-Context"
ALGORITHM = "Ed25519"
AUDIENCE = "mimamori-services"
ISSUER = "mimamori-gateway"
LIFETIME_SECONDS = 60


class CarriedDecision(BaseModel):
    """The gateway's decision to allow a read, handed to the service with the request: the service commits it
    to the audit trail in the same transaction as its own record of the access, instead of the gateway waiting
    for the broker to acknowledge it on every read. The service says so in its answer
    (`X-Mimamori-Decision-Recorded`); without that, the gateway records the decision itself before anything of
    the answer reaches the caller."""

    event_id: str = Field(description="the decision event's id: the same whoever publishes it, so one ledger entry")
    decided_at: str = Field(description="when the gateway decided (RFC 3339, UTC)")
    method: str
    route: str = Field(description="route template, never the concrete path")
    person_ids: list[str] = Field(default_factory=list)
    reason: str = ""


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
    decision: CarriedDecision | None = Field(
        default=None, description="the gateway's decision, for the service to record with its access (reads only)"
    )

    def has_role(self, *roles: str) -> bool:
        """Whether the caller holds any of these roles."""
        return any(r in self.roles for r in roles)


def generate_signing_key() -> OKPKey:
    """A new Ed25519 key for signing contexts (embedded mode makes one per process)."""
    return OKPKey.generate_key("Ed25519")


def generate_dev_issuer_key() -> bytes:
    """A new RSA private key (PEM) for the gateway's development issuer, written once where several gateway
    processes of one machine's distributed form read it (`MIMAMORI_GATEWAY_DEV_ISSUER_KEY_FILE`), so each accepts
    the others' tokens."""
    pem: bytes = RSAKey.generate_key(2048, private=True).as_pem(private=True)
    return pem


def load_key(pem: str) -> OKPKey:
    """A key from PEM (private for the gateway, public for services)."""
    return OKPKey.import_key(pem)


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


# The protected header joserfc writes for these tokens; built once. A compact JWS (RFC 7515) with EdDSA over
# Ed25519 is three base64url parts, so signing and verifying need no general JOSE machinery on the hot path:
# the format is unchanged (joserfc reads what this writes and the other way round).
_HEADER = _b64encode(b'{"typ":"JWT","alg":"Ed25519"}')
_ALGORITHMS = frozenset({ALGORITHM, "EdDSA"})


class ContextSigner:
    """The gateway's side: a short-lived signed context per forwarded request."""

    def __init__(self, key: OKPKey) -> None:
        self._key = key
        private = key.private_key
        self._private = private if isinstance(private, Ed25519PrivateKey) else None

    def sign(self, context: AccessContext) -> str:
        """A compact JWS of the context, valid for a minute."""
        if self._private is None:
            raise JoseError("contexts are signed with an Ed25519 private key")
        now = int(time.time())
        claims = {
            **context.model_dump(),
            "iss": ISSUER,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + LIFETIME_SECONDS,
            "jti": str(uuid.uuid4()),
        }
        signing_input = f"{_HEADER}.{_b64encode(json.dumps(claims, separators=(',', ':')).encode())}"
        signature = self._private.sign(signing_input.encode("ascii"))
        return f"{signing_input}.{_b64encode(signature)}"


class ContextVerifier:
    """A service's side: verify signature, issuer, audience and expiry."""

    def __init__(self, key: OKPKey) -> None:
        self._key = key
        public = key.public_key
        if not isinstance(public, Ed25519PublicKey):
            raise ValueError("contexts are verified with an Ed25519 key")
        self._public = public

    def verify(self, token: str) -> AccessContext:
        """The context in a token, or a 401 problem."""
        try:
            return AccessContext.model_validate(self._claims(token))
        except (InvalidSignature, ValueError, TypeError, binascii.Error) as exc:
            raise Problem(status=401, code="invalid_internal_context") from exc

    def _claims(self, token: str) -> dict[str, Any]:
        header, payload, signature = token.split(".")  # ValueError unless exactly three parts
        if header != _HEADER and json.loads(_b64decode(header)).get("alg") not in _ALGORITHMS:
            raise ValueError("algorithm")
        self._public.verify(_b64decode(signature), f"{header}.{payload}".encode("ascii"))
        claims = json.loads(_b64decode(payload))
        if not isinstance(claims, dict):
            raise ValueError("claims")
        audience = claims.get("aud")
        if claims.get("iss") != ISSUER or not (
            audience == AUDIENCE or (isinstance(audience, list) and AUDIENCE in audience)
        ):
            raise ValueError("issuer or audience")
        expires = claims.get("exp")
        if not isinstance(expires, int | float) or isinstance(expires, bool) or expires < time.time():
            raise ValueError("expired")
        return claims


DECISION_RECORDED_HEADER = "X-Mimamori-Decision-Recorded"
# The same header as ASGI carries it (a lower-case byte string), for the service that sets it and the gateway.
DECISION_RECORDED_RAW = DECISION_RECORDED_HEADER.lower().encode("latin-1")


@dataclass(slots=True)
class RequestDecision:
    """One request's carried decision, from the verified context to the service's answer: the service's HTTP
    middleware makes one per request, the context dependency fills it in, and `record_access` publishes the
    decision in the unit of work that records the access; `recorded` once that unit has committed."""

    context: AccessContext | None = None
    recorded: bool = False
    publication: Envelope | None = None  # the decision's envelope in the unit of work that has it, until committed

    def mark_recorded(self) -> None:
        """The unit of work that carried the decision committed."""
        self.recorded = True


request_decision: ContextVar[RequestDecision | None] = ContextVar("mimamori_request_decision", default=None)


def context_dependency(
    verifier_of: Callable[[Request], ContextVerifier],
) -> Callable[[Request], Awaitable[AccessContext]]:
    """A FastAPI dependency that yields the verified context of a request."""

    # async: FastAPI runs a plain `def` dependency in its thread pool, a thread hop per request for no I/O.
    async def dependency(request: Request) -> AccessContext:
        token = request.headers.get(CONTEXT_HEADER)
        if not token:
            raise Problem(status=401, code="missing_internal_context")
        context = verifier_of(request).verify(token)
        if context.decision is not None:
            carried = request_decision.get()
            if carried is not None and carried.context is None:
                carried.context = context
        return context

    return dependency


def verifier_from_app(request: Request) -> ContextVerifier:
    """The verifier the service's bootstrap put on app.state."""
    verifier: ContextVerifier = request.app.state.context_verifier
    return verifier


current_context = context_dependency(verifier_from_app)
ContextDep = Annotated[AccessContext, Depends(current_context)]


def require(
    *, purposes: Iterable[str], roles: Iterable[str] | None = None
) -> Callable[[Request], Awaitable[AccessContext]]:
    """Route dependency: the service's own re-check of purpose and role (the gateway checked them first)."""
    allowed_purposes = frozenset(purposes)
    allowed_roles = frozenset(roles) if roles is not None else None

    # The context is read here rather than through ContextDep: one dependency for FastAPI to solve per request,
    # not two nested ones (the same verification, through the app's verifier).
    async def check(request: Request) -> AccessContext:
        context = await current_context(request)
        if context.purpose not in allowed_purposes:
            raise Problem(status=403, code="purpose_not_allowed", title="この利用目的ではこの操作はできません")
        if allowed_roles is not None and not allowed_roles.intersection(context.roles):
            raise Problem(status=403, code="role_not_allowed", title="この役割ではこの操作はできません")
        return context

    return check
