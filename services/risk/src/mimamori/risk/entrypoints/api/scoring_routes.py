"""Routes of scores: candidates, one child's months, aggregates, the alert feed, rules, eligibility lists."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query
from fastapi.responses import PlainTextResponse

from mimamori.kit.auth import AccessContext, require
from mimamori.kit.problems import Problem
from mimamori.risk.domain import view as views
from mimamori.risk.domain.rules.language import RuleInvalid
from mimamori.risk.entrypoints.api.dependencies import MonthDep, PseudonymKeyDep, UowDep
from mimamori.risk.entrypoints.api.schemas import CandidatePage
from mimamori.risk.service_layer import exports, lists

LIST_ROLES = ("caseworker", "public_health_nurse", "education_supervisor", "team_leader", "school_social_worker")
DESIGN_ROLES = ("analyst", "contractor_analyst")
CandidateAccess = Annotated[
    AccessContext,
    Depends(require(purposes=("early_detection", "case_support", "criteria_design"), roles=LIST_ROLES + DESIGN_ROLES)),
]
ChildScoresAccess = Annotated[
    AccessContext, Depends(require(purposes=("early_detection", "case_support"), roles=LIST_ROLES))
]
StatsAccess = Annotated[
    AccessContext,
    Depends(require(purposes=("policy_statistics",), roles=(*LIST_ROLES, "analyst"))),
]
RuleAccess = Annotated[
    AccessContext, Depends(require(purposes=("criteria_design",), roles=("analyst", "contractor_analyst")))
]
RuleAdmin = Annotated[AccessContext, Depends(require(purposes=("criteria_design",), roles=("analyst",)))]
EligibilityAccess = Annotated[
    AccessContext, Depends(require(purposes=("eligibility_check",), roles=("caseworker", "team_leader")))
]

router = APIRouter(prefix="/v1", tags=["リスク判定"])


def _not_found(exc: Exception) -> Problem:
    return Problem(status=404, code="not_found", title="該当するルールまたはこどもの判定がありません")


@router.get(
    "/rules/{rule_id}/candidates",
    summary="候補リスト",
    response_model=CandidatePage,
    response_model_exclude_unset=True,
)
async def list_candidates(
    rule_id: str,
    context: CandidateAccess,
    month: MonthDep,
    uow: UowDep,
    key: PseudonymKeyDep,
    min_total: Annotated[int | None, Query(description="合計点の下限 (スコア帯)")] = None,
    max_total: Annotated[int | None, Query(description="合計点の上限 (スコア帯)")] = None,
    school: Annotated[str | None, Query(description="学校コード")] = None,
    grade: Annotated[str | None, Query(description="学年")] = None,
    age_band: Annotated[str | None, Query(description="年齢帯")] = None,
    district: Annotated[str | None, Query(description="地区 (大字); 絞り込みのみで、行には出ない")] = None,
    case: Annotated[
        str | None,
        Query(
            pattern="^(open|none)$",
            description="ケース化の有無: open = 終結・見送り以外のケースがある, none = ない (省略時は両方)",
        ),
    ] = None,
    page: Annotated[int, Query(ge=1)] = 1,
    size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """Candidates under the adopted version; pseudonyms only under criteria_design. Each row says whether the child
    already has an open case in casework (`has_open_case`) and its status (`case_status`: triage 検討中, accepted
    受理, conference カンファレンス, support 支援中; null when none), as casework last announced it."""
    filters = {
        "min_total": min_total,
        "max_total": max_total,
        "school": school,
        "grade": grade,
        "age_band": age_band,
        "district": district,
        "case": case,
    }
    try:
        found = await lists.candidates(
            rule_id=rule_id,
            month=month,
            filters=filters,
            page=page,
            size=size,
            uow=uow,
            context=context,
            route="/v1/rules/{rule_id}/candidates",
        )
    except lists.NotFound as exc:
        raise _not_found(exc) from exc
    pseudonymous = context.purpose == "criteria_design"
    items = []
    for s in found.items:
        item: dict[str, Any] = {
            "total": s.total,
            "subscores": s.subscores,
            "school": s.school_code,
            "grade": s.grade,
            "age_band": views.age_band(s.age),
            "rule_version": s.rule_version,
            "has_open_case": s.person_id in found.open_cases,
            "case_status": found.open_cases.get(s.person_id),
        }
        if pseudonymous:
            item["pseudonym"] = lists.pseudonym(s.person_id, key=key)
        else:
            item["person_id"] = s.person_id
            item["explanation"] = s.explanation
        items.append(item)
    return {"month": str(month), "total": found.total, "page": page, "size": size, "items": items}


@router.get("/children/{person_id}/assessments", summary="こどもの判定の推移と説明")
async def child_assessments(person_id: str, context: ChildScoresAccess, uow: UowDep) -> dict[str, Any]:
    """Every month's assessment of a child under each adopted rule, with the explanation tree."""
    try:
        found = await lists.child_history(
            person_id, uow=uow, context=context, route="/v1/children/{person_id}/assessments"
        )
    except lists.NotFound as exc:
        raise _not_found(exc) from exc
    return {
        "person_id": person_id,
        "assessments": [
            {
                "rule": s.rule_id,
                "rule_version": s.rule_version,
                "month": s.month,
                "candidate": s.candidate,
                "total": s.total,
                "subscores": s.subscores,
                "explanation": s.explanation,
            }
            for s in found
        ],
    }


