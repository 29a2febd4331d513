"""What risk's routes share: the unit of work, the access they require, the assessment month."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated

from fastapi import Depends, Query, Request

from mimamori.kit.auth import AccessContext, require
from mimamori.kit.problems import Problem
from mimamori.risk.domain.month import AssessmentMonth, InvalidMonth
from mimamori.risk.service_layer.unit_of_work import RiskUnitOfWork

PURPOSES = ("early_detection", "case_support")
ROLES = ("caseworker", "public_health_nurse", "education_supervisor", "team_leader", "school_social_worker")
# The town's calendar decides which month is current (Japan keeps no daylight saving time).
JST = timezone(timedelta(hours=9), "JST")


def unit_of_work(request: Request) -> RiskUnitOfWork:
    """A fresh unit of work from the service's bootstrap."""
    uow: RiskUnitOfWork = request.app.state.uow_factory()
    return uow


def pseudonym_key(request: Request) -> str:
    """The secret key of criteria-design pseudonyms (from settings, never a constant in production)."""
    key: str = request.app.state.pseudonym_key
    return key


def assessment_month(
    month: Annotated[str | None, Query(description="対象月 YYYYMM (省略時は当月)")] = None,
) -> AssessmentMonth:
    """The requested month, or the current month in Japan."""
    if month is None:
        return AssessmentMonth.containing(datetime.now(UTC).astimezone(JST).date())
    try:
        return AssessmentMonth.parse(month)
    except InvalidMonth as exc:
        raise Problem(status=422, code="invalid_month", title="対象月はYYYYMM形式で指定してください") from exc


UowDep = Annotated[RiskUnitOfWork, Depends(unit_of_work)]
ChildAccess = Annotated[AccessContext, Depends(require(purposes=PURPOSES, roles=ROLES))]
MonthDep = Annotated[AssessmentMonth, Depends(assessment_month)]
PseudonymKeyDep = Annotated[str, Depends(pseudonym_key)]
