"""risk's unit of work: the kit's transaction plus risk's repositories."""

from __future__ import annotations

from typing import Self

from sqlalchemy import Table

from mimamori.kit.unit_of_work import UnitOfWork
from mimamori.risk.adapters.assessments import AssessmentRepository, RuleRepository
from mimamori.risk.adapters.cases import CaseStatusRepository
from mimamori.risk.adapters.read_model import ReadModelRepository
from mimamori.risk.adapters.repository import HouseholdRepository
from mimamori.risk.adapters.runs import RunRepository


class RiskUnitOfWork(UnitOfWork):
    """One risk transaction."""

    households: HouseholdRepository
    facts: ReadModelRepository
    rules: RuleRepository
    assessments: AssessmentRepository
    runs: RunRepository
    cases: CaseStatusRepository

    def __init__(self, *, tables: dict[str, Table], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._tables = tables

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.households = HouseholdRepository(
            self.session,
            households=self._tables["households"],
            members=self._tables["household_members"],
            history=self._tables["household_history"],
            history_members=self._tables["household_history_members"],
        )
        self.facts = ReadModelRepository(self.session, tables=self._tables, households=self.households)
        self.rules = RuleRepository(self.session, table=self._tables["rule_versions"])
        self.assessments = AssessmentRepository(
            self.session, assessments=self._tables["assessments"], alerts=self._tables["alerts"]
        )
        self.runs = RunRepository(self.session, table=self._tables["rescore_runs"])
        self.cases = CaseStatusRepository(
            self.session, cases=self._tables["case_statuses"], aliases=self._tables["person_aliases"]
        )
        return self