@router.get("/rules/{rule_id}/aggregates", summary="集計 (少人数セルは秘匿)")
async def aggregates(
    rule_id: str,
    context: StatsAccess,
    month: MonthDep,
    uow: UowDep,
    group_by: Annotated[str, Query(pattern="^(town|school|grade|age_band|district)$")] = "town",
) -> dict[str, Any]:
    """Scored children and candidates per fixed group; cells under 5 (and their complements) are null."""
    try:
        cells = await lists.aggregate(rule_id=rule_id, month=month, group_by=group_by, uow=uow)
    except lists.NotFound as exc:
        raise _not_found(exc) from exc
    return {"rule": rule_id, "month": str(month), "group_by": group_by, "min_cell": lists.MIN_CELL, "cells": cells}


@router.get("/indicators/correlations", summary="指標の相関 (少人数セルは秘匿)")
async def correlations(
    context: StatsAccess,
    month: MonthDep,
    uow: UowDep,
    level: Annotated[str, Query(pattern="^(rule|subscore|item)$")] = "subscore",
) -> dict[str, Any]:
    """Co-occurrence counts and phi coefficients between every pair of indicators (candidacy per rule, sub-scores,
    or items) over the children both were assessed on; a pair with any 2x2 cell under 5 is suppressed whole."""
    found = await lists.correlations(month=month, level=level, uow=uow)
    return {"month": str(month), "level": level, "min_cell": lists.MIN_CELL, **found}


@router.get("/alerts", summary="アラート")
async def alert_feed(
    context: ChildScoresAccess,
    uow: UowDep,
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    rule: str | None = None,
) -> dict[str, Any]:
    """Threshold crossings after a sequence number (poll with the last `seq`)."""
    rows = await lists.alerts(after=after, limit=limit, rule_id=rule, uow=uow, context=context, route="/v1/alerts")
    return {
        "items": [
            {
                "seq": r.seq,
                "alert_id": r.alert_id,
                "rule": r.rule_id,
                "rule_version": r.rule_version,
                "month": r.month,
                "person_id": r.person_id,
                "previous_band": r.previous_band,
                "band": r.band,
                "previous_total": r.previous_total,
                "total": r.total,
                "raised_at": r.raised_at.isoformat(),
            }
            for r in rows
        ]
    }


@router.get("/rules", summary="ルールと全バージョン")
async def rule_versions(context: RuleAccess, uow: UowDep) -> dict[str, Any]:
    """Every version of every rule (text included), which is adopted."""
    async with uow:
        versions = await uow.rules.versions()
    return {
        "items": [
            {
                "rule": v.rule_id,
                "version": v.version,
                "status": v.status,
                "title": v.title,
                "digest": v.digest,
                "created_by": v.created_by,
                "created_at": v.created_at.isoformat(),
                "text": v.text,
            }
            for v in versions
        ]
    }


