"""Routes of households: a household's size and children as of a month."""

from __future__ import annotations

from fastapi import APIRouter

from mimamori.kit.problems import Problem
from mimamori.risk.entrypoints.api.dependencies import ChildAccess, MonthDep, UowDep
from mimamori.risk.entrypoints.api.schemas import ChildRead, HouseholdSummaryRead
from mimamori.risk.service_layer import queries

ROUTE = "/v1/households/{household_id}/summary"

router = APIRouter(prefix="/v1/households", tags=["世帯"])


@router.get("/{household_id}/summary", response_model=HouseholdSummaryRead, summary="世帯の概要を読む")
async def read_household_summary(
    household_id: str, context: ChildAccess, month: MonthDep, uow: UowDep
) -> HouseholdSummaryRead:
    """A household's member counts and its children, as of the month's last day."""
    try:
        summary = await queries.read_household_summary(household_id, month=month, uow=uow, context=context, route=ROUTE)
    except queries.HouseholdNotFound as exc:
        raise Problem(status=404, code="household_not_found", title="該当する世帯が見つかりません") from exc
    return HouseholdSummaryRead(
        household_id=summary.household_id,
        version=summary.version,
        month=str(month),
        as_of=month.last_day,
        member_count=summary.member_count,
        resident_count=summary.resident_count,
        children=[ChildRead.of(c, month) for c in summary.children],
    )
