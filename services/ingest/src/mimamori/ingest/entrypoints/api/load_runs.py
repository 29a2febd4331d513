"""Routes of load runs: their counts and progress, and the rows they quarantined (reasons, never values)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from mimamori.ingest.entrypoints.api.dependencies import SystemOperation, UowDep
from mimamori.ingest.entrypoints.api.schemas import (
    LoadRunPage,
    LoadRunRead,
    QuarantinePage,
    QuarantineRowRead,
)
from mimamori.ingest.service_layer import handlers
from mimamori.kit.problems import Problem

router = APIRouter(prefix="/v1/load-runs", tags=["取込み"])

Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0)]


def _not_found(exc: Exception) -> Problem:
    return Problem(status=404, code="load_run_not_found", title="該当する取込み処理が見つかりません")


@router.get("", response_model=LoadRunPage, summary="取込み処理の一覧")
async def list_load_runs(context: SystemOperation, uow: UowDep, limit: Limit = 50, offset: Offset = 0) -> LoadRunPage:
    """Load runs, newest first."""
    runs, total = await handlers.list_runs(uow=uow, limit=limit, offset=offset)
    return LoadRunPage(items=[LoadRunRead.of(r) for r in runs], total=total, limit=limit, offset=offset)


@router.get("/{run_id}", response_model=LoadRunRead, summary="取込み処理の状況")
async def read_load_run(run_id: str, context: SystemOperation, uow: UowDep) -> LoadRunRead:
    """One run: status, counts, progress, error."""
    try:
        run = await handlers.get_run(run_id, uow=uow)
    except handlers.RunNotFound as exc:
        raise _not_found(exc) from exc
    return LoadRunRead.of(run)


@router.get("/{run_id}/quarantine", response_model=QuarantinePage, summary="隔離した行")
async def read_quarantine(
    run_id: str, context: SystemOperation, uow: UowDep, limit: Limit = 100, offset: Offset = 0
) -> QuarantinePage:
    """The rows a run quarantined, by row: where and why."""
    try:
        rows, total = await handlers.list_quarantine(run_id, uow=uow, limit=limit, offset=offset)
    except handlers.RunNotFound as exc:
        raise _not_found(exc) from exc
    return QuarantinePage(items=[QuarantineRowRead.of(r) for r in rows], total=total, limit=limit, offset=offset)
