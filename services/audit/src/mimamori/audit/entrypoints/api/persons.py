"""Every access to one person (開示請求: a person's request to know who looked at their data)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from mimamori.audit.entrypoints.api.dependencies import AfterSeq, Auditor, Limit, QueryDep, UowDep
from mimamori.audit.entrypoints.api.schemas import EntryPageRead
from mimamori.audit.service_layer import queries

ROUTE = "/v1/persons/{person_id}/accesses"

router = APIRouter(prefix="/v1/persons", tags=["開示請求"])


@router.get("/{person_id}/accesses", response_model=EntryPageRead, summary="本人へのアクセスをすべて見る")
async def person_accesses(
    person_id: Annotated[str, Path(max_length=64)],
    context: Auditor,
    uow: UowDep,
    query: QueryDep,
    after_seq: AfterSeq = 0,
    limit: Limit = 100,
) -> EntryPageRead:
    """Every recorded access that touched this person, in seq order."""
    page = await queries.person_accesses(
        person_id, query, uow=uow, context=context, route=ROUTE, after_seq=after_seq, limit=limit
    )
    return EntryPageRead.of(page, limit=limit)
