"""risk's unit of work: the kit's transaction plus risk's repositories."""

from __future__ import annotations

from typing import Self

from sqlalchemy import Table

from mimamori.kit.unit_of_work import UnitOfWork
from mimamori.risk.adapters.repository import HouseholdRepository


class RiskUnitOfWork(UnitOfWork):
    """One risk transaction."""

    households: HouseholdRepository

    def __init__(self, *, tables: dict[str, Table], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._tables = tables

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.households = HouseholdRepository(
            self.session, households=self._tables["households"], members=self._tables["household_members"]
        )
        return self
