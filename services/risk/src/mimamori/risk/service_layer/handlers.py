"""risk's handlers: one per command or event."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from mimamori.risk.domain.facts import FactVersion
from mimamori.risk.domain.household import Household, Placement
from mimamori.risk.domain.month import AssessmentMonth
from mimamori.risk.service_layer import rescore_runs, scoring
from mimamori.risk.service_layer.unit_of_work import RiskUnitOfWork

log = logging.getLogger("mimamori.risk")


@dataclass(frozen=True, slots=True)
class HouseholdApplied:
    """What a stored announcement touches: who any snapshot of the household listed or lists now, and which
    months it holds for (from its month_from until the household's next snapshot; None: every month after)."""

    persons: set[str]
    month_from: str
    until: str | None


async def apply_household_change(
    household: Household, *, announced_at: datetime, uow: RiskUnitOfWork
) -> HouseholdApplied | None:
    """Keep identity's announcement as the household's snapshot of its month (see `Timeline`); a lower version
    than the one stored for that month is stale and changes nothing (None)."""
    timeline = await uow.households.timeline(household.household_id)
    placement = timeline.place(month_from=household.month_from, version=household.version)
    if placement is Placement.STALE:
        log.info(
            "stale household announcement ignored",
            extra={"household_id": household.household_id, "version": household.version},
        )
        return None
    persons = await uow.households.persons_ever(household.household_id)
    if placement is Placement.RESET:
        await uow.households.reset(household, announced_at=announced_at)
    elif placement is Placement.SUPERSEDE:
        await uow.households.supersede(household, announced_at=announced_at)
    elif placement is Placement.HISTORY:
        await uow.households.keep_past(household, announced_at=announced_at)
    else:
        await uow.households.replace(household, announced_at=announced_at)
    until = None if placement is Placement.RESET else timeline.holds_until(household.month_from)
    return HouseholdApplied(
        persons=persons | {m.person_id for m in household.members}, month_from=household.month_from, until=until
    )


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
