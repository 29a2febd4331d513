"""Signed checkpoints of the chain head: sign one now, fetch the latest to publish it outside the database."""

from __future__ import annotations

from fastapi import APIRouter, Request

from mimamori.audit.entrypoints.api.dependencies import CheckpointUser, KeyDep, UowDep
from mimamori.audit.entrypoints.api.schemas import CheckpointRead
from mimamori.audit.service_layer import handlers
from mimamori.kit.problems import Problem

router = APIRouter(prefix="/v1/checkpoints", tags=["チェックポイント"])


@router.post("", status_code=201, response_model=CheckpointRead, summary="チェーンの先頭に署名する")
async def create_checkpoint(context: CheckpointUser, uow: UowDep, key: KeyDep, request: Request) -> CheckpointRead:
    """Sign the current chain head now (the schedule also does this periodically)."""
    stored = await handlers.sign_checkpoint(
        uow=uow, key=key, municipality=request.app.state.municipality, only_if_moved=False
    )
    assert stored is not None
    return CheckpointRead.of(stored, public_key_pem=key.public_pem(), public_jwk=key.public_jwk())


@router.get("/latest", response_model=CheckpointRead, summary="最新のチェックポイントを取得する")
async def latest_checkpoint(context: CheckpointUser, uow: UowDep, key: KeyDep) -> CheckpointRead:
    """The newest signed head and the public key that verifies it."""
    async with uow:
        latest = await uow.checkpoints.latest()
    if latest is None:
        raise Problem(status=404, code="no_checkpoint", title="チェックポイントはまだありません")
    return CheckpointRead.of(latest, public_key_pem=key.public_pem(), public_jwk=key.public_jwk())
