"""casework's unit of work: the kit's transaction plus casework's repositories."""

from __future__ import annotations

from typing import Self

from sqlalchemy import Table

from mimamori.casework.adapters.aliases import AliasRepository
from mimamori.casework.adapters.cases import CaseRepository
from mimamori.casework.adapters.repository import KnownPersonRepository, ObservationRepository
from mimamori.kit.unit_of_work import UnitOfWork


class CaseworkUnitOfWork(UnitOfWork):
    """One casework transaction."""

    observations: ObservationRepository
    persons: KnownPersonRepository
    cases: CaseRepository
    aliases: AliasRepository

    def __init__(self, *, tables: dict[str, Table], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._tables = tables

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.observations = ObservationRepository(
            self.session,
            self._tables["observations"],
            known=self._tables["known_persons"],
            aliases=self._tables["person_aliases"],
            rows=self.rows,
        )
        self.aliases = AliasRepository(
            self.session, self._tables["person_aliases"], known=self._tables["known_persons"]
        )
        self.persons = KnownPersonRepository(self.session, self._tables["known_persons"])
        self.cases = CaseRepository(
            self.session,
            cases=self._tables["cases"],
            assignees=self._tables["case_assignees"],
            history=self._tables["case_history"],
            aliases=self.aliases,
        )
        return self
