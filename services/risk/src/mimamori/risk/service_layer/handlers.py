"""risk's handlers: one per command or event."""

from __future__ import annotations

import logging
from datetime import datetime

from mimamori.risk.domain.household import Household
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
