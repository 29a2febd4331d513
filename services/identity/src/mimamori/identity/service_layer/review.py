"""Review and correction: the queue of probable links, accept and reject, manual merge and lossless unmerge.

Every change is audited in the same unit of work and announced (ReferenceResolved, PersonsMerged,
PersonUnmerged, HouseholdChanged); a rejected candidate is remembered as certainly-not and never proposed again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update

from mimamori.identity.adapters import events
from mimamori.identity.adapters.references import StoredReference
from mimamori.identity.domain.matching import Resident
from mimamori.identity.service_layer import handlers
from mimamori.identity.service_layer.resolution import Origin, person_changed, resolve_records
from mimamori.identity.service_layer.unit_of_work import IdentityUnitOfWork
from mimamori.kit.audit_trail import access_event, record_access
from mimamori.kit.auth import AccessContext

SERVICE = "identity"


class ReviewError(LookupError):
    """A review or correction that cannot be done; `code` says why."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """A reference waiting for review, with the residents it may be and the evidence for each."""

    reference: StoredReference
    residents: dict[str, Resident]
    decisions: list[dict[str, Any]]


def _audit(
    uow: IdentityUnitOfWork, *, context: AccessContext, action: str, method: str, route: str, person_ids: list[str]
) -> None:
    record_access(
        uow,
        access_event(
            recorder=SERVICE,
            context=context,
            action=action,
            method=method,
            route=route,
            person_ids=sorted(set(person_ids)),
        ),
    )


async def review_queue(
    *, uow: IdentityUnitOfWork, context: AccessContext, route: str, limit: int, offset: int
) -> list[ReviewItem]:
    """References waiting for review, both sides with the evidence."""
    async with uow:
        items = []
        for ref in await uow.references.queue(limit=limit, offset=offset):
            items.append(await _item(ref, uow=uow))
        _audit(
            uow,
            context=context,
            action="read",
            method="GET",
            route=route,
            person_ids=[pid for item in items for pid in item.residents],
        )
        await uow.commit()
    return items


async def _item(ref: StoredReference, *, uow: IdentityUnitOfWork) -> ReviewItem:
    ids = [c["person_id"] for c in ref.candidates]
    residents = {r.person_id: r for r in await uow.residents.residents(ids)}
    return ReviewItem(
        reference=ref, residents=residents, decisions=await uow.references.decisions(ref.record_key, ref.idx)
    )


async def decide(
    record_key: str,
    idx: int,
    *,
    person_id: str,
    accept: bool,
    uow: IdentityUnitOfWork,
    context: AccessContext,
    route: str,
) -> StoredReference:
    """Accept a candidate (the link applies) or reject it (certainly-not, never proposed again)."""
    async with uow:
        ref = await uow.references.get(record_key, idx)
        if ref is None or not ref.present:
            raise ReviewError("reference_not_found")
        if await uow.persons.get(person_id) is None:
            raise ReviewError("person_not_found")
        await uow.references.decide(
            record_key, idx, person_id=person_id, decision="accept" if accept else "reject", actor=context.subject
        )
        accepted = person_id if accept else (None if ref.accepted_person_id == person_id else ref.accepted_person_id)
        await uow.references.save_answer(replace(ref, accepted_person_id=accepted))
        await resolve_records([record_key], uow=uow, origin=Origin(actor=context.subject, purpose=context.purpose))
        _audit(uow, context=context, action="update", method="POST", route=route, person_ids=[person_id])
        await uow.commit()
        found = await uow.references.get(record_key, idx)
    assert found is not None
    return found


async def merge(
    *,
    surviving: str,
    merged: str,
    reason: str,
    uow: IdentityUnitOfWork,
    context: AccessContext,
    route: str,
) -> str:
    """Merge two person entries found to be one person; returns the merge id. Nothing is ever merged automatically."""
    if surviving == merged:
        raise ReviewError("same_person")
    t = uow.tables
    async with uow:
        for pid in (surviving, merged):
            if await uow.persons.get(pid) is None:
                raise ReviewError("person_not_found")
        merges = t["merges"]
        open_merge = await uow.session.scalar(
            select(merges.c.id).where(
                merges.c.merged_person_id.in_([surviving, merged]), merges.c.unmerged_at.is_(None)
            )
        )
        if open_merge is not None:
            raise ReviewError("already_merged")
        links, refs = t["record_links"], t["source_references"]
        record_keys = sorted(
            r.record_key
            for r in await uow.session.execute(select(links.c.record_key).where(links.c.person_id == merged))
        )
        moved_refs = [
            [r.record_key, r.idx]
            for r in await uow.session.execute(
                select(refs.c.record_key, refs.c.idx).where(
                    (refs.c.person_id == merged) | (refs.c.accepted_person_id == merged)
                )
            )
        ]
        merge_id = str(uuid.uuid4())
        await uow.session.execute(
            insert(merges).values(
                id=merge_id,
                surviving_person_id=surviving,
                merged_person_id=merged,
                actor=context.subject,
                reason=reason,
                moved={"record_links": record_keys, "references": moved_refs},
                merged_at=datetime.now(UTC),
            )
        )
        await _move(uow, record_keys=record_keys, refs=moved_refs, source=merged, target=surviving, context=context)
        # The survivor now carries the merged entry's names: file it under their keys, and answer again what waits.
        await person_changed(surviving, uow=uow, origin=Origin(actor=context.subject, purpose=context.purpose))
        uow.publish(
            events.persons_merged(surviving=surviving, merged=merged, merge_id=merge_id, actor=context.subject),
            key=surviving,
            actor=context.subject,
            purpose=context.purpose,
        )
        _audit(uow, context=context, action="update", method="POST", route=route, person_ids=[surviving, merged])
        await uow.commit()
    return merge_id


async def unmerge(merge_id: str, *, uow: IdentityUnitOfWork, context: AccessContext, route: str) -> tuple[str, str]:
    """Undo a merge exactly: the records and references it moved go back to the restored person."""
    t = uow.tables
    merges = t["merges"]
    async with uow:
        row = (await uow.session.execute(select(merges).where(merges.c.id == merge_id))).first()
        if row is None:
            raise ReviewError("merge_not_found")
        if row.unmerged_at is not None:
            raise ReviewError("already_unmerged")
        moved = row.moved
        await _move(
            uow,
            record_keys=list(moved["record_links"]),
            refs=[list(r) for r in moved["references"]],
            source=row.surviving_person_id,
            target=row.merged_person_id,
            context=context,
        )
        await uow.session.execute(
            update(merges)
            .where(merges.c.id == merge_id)
            .values(unmerged_at=datetime.now(UTC), unmerged_by=context.subject)
        )
        uow.publish(
            events.person_unmerged(
                surviving=row.surviving_person_id,
                restored=row.merged_person_id,
                merge_id=merge_id,
                actor=context.subject,
            ),
            key=row.surviving_person_id,
            actor=context.subject,
            purpose=context.purpose,
        )
        persons = [row.surviving_person_id, row.merged_person_id]
        for person_id in persons:
            await person_changed(person_id, uow=uow, origin=Origin(actor=context.subject, purpose=context.purpose))
        _audit(uow, context=context, action="update", method="POST", route=route, person_ids=persons)
        await uow.commit()
    return row.surviving_person_id, row.merged_person_id


async def _move(
    uow: IdentityUnitOfWork,
    *,
    record_keys: list[str],
    refs: list[list[Any]],
    source: str,
    target: str,
    context: AccessContext,
) -> None:
    """Move links from one person to another and announce what others must learn of it."""
    t = uow.tables
    links, records = t["record_links"], t["source_records"]
    if record_keys:
        await uow.session.execute(
            update(links)
            .where(links.c.record_key.in_(record_keys), links.c.person_id == source)
            .values(person_id=target)
        )
    origin = Origin(actor=context.subject, purpose=context.purpose)
    for record_key, idx in refs:
        ref = await uow.references.get(record_key, int(idx))
        if ref is None:
            continue
        moved = replace(
            ref,
            person_id=target if ref.person_id == source else ref.person_id,
            accepted_person_id=target if ref.accepted_person_id == source else ref.accepted_person_id,
            version=ref.version + 1,
        )
        await uow.references.save_answer(moved)
        uow.publish(events.reference_resolved(moved), key=record_key, actor=origin.actor, purpose=origin.purpose)
    codes = {
        r.setai_code
        for r in await uow.session.execute(
            select(records.c.setai_code).where(records.c.record_key.in_(record_keys or [""]))
        )
        if r.setai_code
    }
    for code in sorted(codes):
        await handlers.announce_household(code, uow=uow, actor=context.subject, purpose=context.purpose)
