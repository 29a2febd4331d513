"""Handlers of cases: open, list, read, move through the lifecycle, set the risk level and assignees. Every read
and write is audited in its own unit of work; opening and status changes are announced on casework.case.v1."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from mimamori.casework.adapters.cases import CaseAlreadyOpen, CaseFilter
from mimamori.casework.domain.case import (
    COORDINATORS,
    Case,
    CaseStatus,
    DeclineReason,
    Difficulty,
    Origin,
    StatusChange,
)
from mimamori.casework.service_layer.handlers import SERVICE, PersonNotFound
from mimamori.casework.service_layer.unit_of_work import CaseworkUnitOfWork
from mimamori.events.audit.v1 import access_pb2
from mimamori.events.casework.v1 import case_pb2
from mimamori.kit.audit_trail import access_event, record_access
from mimamori.kit.auth import AccessContext

STATUS_CODES = {
    CaseStatus.TRIAGE: case_pb2.CASE_STATUS_TRIAGE,
    CaseStatus.ACCEPTED: case_pb2.CASE_STATUS_ACCEPTED,
    CaseStatus.CONFERENCE: case_pb2.CASE_STATUS_CONFERENCE,
    CaseStatus.SUPPORT: case_pb2.CASE_STATUS_SUPPORT,
    CaseStatus.CLOSED: case_pb2.CASE_STATUS_CLOSED,
    CaseStatus.DECLINED: case_pb2.CASE_STATUS_DECLINED,
}


class CaseNotFound(LookupError):
    """No case with this id."""


class CaseNotAssigned(PermissionError):
    """The caller is neither a coordinator nor assigned to the case."""


class CaseConflict(Exception):
    """The change lost to another: `code` is case_already_open or case_version_conflict."""

    def __init__(self, code: str, *, case_id: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.case_id = case_id


@dataclass(frozen=True, slots=True)
class OpenCase:
    """Command: open a case for a child (in triage)."""

    person_id: str
    difficulties: Sequence[Difficulty]
    origin: Origin | None = None
    assignees: Sequence[str] = ()
    note: str = ""


@dataclass(frozen=True, slots=True)
class TransitionCase:
    """Command: move a case to another status."""

    case_id: str
    to: CaseStatus
    note: str = ""
    reason: DeclineReason | None = None
    risk_level: int | None = None
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class UpdateCase:
    """Command: set the risk level and/or the assignees of a case."""

    case_id: str
    risk_level: int | None = None
    assignees: Sequence[str] | None = None
    expected_version: int | None = None


def _audit(
    uow: CaseworkUnitOfWork,
    context: AccessContext,
    *,
    action: str,
    method: str,
    route: str,
    person_ids: Sequence[str],
    status: int,
) -> None:
    denied = status == 403
    record_access(
        uow,
        access_event(
            recorder=SERVICE,
            context=context,
            action=action,
            method=method,
            route=route,
            person_ids=person_ids,
            status_code=status,
            outcome=access_pb2.OUTCOME_DENIED if denied else access_pb2.OUTCOME_ALLOWED,
            reason="case_not_assigned" if denied else "",
        ),
    )


def _sees_every_case(context: AccessContext) -> bool:
    return context.break_glass or context.has_role(*COORDINATORS)


def _announce_opened(uow: CaseworkUnitOfWork, case: Case, context: AccessContext) -> None:
    origin = None
    if case.origin is not None:
        origin = case_pb2.CaseOrigin(
            rule_id=case.origin.rule_id,
            rule_version=case.origin.rule_version,
            month=case.origin.month,
            alert_id=case.origin.alert_id,
        )
    uow.publish(
        case_pb2.CaseOpened(
            case_id=case.id,
            person_id=case.person_id,
            difficulty_types=[d.value for d in case.difficulties],
            status=STATUS_CODES[case.status],
            version=case.version,
            origin=origin,
            opened_by=case.opened_by,
            opened_at=case.opened_at.isoformat(),
        ),
        key=case.id,
        actor=context.subject,
        purpose=context.purpose,
    )


def _announce_change(uow: CaseworkUnitOfWork, case: Case, change: StatusChange, context: AccessContext) -> None:
    assert change.from_status is not None
    uow.publish(
        case_pb2.CaseStatusChanged(
            case_id=case.id,
            person_id=case.person_id,
            difficulty_types=[d.value for d in case.difficulties],
            status=STATUS_CODES[case.status],
            version=case.version,
            previous_status=STATUS_CODES[change.from_status],
            changed_by=change.by,
            changed_at=change.at.isoformat(),
            decline_reason=case.decline_reason.value if case.decline_reason else "",
        ),
        key=case.id,
        actor=context.subject,
        purpose=context.purpose,
    )


async def open_case(
    command: OpenCase, *, uow: CaseworkUnitOfWork, context: AccessContext, route: str, now: datetime
) -> Case:
    """Open a case in triage for a known person who has no open case, merges followed (a case under an id merged
    into them, or under the person they were merged into, is theirs); announced and audited with it."""
    async with uow:
        if not await uow.persons.exists(command.person_id):
            raise PersonNotFound(command.person_id)
        await uow.aliases.hold(command.person_id)
        existing = await uow.cases.open_case_of(command.person_id)
        if existing is not None:
            _audit(
                uow, context, action="create", method="POST", route=route, person_ids=[command.person_id], status=409
            )
            await uow.commit()
            raise CaseConflict("case_already_open", case_id=existing)
        # Staff outside the coordinating unit who propose a child keep sight of the case they opened.
        opener = [] if _sees_every_case(context) else [context.subject]
        case = Case.open(
            person_id=command.person_id,
            difficulties=command.difficulties,
            by=context.subject,
            at=now,
            origin=command.origin,
            assignees=[*command.assignees, *opener],
            note=command.note,
        )
        try:
            await uow.cases.add(case)
        except CaseAlreadyOpen as exc:
            raise CaseConflict("case_already_open") from exc
        _announce_opened(uow, case, context)
        _audit(uow, context, action="create", method="POST", route=route, person_ids=[case.person_id], status=201)
        await uow.commit()
    return case


async def list_cases(
    chosen: CaseFilter, *, uow: CaseworkUnitOfWork, context: AccessContext, route: str, limit: int, offset: int
) -> tuple[int, list[Case], set[str]]:
    """A page of cases, a person's read through identity's merges, with the ids of the cases that are open while
    their child (merges followed) has another open case; staff who are not coordinators see only the cases
    assigned to them. The read is audited with every person it disclosed (and the person searched for)."""
    if not _sees_every_case(context):
        chosen = CaseFilter(
            person_id=chosen.person_id, status=chosen.status, open_only=chosen.open_only, assignee=context.subject
        )
    async with uow:
        total, cases = await uow.cases.page(chosen, limit=limit, offset=offset)
        duplicates = await uow.cases.duplicate_open(cases)
        persons = {c.person_id for c in cases} | ({chosen.person_id} if chosen.person_id else set())
        _audit(uow, context, action="read", method="GET", route=route, person_ids=sorted(persons), status=200)
        await uow.commit()
    return total, cases, duplicates


async def _visible(
    case_id: str, *, uow: CaseworkUnitOfWork, context: AccessContext, action: str, method: str, route: str
) -> Case:
    """The case, or an audited refusal (not found / not assigned) committed before the exception."""
    case = await uow.cases.get(case_id)
    if case is None:
        _audit(uow, context, action=action, method=method, route=route, person_ids=[], status=404)
        await uow.commit()
        raise CaseNotFound(case_id)
    if not case.visible_to(subject=context.subject, roles=context.roles, break_glass=context.break_glass):
        _audit(uow, context, action=action, method=method, route=route, person_ids=[case.person_id], status=403)
        await uow.commit()
        raise CaseNotAssigned(case_id)
    return case


async def get_case(case_id: str, *, uow: CaseworkUnitOfWork, context: AccessContext, route: str) -> tuple[Case, bool]:
    """One case with its history, and whether it is open while its child (merges followed) has another open case;
    audited."""
    async with uow:
        case = await _visible(case_id, uow=uow, context=context, action="read", method="GET", route=route)
        duplicate = bool(await uow.cases.duplicate_open([case]))
        _audit(uow, context, action="read", method="GET", route=route, person_ids=[case.person_id], status=200)
        await uow.commit()
    return case, duplicate


def _check_version(case: Case, expected: int | None) -> None:
    if expected is not None and expected != case.version:
        raise CaseConflict("case_version_conflict", case_id=case.id)


async def transition_case(
    command: TransitionCase, *, uow: CaseworkUnitOfWork, context: AccessContext, route: str, now: datetime
) -> tuple[Case, bool]:
    """Move a case through its lifecycle; the change, its announcement and its audit record commit together.
    Also says whether the case is open while its child (merges followed) has another open case."""
    async with uow:
        case = await _visible(command.case_id, uow=uow, context=context, action="update", method="POST", route=route)
        _check_version(case, command.expected_version)
        read_version, stored_history = case.version, len(case.history)
        change = case.transition(
            command.to,
            by=context.subject,
            at=now,
            note=command.note,
            reason=command.reason,
            risk_level=command.risk_level,
        )
        if not await uow.cases.save(case, expected_version=read_version, stored_history=stored_history):
            raise CaseConflict("case_version_conflict", case_id=case.id)
        _announce_change(uow, case, change, context)
        duplicate = bool(await uow.cases.duplicate_open([case]))
        _audit(uow, context, action="update", method="POST", route=route, person_ids=[case.person_id], status=201)
        await uow.commit()
    return case, duplicate


async def update_case(
    command: UpdateCase, *, uow: CaseworkUnitOfWork, context: AccessContext, route: str
) -> tuple[Case, bool]:
    """Set a case's risk level and/or assignees (not announced: risk needs only the status); audited. Also says
    whether the case is open while its child (merges followed) has another open case."""
    async with uow:
        case = await _visible(command.case_id, uow=uow, context=context, action="update", method="PATCH", route=route)
        _check_version(case, command.expected_version)
        read_version, stored_history = case.version, len(case.history)
        if command.risk_level is not None:
            case.set_risk_level(command.risk_level)
        if command.assignees is not None:
            case.assign(command.assignees)
        if case.version != read_version and not await uow.cases.save(
            case, expected_version=read_version, stored_history=stored_history
        ):
            raise CaseConflict("case_version_conflict", case_id=case.id)
        duplicate = bool(await uow.cases.duplicate_open([case]))
        _audit(uow, context, action="update", method="PATCH", route=route, person_ids=[case.person_id], status=200)
        await uow.commit()
    return case, duplicate
