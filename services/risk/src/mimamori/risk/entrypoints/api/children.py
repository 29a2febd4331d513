"""Routes of the child view: one child's household, parents and younger siblings as of a month."""

from __future__ import annotations

from fastapi import APIRouter

from mimamori.kit.problems import Problem
from mimamori.risk.entrypoints.api.dependencies import ChildAccess, MonthDep, UowDep
from mimamori.risk.entrypoints.api.schemas import ChildRead
from mimamori.risk.service_layer import queries

ROUTE = "/v1/children/{person_id}"

router = APIRouter(prefix="/v1/children", tags=["こども"])


@router.get("/{person_id}", response_model=ChildRead, summary="こどもの世帯・親・弟妹を読む")
async def read_child(person_id: str, context: ChildAccess, month: MonthDep, uow: UowDep) -> ChildRead:
    """A child's household, parents (ひとり親 or not) and younger siblings, as of the month's last day."""
    try:
        child = await queries.read_child(person_id, month=month, uow=uow, context=context, route=ROUTE)
    except queries.ChildNotFound as exc:
        raise Problem(status=404, code="child_not_found", title="対象月に該当するこどもが見つかりません") from exc
    return ChildRead.of(child, month)
