"""Every access by one actor (a staff account)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from mimamori.audit.entrypoints.api.dependencies import AfterSeq, Auditor, Limit, ScopeDep, UowDep
from mimamori.audit.entrypoints.api.schemas import EntryPageRead
from mimamori.audit.service_layer import queries

ROUTE = "/v1/actors/{actor}/accesses"

router = APIRouter(prefix="/v1/actors", tags=["監査ログ"])


@router.get("/{actor}/accesses", response_model=EntryPageRead, summary="職員のアクセスをすべて見る")
async def actor_accesses(
    actor: Annotated[str, Path(max_length=200, description="職員のアカウントID")],
    context: Auditor,
    uow: UowDep,
    query: ScopeDep,
    after_seq: AfterSeq = 0,
    limit: Limit = 100,
) -> EntryPageRead:
    """Every recorded access by this actor, in seq order."""
    page = await queries.actor_accesses(
        actor, query, uow=uow, context=context, route=ROUTE, after_seq=after_seq, limit=limit
    )
    return EntryPageRead.of(page, limit=limit)
