"""Verifying the ledger: recompute the chain, check every signed checkpoint."""

from __future__ import annotations

from fastapi import APIRouter

from mimamori.audit.entrypoints.api.dependencies import Auditor, KeyDep, UowDep
from mimamori.audit.entrypoints.api.schemas import VerificationRead
from mimamori.audit.service_layer import queries

ROUTE = "/v1/verify"

router = APIRouter(prefix=ROUTE, tags=["検証"])


@router.get("", response_model=VerificationRead, summary="監査ログの改ざんを検証する")
async def verify(context: Auditor, uow: UowDep, key: KeyDep) -> VerificationRead:
    """The first row that does not fit the chain (if any) and every checkpoint that does not hold."""
    report = await queries.verify(uow=uow, context=context, route=ROUTE, open_token=key.open)
    return VerificationRead.of(report)
