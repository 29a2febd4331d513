"""Route of file delivery: the raw body is streamed to disk, kept, and its load queued (202)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from mimamori.ingest.adapters.file_store import TooLarge
from mimamori.ingest.domain.delivery import FileNameRejected
from mimamori.ingest.entrypoints.api.dependencies import LoadingDep, SystemOperation, WorkerDep
from mimamori.ingest.entrypoints.api.schemas import LoadRunRead
from mimamori.ingest.service_layer import handlers
from mimamori.kit.problems import Problem

ROUTE = "/v1/files"
TITLES = {
    "invalid_file_name": "ファイル名の形式が正しくありません",
    "unknown_layout": "登録されていないデータ種別です",
    "layout_not_supported": "このデータ種別の取込みにはまだ対応していません",
    "wrong_extension": "ファイルの種類が正しくありません",
}

router = APIRouter(prefix=ROUTE, tags=["ファイル受付"])

BINARY_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


def _too_large(limit: int) -> Problem:
    return Problem(
        status=413,
        code="file_too_large",
        detail=f"ファイルの大きさの上限は {limit:,} バイトです",
        extra={"max_bytes": limit},
    )


@router.post(
    "",
    status_code=202,
    response_model=LoadRunRead,
    summary="ファイルを受け付け、取込みを開始する",
    openapi_extra=BINARY_BODY,
)
async def upload_file(
    request: Request,
    response: Response,
    context: SystemOperation,
    loading: LoadingDep,
    worker: WorkerDep,
    file_name: Annotated[str, Query(min_length=1, max_length=200, description="e.g. jumin_202604.csv")],
) -> LoadRunRead:
    """Keep the delivered file (the raw request body) and load it in the background."""
    limit: int = request.app.state.max_upload_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    try:
        run = await handlers.receive_file(
            file_name, chunks=request.stream(), loading=loading, context=context, route=ROUTE, max_bytes=limit
        )
    except FileNameRejected as exc:
        raise Problem(status=422, code=exc.code, title=TITLES.get(exc.code), detail=exc.message) from exc
    except TooLarge as exc:
        raise _too_large(limit) from exc
    worker.submit(run.id)
    response.headers["Location"] = f"/v1/load-runs/{run.id}"
    return LoadRunRead.of(run)
