"""The ledger's entries, filtered: for auditors under 監査・開示請求対応 only."""

from __future__ import annotations

from fastapi import APIRouter

from mimamori.audit.entrypoints.api.dependencies import AfterSeq, Auditor, Limit, QueryDep, UowDep
from mimamori.audit.entrypoints.api.schemas import EntryPageRead
from mimamori.audit.service_layer import queries

ROUTE = "/v1/entries"

router = APIRouter(prefix=ROUTE, tags=["監査ログ"])


@router.get("", response_model=EntryPageRead, summary="監査ログを検索する")
async def list_entries(
    context: Auditor, uow: UowDep, query: QueryDep, after_seq: AfterSeq = 0, limit: Limit = 100
) -> EntryPageRead:
    """Entries in seq order, by period, actor, purpose, outcome or recorder; the read is itself recorded."""
    page = await queries.list_entries(query, uow=uow, context=context, route=ROUTE, after_seq=after_seq, limit=limit)
    return EntryPageRead.of(page, limit=limit)
