"""The decision on one request: token, rate limit, route, purpose, role, break-glass; each one recorded."""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NoReturn

from mimamori.events.audit.v1 import access_pb2
from mimamori.gateway.adapters.tokens import InvalidToken, KeysUnavailable, Principal, TokenValidator
from mimamori.gateway.domain.policy import (
    INVALID_TOKEN,
    RATE_LIMITED,
    ROUTE_NOT_FOUND,
    CompiledRoute,
    PolicyIndex,
    RouteMatch,
)
from mimamori.gateway.domain.rate_limit import RateLimiter
from mimamori.gateway.service_layer.decisions import Recorder
from mimamori.kit.auth import AccessContext, CarriedDecision
from mimamori.kit.telemetry import current_trace_id

log = logging.getLogger("mimamori.gateway")

RECORDER = "gateway"
ANONYMOUS = "anonymous"
UNMATCHED = "unmatched"
KEYS_UNAVAILABLE = "token_keys_unavailable"
AUDIT_UNAVAILABLE = "audit_unavailable"

STATUS: dict[str, int] = {
    INVALID_TOKEN: 401,
    ROUTE_NOT_FOUND: 404,
    "purpose_required": 400,
    "purpose_unknown": 400,
    "purpose_not_allowed": 403,
    "role_not_allowed": 403,
    "break_glass_not_allowed": 403,
    RATE_LIMITED: 429,
    KEYS_UNAVAILABLE: 503,
    AUDIT_UNAVAILABLE: 503,
}

# Only identifier-shaped path values go into the audit event; anything else might be a name typed by mistake.
_PERSON_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


@dataclass(frozen=True, slots=True)
class AccessRequest:
    """What the gate needs of an HTTP request."""

    method: str
    path: str
    bearer: str | None
    purpose: str | None
    break_glass_reason: str | None


@dataclass(slots=True)
class Admission:
    """An allowed request: the context to sign, the route it matched, and its decision event. The decision is
    on record before anything of the service's answer reaches the caller: recorded by the gateway (`recorded`),
    or handed to the service with a read (`carried`) and committed by it with its own record of the access."""

    context: AccessContext
    route: CompiledRoute
    params: dict[str, str]
    event: access_pb2.AccessRecorded
    recorder: Recorder
    recording: asyncio.Task[None] | None = None

    def record(self) -> None:
        """Start recording the decision here (once)."""
        if self.recording is None:
            self.recording = asyncio.ensure_future(self.recorder.record(self.event))
            self.recording.add_done_callback(_consume_error)  # whoever awaits it sees the error; nobody else must

    def carried(self) -> AccessContext:
        """The context with the decision handed over, for the service to commit with its record of the read."""
        event = self.event
        decision = CarriedDecision.model_construct(
            event_id=event.event_id,
            decided_at=event.occurred_at,
            method=event.method,
            route=event.route,
            person_ids=list(event.person_ids),
            reason=event.reason,
        )
        return self.context.model_copy(update={"decision": decision})

    async def recorded(self) -> None:
        """Record the decision here (unless under way) and wait until it is committed; Refusal(audit_unavailable)
        when it cannot be."""
        self.record()
        assert self.recording is not None
        try:
            await self.recording
        except Exception as exc:
            # No record, no access.
            log.error(
                "decision not recorded",
                extra={"error": type(exc).__name__, "decision_id": self.context.decision_id},
            )
            raise Refusal(
                code=AUDIT_UNAVAILABLE, route=self.route.rule.path, decision_id=self.context.decision_id
            ) from exc


class Refusal(Exception):
    """A denied request (already recorded): the problem code, its HTTP status and the route template."""

    def __init__(self, *, code: str, route: str, decision_id: str, retry_after: float = 0.0) -> None:
        super().__init__(code)
        self.code = code
        self.status = STATUS[code]
        self.route = route
        self.decision_id = decision_id
        self.retry_after = retry_after


