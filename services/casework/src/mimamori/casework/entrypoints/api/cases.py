"""Routes of 児童相談 cases: open (from the candidate review, 支援対象の早期把握 or 個別ケース支援), list, read, set the
risk level and assignees (個別ケース支援 only)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from mimamori.casework.adapters.cases import CaseFilter
from mimamori.casework.domain.case import Case, CaseRejected, CaseStatus, Origin
from mimamori.casework.entrypoints.api.dependencies import ReadUowDep, UowDep
from mimamori.casework.entrypoints.api.schemas import (
    CaseCreate,
    CaseOriginSchema,
    CasePage,
    CaseRead,
    CaseUpdate,
    StatusChangeRead,
)
from mimamori.casework.service_layer import cases, handlers
from mimamori.kit.auth import AccessContext, require
from mimamori.kit.problems import Problem

CASE_ROLES = (
    "caseworker",
    "public_health_nurse",
    "midwife",
    "childcare_worker",
    "school_social_worker",
    "education_supervisor",
    "team_leader",
)
ROUTE = "/v1/cases"
ONE_ROUTE = "/v1/cases/{case_id}"

router = APIRouter(prefix="/v1/cases", tags=["ケース"])
CaseSupport = Annotated[AccessContext, Depends(require(purposes=("case_support",), roles=CASE_ROLES))]
CaseOpening = Annotated[AccessContext, Depends(require(purposes=("early_detection", "case_support"), roles=CASE_ROLES))]

TITLES = {
    "difficulty_required": "困難の類型を1つ以上指定してください",
    "origin_month_invalid": "判定の対象月が正しくありません",
    "origin_rule_invalid": "判定ルールの指定が正しくありません",
    "transition_not_allowed": "この状態からはその状態に移れません",
    "case_closed": "終結または見送りのケースは変更できません",
    "risk_level_required": "受理にはリスクレベル (1–4) が必要です",
    "risk_level_invalid": "リスクレベルは1から4です",
    "decline_reason_required": "見送りには理由が必要です",
    "reason_only_when_declined": "理由は見送りのときだけ指定できます",
    "assignee_invalid": "担当職員の指定が正しくありません",
    "too_many_assignees": "担当職員が多すぎます",
    "note_too_long": "記録が長すぎます",
}


def case_read(case: Case, *, duplicate_open_case: bool = False) -> CaseRead:
    """The API form of a case."""
    origin = case.origin
    return CaseRead(
        id=case.id,
        person_id=case.person_id,
        difficulty_types=list(case.difficulties),
        status=case.status,
        risk_level=case.risk_level,
        decline_reason=case.decline_reason,
        origin=CaseOriginSchema(
            rule_id=origin.rule_id, rule_version=origin.rule_version, month=origin.month, alert_id=origin.alert_id
        )
        if origin
        else None,
        assignees=list(case.assignees),
        opened_by=case.opened_by,
        opened_at=case.opened_at,
        version=case.version,
        duplicate_open_case=duplicate_open_case,
        history=[
            StatusChangeRead(from_status=h.from_status, to_status=h.to_status, by=h.by, at=h.at, note=h.note)
            for h in case.history
        ],
    )


def rejected(exc: CaseRejected) -> Problem:
    """A refused change as a problem."""
    return Problem(status=422, code=exc.code, title=TITLES.get(exc.code))


def case_problem(exc: Exception) -> Problem:
    """Not found, not assigned, or a conflict, as a problem."""
    if isinstance(exc, cases.CaseNotFound):
        return Problem(status=404, code="case_not_found", title="該当するケースが見つかりません")
    if isinstance(exc, cases.CaseNotAssigned):
        return Problem(status=403, code="case_not_assigned", title="担当していないケースは扱えません")
    assert isinstance(exc, cases.CaseConflict)
    if exc.code == "case_already_open":
        return Problem(
            status=409,
            code=exc.code,
            title="このこどもには終結していないケースがあります",
            extra={"case_id": exc.case_id} if exc.case_id else {},
        )
    return Problem(status=409, code=exc.code, title="他の職員が先にケースを変更しました。読み直してください")


CASE_ERRORS = (cases.CaseNotFound, cases.CaseNotAssigned, cases.CaseConflict)


@router.post("", status_code=201, response_model=CaseRead, summary="ケースを開く (検討中)")
async def open_case(body: CaseCreate, context: CaseOpening, uow: UowDep) -> CaseRead:
    """Open a case in triage for a child, usually from the candidate list (origin: rule, version, month)."""
    try:
        origin = Origin(**body.origin.model_dump()) if body.origin else None
        command = cases.OpenCase(
            person_id=body.person_id,
            difficulties=body.difficulty_types,
            origin=origin,
            assignees=body.assignees,
            note=body.note,
        )
        case = await cases.open_case(command, uow=uow, context=context, route=ROUTE, now=datetime.now(UTC))
    except CaseRejected as exc:
        raise rejected(exc) from exc
    except handlers.PersonNotFound as exc:
        raise Problem(status=404, code="person_not_found", title="該当する人が見つかりません") from exc
    except CASE_ERRORS as exc:
        raise case_problem(exc) from exc
    return case_read(case)


@router.get("", response_model=CasePage, summary="ケースの一覧")
async def list_cases(
    context: CaseSupport,
    uow: ReadUowDep,
    person_id: Annotated[
        str | None, Query(max_length=36, description="こどもの人ID (統合された人IDのケースも含む)")
    ] = None,
    status: Annotated[CaseStatus | None, Query(description="状態")] = None,
    open_only: Annotated[bool, Query(alias="open", description="true: 終結・見送り以外だけ")] = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> CasePage:
    """Cases, newest first; staff other than caseworkers and team leaders see only the cases assigned to them."""
    chosen = CaseFilter(person_id=person_id, status=status, open_only=open_only)
    total, found, duplicates = await cases.list_cases(
        chosen, uow=uow, context=context, route=ROUTE, limit=limit, offset=offset
    )
    return CasePage(
        total=total,
        items=[case_read(c, duplicate_open_case=c.id in duplicates) for c in found],
        limit=limit,
        offset=offset,
    )


@router.get("/{case_id}", response_model=CaseRead, summary="ケースを読む (履歴つき)")
async def read_case(case_id: str, context: CaseSupport, uow: ReadUowDep) -> CaseRead:
    """One case with its status history."""
    try:
        case, duplicate = await cases.get_case(case_id, uow=uow, context=context, route=ONE_ROUTE)
    except CASE_ERRORS as exc:
        raise case_problem(exc) from exc
    return case_read(case, duplicate_open_case=duplicate)


@router.patch("/{case_id}", response_model=CaseRead, summary="リスクレベル・担当職員を設定する")
async def update_case(case_id: str, body: CaseUpdate, context: CaseSupport, uow: UowDep) -> CaseRead:
    """Set the risk level (1–4, staff's judgement) and/or replace the assignees."""
    command = cases.UpdateCase(
        case_id=case_id, risk_level=body.risk_level, assignees=body.assignees, expected_version=body.expected_version
    )
    try:
        case, duplicate = await cases.update_case(command, uow=uow, context=context, route=ONE_ROUTE)
    except CaseRejected as exc:
        raise rejected(exc) from exc
    except CASE_ERRORS as exc:
        raise case_problem(exc) from exc
    return case_read(case, duplicate_open_case=duplicate)
