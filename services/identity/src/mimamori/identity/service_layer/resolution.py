"""Resolving the person references of source records, and re-resolving them when what they depend on changes.

Events of different topics arrive in any order: a reference whose 宛名番号 or pupil key is not known yet, or
whose candidates change (a person arrives, is renamed, a namesake moves in), is resolved again then. Each
reference's answer is announced as `ReferenceResolved` with a higher version whenever it changes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from google.protobuf.message import Message

from mimamori.events.ingest.v1 import source_record_pb2
from mimamori.identity.adapters import events
from mimamori.identity.adapters.references import StoredReference, reference_of
from mimamori.identity.domain.matching import (
    ResidentIndex,
    Resolution,
    RollBook,
    SourceRow,
    blocking_keys,
    is_roll_entry,
    resident_keys,
    resolve_row,
)
from mimamori.identity.domain.model import Change, MatchGrade
from mimamori.identity.service_layer.unit_of_work import IdentityUnitOfWork
from mimamori.kit.messaging.bus import PoisonMessage
from mimamori.kit.messaging.envelope import Envelope

log = logging.getLogger("mimamori.identity")
MAX_CASCADE = 10_000


@dataclass(frozen=True, slots=True)
class Origin:
    """Who caused a re-resolution, for the events it publishes."""

    actor: str
    purpose: str

    @classmethod
    def of(cls, envelope: Envelope) -> Origin:
        """The origin of a consumed event."""
        return cls(actor=envelope.actor, purpose=envelope.purpose)


async def receive_source_record(message: Message, envelope: Envelope, uow: IdentityUnitOfWork) -> None:
    """Keep a source record's person references as they came, and resolve them."""
    if not isinstance(message, source_record_pb2.SourceRecordReceived) or not message.record_key:
        raise PoisonMessage(envelope.type)
    origin = Origin.of(envelope)
    record_key = message.record_key
    existing = await uow.references.for_record(record_key)
    if events.source_change_of(message) is Change.REMOVED:
        for ref in existing:
            if ref.present:
                await _announce(replace(ref, present=False, version=ref.version + 1), uow=uow, origin=origin)
        await uow.references.set_keys(record_key, ())
        return
    given = events.references_given(message)
    provenance = events.source_provenance_of(message)
    municipality = message.provenance.municipality_code or envelope.municipality
    stored = [
        StoredReference(
            record_key=record_key,
            idx=i,
            source=message.provenance.source or "unknown",
            municipality=municipality,
            month=message.month,
            reference=reference_of(ref),
            given=ref,
            present=True,
            provenance=provenance,
        )
        for i, ref in enumerate(given)
    ]
    before = {(r.idx, repr(r.given), r.present, r.month) for r in existing}
    after = {(r.idx, repr(r.given), r.present, r.month) for r in stored}
    if before == after and all(r.version > 0 for r in existing):
        return  # the same references again (a re-delivery of the same row): nothing to tell
    await uow.references.replace_given(stored, record_key=record_key)
    for gone in (r for r in existing if r.idx >= len(stored) and r.present):
        await _announce(replace(gone, present=False, version=gone.version + 1), uow=uow, origin=origin)
    await resolve_records([record_key], uow=uow, origin=origin)


async def resolve_records(record_keys: list[str], *, uow: IdentityUnitOfWork, origin: Origin) -> None:
    """Resolve records again; a roll entry whose answer changed wakes the records that name its pupil key."""
    queue = list(dict.fromkeys(record_keys))
    seen: set[str] = set()
    while queue and len(seen) < MAX_CASCADE:
        record_key = queue.pop(0)
        if record_key in seen:
            continue
        seen.add(record_key)
        woken = await _resolve_one(record_key, uow=uow, origin=origin)
        queue.extend(k for k in woken if k not in seen)