class Gate:
    """Decides, records a refusal, and hands back the admission of an allowed request (whose decision the proxy
    has recorded or handed over)."""

    def __init__(
        self,
        *,
        policy: PolicyIndex,
        tokens: TokenValidator,
        limiter: RateLimiter,
        recorder: Recorder,
        municipality: str,
    ) -> None:
        self.policy = policy
        self._tokens = tokens
        self._limiter = limiter
        self._recorder = recorder
        self._municipality = municipality

    async def admit(self, request: AccessRequest) -> Admission:
        """The admission of an allowed request; raises Refusal (recorded) otherwise."""
        decision_id = str(uuid.uuid4())
        match = self.policy.match(request.method, request.path)
        route = match.route.rule.path if match is not None else UNMATCHED
        principal: Principal | None = None
        try:
            if not request.bearer:
                raise InvalidToken("missing")
            principal = await self._tokens.validate(request.bearer)
        except InvalidToken as exc:
            log.info("token refused", extra={"why": exc.why, "route": route, "decision_id": decision_id})
            await self._refuse(
                INVALID_TOKEN,
                request=request,
                route=route,
                match=match,
                principal=None,
                decision_id=decision_id,
                reason=f"{INVALID_TOKEN}:{exc.why}",
            )
        except KeysUnavailable as exc:
            log.error("issuer keys unavailable", extra={"error": str(exc), "decision_id": decision_id})
            await self._refuse(
                KEYS_UNAVAILABLE,
                request=request,
                route=route,
                match=match,
                principal=None,
                decision_id=decision_id,
                outcome=access_pb2.OUTCOME_ERROR,
            )
        wait = self._limiter.admit(principal.subject)
        if wait > 0:
            await self._refuse(
                RATE_LIMITED,
                request=request,
                route=route,
                match=match,
                principal=principal,
                decision_id=decision_id,
                retry_after=wait,
            )
        if match is None:
            await self._refuse(
                ROUTE_NOT_FOUND,
                request=request,
                route=route,
                match=None,
                principal=principal,
                decision_id=decision_id,
            )
        reason = (request.break_glass_reason or "").strip()
        verdict = self.policy.decide(
            route=match.route,
            roles=principal.roles,
            purpose=request.purpose or None,
            break_glass=bool(reason),
        )
        if not verdict.allowed:
            await self._refuse(
                verdict.denial,
                request=request,
                route=route,
                match=match,
                principal=principal,
                decision_id=decision_id,
                purpose=verdict.purpose,
            )
        # Built from checked values of the right types: no validation pass needed (model_construct).
        context = AccessContext.model_construct(
            subject=principal.subject,
            roles=sorted(principal.roles),
            org_unit=principal.org_unit,
            purpose=verdict.purpose,
            decision_id=decision_id,
            municipality=self._municipality,
            break_glass=verdict.break_glass,
            break_glass_reason=reason[: self.policy.policy.break_glass.max_reason_length]
            if verdict.break_glass
            else "",
        )
        event = self._event(
            request=request,
            route=route,
            match=match,
            principal=principal,
            decision_id=decision_id,
            purpose=verdict.purpose,
            outcome=access_pb2.OUTCOME_ALLOWED,
            reason="break_glass" if verdict.break_glass else "",
            status_code=0,
            break_glass=verdict.break_glass,
        )
        return Admission(context=context, route=match.route, params=match.params, event=event, recorder=self._recorder)

    async def _refuse(
        self,
        code: str,
        *,
        request: AccessRequest,
        route: str,
        match: RouteMatch | None,
        principal: Principal | None,
        decision_id: str,
        reason: str | None = None,
        purpose: str = "",
        retry_after: float = 0.0,
        outcome: access_pb2.Outcome.ValueType = access_pb2.OUTCOME_DENIED,
    ) -> NoReturn:
        event = self._event(
            request=request,
            route=route,
            match=match,
            principal=principal,
            decision_id=decision_id,
            purpose=purpose,
            outcome=outcome,
            reason=reason or code,
            status_code=STATUS[code],
            break_glass=False,
        )
        try:
            await self._recorder.record(event)
        except Exception as exc:
            log.error("denial not recorded", extra={"error": type(exc).__name__, "decision_id": decision_id})
        raise Refusal(code=code, route=route, decision_id=decision_id, retry_after=retry_after)

    def _event(
        self,
        *,
        request: AccessRequest,
        route: str,
        match: RouteMatch | None,
        principal: Principal | None,
        decision_id: str,
        purpose: str,
        outcome: access_pb2.Outcome.ValueType,
        reason: str,
        status_code: int,
        break_glass: bool,
    ) -> access_pb2.AccessRecorded:
        person = match.params.get("person_id", "") if match is not None else ""
        return access_pb2.AccessRecorded(
            event_id=str(uuid.uuid4()),
            occurred_at=datetime.now(UTC).isoformat(timespec="microseconds"),
            recorder=RECORDER,
            actor=principal.subject if principal is not None else ANONYMOUS,
            roles=sorted(principal.roles) if principal is not None else [],
            org_unit=principal.org_unit if principal is not None else "",
            purpose=purpose,
            action="decide",
            method=request.method,
            route=route,
            person_ids=[person] if _PERSON_ID.match(person) else [],
            outcome=outcome,
            reason=reason,
            trace_id=current_trace_id(),
            decision_id=decision_id,
            break_glass=break_glass,
            municipality_code=self._municipality,
            status_code=status_code,
        )


def _consume_error(task: asyncio.Task[None]) -> None:
    if not task.cancelled():
        task.exception()
