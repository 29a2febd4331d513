"""ingest's unit of work: the kit's transaction plus ingest's repositories."""

from __future__ import annotations

from typing import Self

from sqlalchemy import Table

from mimamori.ingest.adapters.repository import (
    FileRepository,
    FreeTextRepository,
    QuarantineRepository,
    RunRepository,
    SourceRecordRepository,
)
from mimamori.kit.unit_of_work import UnitOfWork


class IngestUnitOfWork(UnitOfWork):
    """One ingest transaction."""

    files: FileRepository
    runs: RunRepository
    quarantine: QuarantineRepository
    records: SourceRecordRepository
    free_texts: FreeTextRepository

    def __init__(self, *, tables: dict[str, Table], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._tables = tables

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.files = FileRepository(self.session, self._tables["delivered_files"])
        self.runs = RunRepository(self.session, self._tables["load_runs"], self._tables["delivered_files"])
        self.quarantine = QuarantineRepository(self.session, self._tables["quarantine"])
        self.records = SourceRecordRepository(self.session, self._tables["source_records"])
        self.free_texts = FreeTextRepository(self.session, self._tables["free_texts"])
        return self
