"""`/healthz` (the process answers) and `/readyz` (every module of this process started and caught up)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request

from mimamori.kit.problems import Problem

router = APIRouter(tags=["運用"])

Readiness = Callable[[], Awaitable[bool]]


@router.get("/healthz", summary="生存確認")
async def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz", summary="準備完了の確認", responses={503: {"description": "starting or catching up"}})
async def readyz(request: Request) -> dict[str, str]:
    """200 when every module of this process has started and has no backlog; 503 otherwise."""
    readiness: Callable[[], Readiness | None] = request.app.state.readiness
    check = readiness()
    if check is None:
        raise Problem(status=503, code="starting", title="起動中です")
    if not await check():
        raise Problem(status=503, code="catching_up", title="未処理のイベントを処理中です")
    return {"status": "ready"}
