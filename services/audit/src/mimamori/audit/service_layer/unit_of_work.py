"""audit's unit of work: the kit's transaction plus the ledger and the checkpoints."""

from __future__ import annotations

from typing import Self

from sqlalchemy import Table

from mimamori.audit.adapters.checkpoints import CheckpointRepository
from mimamori.audit.adapters.ledger import LedgerRepository
from mimamori.kit.unit_of_work import UnitOfWork


class AuditUnitOfWork(UnitOfWork):
    """One audit transaction."""

    ledger: LedgerRepository
    checkpoints: CheckpointRepository

    def __init__(self, *, tables: dict[str, Table], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._tables = tables

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.ledger = LedgerRepository(self.session, self._tables)
        self.checkpoints = CheckpointRepository(self.session, self._tables)
        return self
