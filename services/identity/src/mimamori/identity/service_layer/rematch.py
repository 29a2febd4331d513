"""Matching again after the matching rules changed: every person filed under today's blocking keys, and every
reference without a link resolved again. Links that apply (certain, or accepted in review) and staff decisions are
kept as they are; a reference whose answer changes is announced like any other re-resolution."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from mimamori.identity.domain.matching import resident_keys
from mimamori.identity.service_layer.resolution import Origin, resolve_records
from mimamori.identity.service_layer.unit_of_work import IdentityUnitOfWork

log = logging.getLogger(__name__)

PAGE = 500


@dataclass(frozen=True, slots=True)
class RematchCounts:
    """What a rematch went through."""

    persons: int
    records: int


async def rematch(*, units: Callable[[], IdentityUnitOfWork], origin: Origin, page: int = PAGE) -> RematchCounts:
    """Refile every person under the current keys, then resolve again every record holding an unlinked reference."""
    persons = 0
    after = ""
    while True:
        async with units() as uow:
            ids = await uow.persons.ids_after(after, limit=page)
            for resident in await uow.residents.residents(ids):
                await uow.residents.file_keys(resident.person_id, resident_keys(resident))
            await uow.commit()
        if not ids:
            break
        persons += len(ids)
        after = ids[-1]
    records = 0
    after = ""
    while True:
        async with units() as uow:
            keys = await uow.references.records_without_link(after=after, limit=page)
            if keys:
                await resolve_records(keys, uow=uow, origin=origin)
            await uow.commit()
        if not keys:
            break
        records += len(keys)
        after = keys[-1]
    log.info("rematch done", extra={"persons": persons, "records": records})
    return RematchCounts(persons=persons, records=records)
