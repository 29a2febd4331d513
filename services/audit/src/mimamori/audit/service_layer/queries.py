"""What auditors ask of the ledger. Each read is itself an access and is appended to the ledger in the same
transaction (recorder "audit"), so reading the log leaves a trace that cannot be removed either."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from mimamori.audit.adapters.event_mapping import access_fields
from mimamori.audit.domain.ledger import EntryQuery, LedgerEntry, parse_moment
from mimamori.audit.domain.reviews import MassLookup, mass_lookups, unusual_reasons
from mimamori.audit.domain.verification import TokenOpener, VerificationReport
from mimamori.audit.service_layer.unit_of_work import AuditUnitOfWork
from mimamori.audit.service_layer.verification import verify_ledger
from mimamori.kit.audit_trail import access_event
from mimamori.kit.auth import AccessContext

RECORDER = "audit"
SCAN_PAGE = 1000


@dataclass(frozen=True, slots=True)
class EntryPage:
    """Entries in seq order and the cursor of the next page (None on the last)."""

    entries: list[LedgerEntry]
    next_after_seq: int | None


@dataclass(frozen=True, slots=True)
class UnusualAccess:
    """One access flagged for review, and why."""

    entry: LedgerEntry
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class UnusualReview:
    """The accesses of a period that deserve a second look."""

    since: datetime
    until: datetime
    accesses: list[UnusualAccess]
    mass_lookups: list[MassLookup]
    truncated: bool


async def record_read(
    uow: AuditUnitOfWork, *, context: AccessContext, route: str, action: str, person_ids: Iterable[str]
) -> None:
    """Append the auditor's own access to the ledger, in the reading transaction."""
    event = access_event(
        recorder=RECORDER, context=context, action=action, method="GET", route=route, person_ids=person_ids
    )
    await uow.ledger.append([access_fields(event)])


def _page(found: list[LedgerEntry], limit: int) -> EntryPage:
    entries = found[:limit]
    return EntryPage(entries=entries, next_after_seq=entries[-1].seq if len(found) > limit else None)


def _persons(entries: Iterable[LedgerEntry]) -> set[str]:
    return {p for e in entries for p in e.index.person_ids}


async def list_entries(
    query: EntryQuery, *, uow: AuditUnitOfWork, context: AccessContext, route: str, after_seq: int, limit: int
) -> EntryPage:
    """Ledger entries matching the filters, in seq order."""
    async with uow:
        page = _page(await uow.ledger.entries(query, after_seq=after_seq, limit=limit + 1), limit)
        await record_read(uow, context=context, route=route, action="read", person_ids=_persons(page.entries))
        await uow.commit()
    return page


async def person_accesses(
    person_id: str,
    query: EntryQuery,
    *,
    uow: AuditUnitOfWork,
    context: AccessContext,
    route: str,
    after_seq: int,
    limit: int,
) -> EntryPage:
    """Every access to one person (開示請求, disclosure request)."""
    async with uow:
        found = await uow.ledger.for_person(person_id, query, after_seq=after_seq, limit=limit + 1)
        page = _page(found, limit)
        await record_read(uow, context=context, route=route, action="read", person_ids=[person_id])
        await uow.commit()
    return page


async def actor_accesses(
    actor: str,
    query: EntryQuery,
    *,
    uow: AuditUnitOfWork,
    context: AccessContext,
    route: str,
    after_seq: int,
    limit: int,
) -> EntryPage:
    """Every access by one actor."""
    scoped = replace(query, actor=actor)
    return await list_entries(scoped, uow=uow, context=context, route=route, after_seq=after_seq, limit=limit)


async def review_unusual(
    *,
    uow: AuditUnitOfWork,
    context: AccessContext,
    route: str,
    since: datetime,
    until: datetime,
    threshold: int,
    window: timedelta,
    limit: int,
) -> UnusualReview:
    """Night and weekend use (JST), break-glass, and mass lookups in a period."""
    flagged: list[UnusualAccess] = []
    truncated = False
    async with uow:
        after = 0
        while not truncated:
            batch = await uow.ledger.entries(EntryQuery(since=since, until=until), after_seq=after, limit=SCAN_PAGE)
            for entry in batch:
                moment = parse_moment(entry.index.occurred_at)
                reasons = unusual_reasons(moment, break_glass=entry.index.break_glass) if moment else []
                if reasons:
                    if len(flagged) == limit:
                        truncated = True
                        break
                    flagged.append(UnusualAccess(entry=entry, reasons=tuple(reasons)))
            if len(batch) < SCAN_PAGE:
                break
            after = batch[-1].seq
        bursts = mass_lookups(await uow.ledger.touches(since=since, until=until), threshold=threshold, window=window)
        await record_read(uow, context=context, route=route, action="review", person_ids=())
        await uow.commit()
    return UnusualReview(since=since, until=until, accesses=flagged, mass_lookups=bursts, truncated=truncated)


async def verify(
    *, uow: AuditUnitOfWork, context: AccessContext, route: str, open_token: TokenOpener
) -> VerificationReport:
    """Verify the whole ledger and every checkpoint; the verification is recorded like any other read."""
    async with uow:
        report = await verify_ledger(ledger=uow.ledger, checkpoints=uow.checkpoints, open_token=open_token)
        await record_read(uow, context=context, route=route, action="verify", person_ids=())
        await uow.commit()
    return report
