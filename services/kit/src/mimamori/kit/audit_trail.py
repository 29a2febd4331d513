"""Every read or write of personal data is an audit event, published with the change it records."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from mimamori.events.audit.v1 import access_pb2
from mimamori.kit.auth import AccessContext, request_decision
from mimamori.kit.messaging.envelope import Envelope
from mimamori.kit.telemetry import current_trace_id
from mimamori.kit.unit_of_work import UnitOfWork

Outcome = access_pb2.Outcome


def access_event(
    *,
    recorder: str,
    context: AccessContext,
    action: str,
    method: str,
    route: str,
    person_ids: Iterable[str] = (),
    outcome: access_pb2.Outcome.ValueType = access_pb2.OUTCOME_ALLOWED,
    status_code: int = 200,
    reason: str = "",
) -> access_pb2.AccessRecorded:
    """The audit event of one access by a service (the gateway builds its own for decisions)."""
    return access_pb2.AccessRecorded(
        event_id=str(uuid.uuid4()),
        occurred_at=datetime.now(UTC).isoformat(timespec="microseconds"),
        recorder=recorder,
        actor=context.subject,
        roles=context.roles,
        org_unit=context.org_unit,
        purpose=context.purpose,
        action=action,
        method=method,
        route=route,
        person_ids=sorted(set(person_ids)),
        outcome=outcome,
        reason=reason,
        trace_id=current_trace_id(),
        decision_id=context.decision_id,
        break_glass=context.break_glass,
        municipality_code=context.municipality,
        status_code=status_code,
    )


GATEWAY = "gateway"


def carried_decision_event(context: AccessContext, *, relayed_by: str) -> access_pb2.AccessRecorded:
    """The gateway's decision handed over in `context`, as the gateway would have published it (same event id),
    marked as committed by `relayed_by`."""
    decision = context.decision
    if decision is None:
        raise ValueError("the context carries no decision")
    return access_pb2.AccessRecorded(
        event_id=decision.event_id,
        occurred_at=decision.decided_at,
        recorder=GATEWAY,
        actor=context.subject,
        roles=context.roles,
        org_unit=context.org_unit,
        purpose=context.purpose,
        action="decide",
        method=decision.method,
        route=decision.route,
        person_ids=decision.person_ids,
        outcome=access_pb2.OUTCOME_ALLOWED,
        reason=decision.reason,
        trace_id=current_trace_id(),
        decision_id=context.decision_id,
        break_glass=context.break_glass,
        municipality_code=context.municipality,
        status_code=0,
        relayed_by=relayed_by,
    )


def record_access(uow: UnitOfWork, event: access_pb2.AccessRecorded) -> None:
    """Publish the audit event in the unit of work, so the access and its record commit together. The first
    access a request records also commits the gateway's decision the request carried, ahead of it."""
    carried = request_decision.get()
    if (
        carried is not None
        and carried.context is not None
        and not carried.recorded
        and not (carried.publication is not None and uow.is_pending(carried.publication))
    ):
        carried.publication = _publish(uow, carried_decision_event(carried.context, relayed_by=event.recorder))
        uow.after_commit(carried.mark_recorded)
    _publish(uow, event)


def _publish(uow: UnitOfWork, event: access_pb2.AccessRecorded) -> Envelope:
    """An audit event in the unit of work, keyed by its actor."""
    return uow.publish(event, key=event.actor or "anonymous", actor=event.actor, purpose=event.purpose)