@router.post("/rules/{rule_id}/versions", status_code=201, summary="ルールの下書きを登録")
async def add_version(
    rule_id: str, context: RuleAdmin, uow: UowDep, text: Annotated[str, Body(media_type="text/yaml")]
) -> dict[str, Any]:
    """Validate and store a draft version (YAML body)."""
    try:
        rule = await lists.add_draft(rule_id, text=text, uow=uow, by=context.subject)
    except RuleInvalid as exc:
        raise Problem(
            status=422, code="rule_invalid", title="ルールの書き方に誤りがあります", detail="\n".join(exc.errors)
        ) from exc
    except ValueError as exc:
        raise Problem(status=409, code="rule_version_conflict", title="ルールのidまたはバージョンが合いません") from exc
    return {"rule": rule.id, "version": rule.version, "status": "draft"}


@router.post("/rules/{rule_id}/versions/{version}/dry-run", summary="下書きの試行")
async def dry_run(
    rule_id: str, version: int, context: RuleAdmin, month: MonthDep, uow: UowDep, key: PseudonymKeyDep
) -> dict[str, Any]:
    """Who would enter, leave or change if this version were adopted (pseudonyms)."""
    try:
        result = await lists.dry_run(rule_id, version, month=month, uow=uow)
    except lists.NotFound as exc:
        raise _not_found(exc) from exc
    for change in ("entered", "left", "changed"):
        result[change] = [lists.pseudonym(p, key=key) for p in result[change]]
    return result


@router.post("/rules/{rule_id}/versions/{version}/adopt", summary="バージョンを採用 (全員を再判定)")
async def adopt(rule_id: str, version: int, context: RuleAdmin, uow: UowDep) -> dict[str, Any]:
    """Adopt a version; a run re-scores everyone with it for the latest month (follow it at /v1/rescore-runs)."""
    try:
        run_id = await lists.adopt(rule_id, version, month=None, uow=uow)
    except lists.NotFound as exc:
        raise _not_found(exc) from exc
    return {"rule": rule_id, "adopted": version, "rescore_run": run_id}


@router.get("/eligibility/{list_id}", summary="受給要件を満たすが受給していない一覧")
async def eligibility(list_id: str, context: EligibilityAccess, month: MonthDep, uow: UowDep) -> dict[str, Any]:
    """E1 / E2 / E3 (purpose eligibility_check only: the one use of tax data)."""
    if list_id not in ("E1", "E2", "E3"):
        raise Problem(status=404, code="not_found", title="一覧は E1, E2, E3 のいずれかです")
    items = await lists.eligibility(list_id, month=month, uow=uow, context=context, route="/v1/eligibility/{list_id}")
    return {"list": list_id, "month": str(month), "items": items}


@router.get("/rules/{rule_id}/export", response_class=PlainTextResponse, summary="判定のCSV")
async def export_rule(rule_id: str, context: ChildScoresAccess, month: MonthDep, uow: UowDep) -> str:
    """宛名番号, sub-scores, total per scored child (as `mimamori risk export`)."""
    try:
        rows = await exports.rule_rows(
            rule_id, month=month, uow=uow, context=context, route="/v1/rules/{rule_id}/export"
        )
    except exports.UnknownRule as exc:
        raise _not_found(exc) from exc
    return exports.as_csv(rows)


@router.get("/eligibility/{list_id}/export", response_class=PlainTextResponse, summary="受給要件一覧のCSV")
async def export_eligibility(list_id: str, context: EligibilityAccess, month: MonthDep, uow: UowDep) -> str:
    """宛名番号 per person on the list."""
    if list_id not in ("E1", "E2", "E3"):
        raise Problem(status=404, code="not_found", title="一覧は E1, E2, E3 のいずれかです")
    rows = await exports.eligibility_rows(
        list_id, month=month, uow=uow, context=context, route="/v1/eligibility/{list_id}/export"
    )
    return exports.as_csv(rows)
