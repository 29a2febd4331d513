"""identity's unit of work: the kit's transaction plus identity's repositories."""

from __future__ import annotations

from typing import Self

from sqlalchemy import Table

from mimamori.identity.adapters.references import ReferenceRepository, ResidentRepository
from mimamori.identity.adapters.repository import (
    DeliveryRowRepository,
    HouseholdRepository,
    NameHistoryRepository,
    PersonRepository,
    SourceRecordRepository,
)
from mimamori.kit.unit_of_work import UnitOfWork


class IdentityUnitOfWork(UnitOfWork):
    """One identity transaction."""

    records: SourceRecordRepository
    persons: PersonRepository
    names: NameHistoryRepository
    households: HouseholdRepository
    references: ReferenceRepository
    residents: ResidentRepository
    delivery_rows: DeliveryRowRepository

    def __init__(self, *, tables: dict[str, Table], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._tables = tables

    @property
    def tables(self) -> dict[str, Table]:
        """identity's tables (for the few writes that span several repositories, such as a merge)."""
        return self._tables

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        t = self._tables
        self.records = SourceRecordRepository(
            self.session, t["source_records"], t["source_record_versions"], t["record_links"]
        )
        self.persons = PersonRepository(self.session, t["persons"], t["record_links"])
        self.names = NameHistoryRepository(self.session, t["name_history"])
        self.households = HouseholdRepository(self.session, t["households"], t["household_memberships"])
        self.references = ReferenceRepository(
            self.session, t["source_references"], t["reference_keys"], t["review_decisions"], t["reference_history"]
        )
        self.residents = ResidentRepository(self.session, t)
        self.delivery_rows = DeliveryRowRepository(self.session, t["delivery_rows"])
        return self
