"""Every read or write of personal data is an audit event, published with the change it records."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from mimamori.events.audit.v1 import access_pb2
from mimamori.kit.auth import AccessContext
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


def record_access(uow: UnitOfWork, event: access_pb2.AccessRecorded) -> None:
    """Publish the audit event in the unit of work, so the access and its record commit together."""
    uow.publish(event, key=event.actor or "anonymous", actor=event.actor, purpose=event.purpose)
