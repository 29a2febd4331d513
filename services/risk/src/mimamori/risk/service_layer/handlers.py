"""risk's handlers: one per command or event."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from mimamori.risk.domain.facts import FactVersion
from mimamori.risk.domain.household import Household
from mimamori.risk.domain.month import AssessmentMonth
from mimamori.risk.service_layer import rescore_runs, scoring
from mimamori.risk.service_layer.unit_of_work import RiskUnitOfWork

log = logging.getLogger("mimamori.risk")


async def apply_household_change(household: Household, *, announced_at: datetime, uow: RiskUnitOfWork) -> bool:
    """Replace a stored household by identity's announcement of it; a stale version changes nothing."""
    stored = await uow.households.version_of(household.household_id)
    if not household.replaces(stored):
        log.info(
            "stale household announcement ignored",
            extra={"household_id": household.household_id, "version": household.version, "stored": stored},
        )
        return False
    await uow.households.replace(household, announced_at=announced_at)
    return True


async def household_members(household_id: str, *, uow: RiskUnitOfWork) -> set[str]:
    """The persons a stored household lists (touched when it changes)."""
    stored = await uow.households.get(household_id)
    return {m.person_id for m in stored.members} if stored else set()


async def store_source_records(versions: Sequence[FactVersion], *, uow: RiskUnitOfWork) -> set[str]:
    """Keep the announced fact versions; the persons their references name are touched."""
    if not versions:
        return set()
    await uow.facts.store_fact_versions(versions)
    return await uow.facts.persons_of_records([v.record_key for v in versions])


async def rescore_after(touched: set[str], *, months: set[str], uow: RiskUnitOfWork) -> None:
    """Re-score what new data touched, for the latest month and the months the new records belong to: a month
    seen for the first time (every child's D moved) gets a full re-score run, scheduled here and run in the
    background; so does a month whose run has not started yet (the run will see this data). Otherwise the
    children of the touched persons' households are re-scored in this unit of work."""
    latest = await uow.facts.latest_month()
    if latest is None:
        return
    for month in sorted({latest} | {m for m in months if m}):
        fresh = not await uow.assessments.any_for_month(month) and not await uow.runs.ever(month)
        if fresh or await uow.runs.pending_full(month):
            await rescore_runs.schedule(uow, month=month, reason="new_month")
        elif touched:
            await scoring.rescore(uow, month=AssessmentMonth.parse(month), touched=touched)
