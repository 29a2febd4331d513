"""The checkpoints table over SQLAlchemy Core (insert-only, like the ledger)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from mimamori.audit.adapters.tables import CHECKPOINTS
from mimamori.audit.domain.checkpoint import Checkpoint, StoredCheckpoint


class CheckpointRepository:
    """Signed chain heads."""

    def __init__(self, session: AsyncSession, tables: Mapping[str, Table]) -> None:
        self._session = session
        self._t = tables[CHECKPOINTS]

    async def add(self, checkpoint: Checkpoint, *, key_id: str, token: str) -> StoredCheckpoint:
        """Store a signed checkpoint."""
        result = await self._session.execute(
            insert(self._t)
            .values(
                seq=checkpoint.seq,
                hash=checkpoint.hash,
                signed_at=checkpoint.signed_at,
                key_id=key_id,
                token=token,
            )
            .returning(self._t.c.id)
        )
        return StoredCheckpoint(
            id=result.scalar_one(),
            seq=checkpoint.seq,
            hash=checkpoint.hash,
            signed_at=checkpoint.signed_at,
            key_id=key_id,
            token=token,
        )

    async def latest(self) -> StoredCheckpoint | None:
        """The newest checkpoint."""
        row = (await self._session.execute(select(self._t).order_by(self._t.c.id.desc()).limit(1))).first()
        return _checkpoint(row) if row is not None else None

    async def all(self) -> list[StoredCheckpoint]:
        """Every checkpoint, oldest first."""
        rows = await self._session.execute(select(self._t).order_by(self._t.c.id))
        return [_checkpoint(r) for r in rows]


def _checkpoint(row: Any) -> StoredCheckpoint:
    signed_at: datetime = row.signed_at
    return StoredCheckpoint(
        id=row.id,
        seq=row.seq,
        hash=row.hash,
        signed_at=signed_at if signed_at.tzinfo is not None else signed_at.replace(tzinfo=UTC),
        key_id=row.key_id,
        token=row.token,
    )
