"""Route of a source record's free text (概要, 主訴, 備考, 相談メモ, 理由): for individual case support only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from mimamori.ingest.adapters.layouts import FREE_TEXT_ROLES
from mimamori.ingest.entrypoints.api.dependencies import LoadingDep, UowDep
from mimamori.ingest.entrypoints.api.schemas import FreeTextField, FreeTextRead
from mimamori.ingest.service_layer import handlers
from mimamori.kit.auth import AccessContext, require
from mimamori.kit.problems import Problem

router = APIRouter(prefix="/v1/records", tags=["記録の自由記述"])

CaseSupport = Annotated[AccessContext, Depends(require(purposes=("case_support",), roles=FREE_TEXT_ROLES))]


@router.get("/{record_key}/free-text", response_model=FreeTextRead, summary="記録の自由記述 (個別ケース支援)")
async def read_free_text(record_key: str, context: CaseSupport, uow: UowDep, loading: LoadingDep) -> FreeTextRead:
    """The free text of one current source record; each source names the roles that may read it. Audited."""
    try:
        text = await handlers.read_free_text(
            record_key,
            uow=uow,
            layouts=loading.layouts,
            context=context,
            route=f"/v1/records/{record_key}/free-text",
        )
    except handlers.FreeTextNotFound as exc:
        raise Problem(status=404, code="free_text_not_found", title="該当する記録の自由記述はありません") from exc
    except handlers.FreeTextForbidden as exc:
        raise Problem(
            status=403, code="role_not_allowed", title="この役割ではこのデータ種別の自由記述を閲覧できません"
        ) from exc
    return FreeTextRead(
        record_key=text.record_key,
        source=text.source,
        fields=[FreeTextField(column=column, text=value) for column, value in text.fields],
    )
