"""Routes of re-score runs: their progress, and asking for a full re-score of a month."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from mimamori.kit.auth import AccessContext, require
from mimamori.kit.problems import Problem
from mimamori.risk.adapters.runs import RescoreRun
from mimamori.risk.entrypoints.api.dependencies import MonthDep, UowDep
from mimamori.risk.service_layer import rescore_runs

# Runs hold no personal data: counts, a month, a cursor over household ids.
RunAccess = Annotated[
    AccessContext,
    Depends(require(purposes=("system_operation", "criteria_design"), roles=("sysadmin", "analyst"))),
]

router = APIRouter(prefix="/v1/rescore-runs", tags=["再判定"])


def _read(run: RescoreRun) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "month": run.month,
        "rules": [{"rule": r, "version": v} for r, v in run.rules] or "adopted",
        "reason": run.reason,
        "status": run.status,
        "progress": round(run.progress, 4),
        "households_total": run.households_total,
        "households_done": run.households_done,
        "children": run.children,
        "alerts": run.alerts,
        "first_month_rules": list(run.baseline),
        "requested_at": run.requested_at.isoformat(),
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "error": run.error or None,
    }


@router.get("", summary="再判定の実行状況")
async def list_runs(context: RunAccess, uow: UowDep, limit: Annotated[int, Query(ge=1, le=200)] = 20) -> dict[str, Any]:
    """The latest full re-score runs, newest first, with their progress."""
    async with uow:
        runs = await uow.runs.recent(limit=limit)
    return {"items": [_read(r) for r in runs]}


@router.get("/{run_id}", summary="再判定の進捗")
async def read_run(run_id: str, context: RunAccess, uow: UowDep) -> dict[str, Any]:
    """One run's progress."""
    async with uow:
        run = await uow.runs.get(run_id)
    if run is None:
        raise Problem(status=404, code="not_found", title="該当する再判定がありません")
    return _read(run)


@router.post("", status_code=202, summary="対象月の全員を再判定")
async def request_run(context: RunAccess, month: MonthDep, uow: UowDep) -> dict[str, Any]:
    """Schedule a full re-score of a month with every adopted rule (a pending one is reused)."""
    async with uow:
        run_id = await rescore_runs.schedule(uow, month=str(month), reason="requested")
        await uow.commit()
    return {"run_id": run_id, "month": str(month)}