async def _resolve_one(record_key: str, *, uow: IdentityUnitOfWork, origin: Origin) -> list[str]:
    stored = [r for r in await uow.references.for_record(record_key) if r.present]
    if not stored:
        return []
    first = stored[0]
    row = SourceRow(
        key=record_key, source=first.source, month=first.month, references=tuple(r.reference for r in stored)
    )
    index = await _index_for(row, uow=uow)
    book = await _roll_for(row, uow=uow)
    rejected = await uow.references.rejected(record_key)
    by_position = {i: rejected[r.idx] for i, r in enumerate(stored) if r.idx in rejected}
    answers = resolve_row(row, index, roll=book.lookup, rejected=by_position)
    woken: list[str] = []
    keys: set[str] = set()
    for ref, answer in zip(stored, answers, strict=True):
        revised = ref.resolved(answer)
        keys.update(_wake_keys(revised))
        if revised.state == ref.state and ref.version > 0:
            continue
        await _announce(replace(revised, version=ref.version + 1), uow=uow, origin=origin)
        if is_roll_entry(ref.reference):
            woken += await uow.references.records_waiting_on(
                [f"pupil:{ref.reference.school_code}/{ref.reference.student_no}"]
            )
    await uow.references.set_keys(record_key, keys)
    return [k for k in woken if k != record_key]


def _wake_keys(ref: StoredReference) -> set[str]:
    """The keys whose change should resolve this reference again."""
    r = ref.reference
    keys = set(blocking_keys(r))
    if r.atena_no:
        keys.add(f"atena:{r.atena_no}")
    if r.pupil_key is not None and not is_roll_entry(r):
        keys.add(f"pupil:{r.school_code}/{r.student_no}")
    return keys


async def _index_for(row: SourceRow, *, uow: IdentityUnitOfWork) -> ResidentIndex:
    """The residents a row's references may be: sharing a blocking key or a 宛名番号, and their housemates."""
    keys = [k for ref in row.references for k in blocking_keys(ref)]
    found = await uow.residents.persons_by_keys(keys)
    found |= await uow.residents.persons_by_atena(ref.atena_no for ref in row.references if ref.atena_no)
    if found:
        found |= await uow.residents.housemates(found)
    return ResidentIndex(await uow.residents.residents(found))


async def _roll_for(row: SourceRow, *, uow: IdentityUnitOfWork) -> RollBook:
    """The roll entries of the pupil keys a row names alone (attendance, nurse room)."""
    book = RollBook()
    wanted = [r.pupil_key for r in row.references if r.only_pupil_key and r.pupil_key is not None]
    for entry in await uow.references.roll_entries(wanted):
        # The roll entry's pupil counts only once identity has an answer for it.
        if entry.version > 0:
            book.enter(
                entry.reference.school_code,
                entry.reference.student_no,
                month=entry.month,
                resolution=_as_resolution(entry),
            )
    return book


def _as_resolution(entry: StoredReference) -> Resolution:
    if entry.person_id:
        return Resolution(grade=MatchGrade.CERTAIN, person_id=entry.person_id, reason=entry.reason)
    return Resolution(grade=MatchGrade(entry.grade), person_id=entry.candidate_id, reason=entry.reason)


async def _announce(ref: StoredReference, *, uow: IdentityUnitOfWork, origin: Origin) -> None:
    await uow.references.save_answer(ref)
    uow.publish(events.reference_resolved(ref), key=ref.record_key, actor=origin.actor, purpose=origin.purpose)


async def person_changed(person_id: str, *, uow: IdentityUnitOfWork, origin: Origin) -> None:
    """File a person under their (new) keys and resolve again the references those keys may now answer."""
    residents = await uow.residents.residents([person_id])
    if not residents:
        return
    resident = residents[0]
    keys = resident_keys(resident)
    await uow.residents.file_keys(person_id, keys)
    wake = [*keys, *([f"atena:{resident.atena_no}"] if resident.atena_no else [])]
    waiting = await uow.references.records_waiting_on(wake)
    if waiting:
        log.info("re-resolving references after a person changed", extra={"records": len(waiting)})
        await resolve_records(waiting, uow=uow, origin=origin)
