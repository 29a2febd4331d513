"""identity's event handlers: one per event it consumes."""

from __future__ import annotations

import logging

from google.protobuf.message import Message

from mimamori.events.ingest.v1 import delivery_rows_pb2, person_record_pb2, source_record_pb2
from mimamori.identity.adapters import events
from mimamori.identity.domain.household import Household, MemberFacts, compose_members
from mimamori.identity.domain.model import Person, SourceRecord, link_by_atena_no, receive_record
from mimamori.identity.service_layer import resolution
from mimamori.identity.service_layer.unit_of_work import IdentityUnitOfWork
from mimamori.kit.messaging.bus import PoisonMessage
from mimamori.kit.messaging.envelope import Envelope

log = logging.getLogger("mimamori.identity")


async def dispatch(message: Message, envelope: Envelope, uow: IdentityUnitOfWork) -> None:
    """Hand a consumed event to its handler."""
    if isinstance(message, source_record_pb2.SourceRecordReceived):
        await resolution.receive_source_record(message, envelope, uow)
    elif isinstance(message, delivery_rows_pb2.DeliveryRowsIndexed):
        await index_delivery_rows(message, uow)
    else:
        await link_source_record(message, envelope, uow)


async def index_delivery_rows(message: delivery_rows_pb2.DeliveryRowsIndexed, uow: IdentityUnitOfWork) -> None:
    """Keep which record each row of a delivered file is; a newer load run of the file name supersedes the rows of
    an earlier one (a corrected re-delivery)."""
    await uow.delivery_rows.index(
        message.file_name,
        load_run_id=message.load_run_id,
        rows=[(r.row, r.record_key) for r in message.rows],
    )


async def link_source_record(message: Message, envelope: Envelope, uow: IdentityUnitOfWork) -> None:
    """Keep a delivered 住民記録 row, link it to its person and announce the households it touched.

    A delivery that changes none of the record's values (a redelivery, an unchanged re-load) changes nothing.
    """
    if not isinstance(message, person_record_pb2.PersonRecordReceived) or not message.record_key:
        raise PoisonMessage(envelope.type)
    change = events.change_of(message)
    existing, link = await uow.records.get(message.record_key)
    update = receive_record(
        existing,
        record_key=message.record_key,
        source=message.provenance.source or "unknown",
        municipality=message.provenance.municipality_code or envelope.municipality,
        change=change,
        values=events.values_of(message),
        provenance=events.provenance_of(message),
    )
    if not update.changed:
        return
    record = update.after
    await uow.records.save(record, new=existing is None)
    await uow.records.add_version(
        record,
        change=change.value,
        event_id=envelope.id,
        event_time=envelope.time,
        payload=events.as_received(message),
    )
    person_id = link.person_id if link is not None else await _link(record, uow=uow, envelope=envelope)
    if person_id is None:
        # Matching on 基本4情報 (the later slice) picks such records up; they are kept, not lost.
        log.info("source record kept without a link", extra={"source": record.source})
        return
    if update.name_changed:
        await uow.names.append(person_id, record=record, event_id=envelope.id)
    announced = {
        code: await announce_household(
            code, uow=uow, month=message.month, actor=envelope.actor, purpose=envelope.purpose
        )
        for code in update.households
    }
    before = existing.values.setai_code if existing is not None else ""
    after = record.values.setai_code
    if before != after:
        on = record.values.change_date.raw
        if before:
            await uow.households.leave(record.record_key, left_on=on)
        if after:
            await uow.households.enter(
                announced[after].id, person_id=person_id, record_key=record.record_key, joined_on=on
            )
    await resolution.person_changed(person_id, uow=uow, origin=resolution.Origin.of(envelope))


async def _link(record: SourceRecord, *, uow: IdentityUnitOfWork, envelope: Envelope) -> str | None:
    """Link a record not linked yet: a certain link by 宛名番号, creating the person on first sight."""
    atena_no = record.values.atena_no
    if not atena_no:
        return None
    person = await uow.persons.by_atena_no(atena_no)
    created = person is None
    if person is None:
        person = Person.first_seen(atena_no=atena_no)
        await uow.persons.add(person)
    link = link_by_atena_no(record, person)
    await uow.persons.add_link(link)
    uow.publish(
        events.person_linked(link, source=record.source, atena_no=atena_no, created=created),
        key=person.id,
        actor=envelope.actor,
        purpose=envelope.purpose,
    )
    return person.id


async def announce_household(
    setai_code: str, *, uow: IdentityUnitOfWork, actor: str, purpose: str, month: str | None = None
) -> Household:
    """Recompute a household's membership from its current records; announce it only when it changed, as of the
    delivery `month` of the record that changed it (None: a merge or unmerge, as of the month last announced)."""
    household = await uow.households.by_setai_code(setai_code)
    first_seen = household is None
    current = household or Household.new(setai_code)
    rows = await uow.records.in_household(setai_code)
    members = compose_members(MemberFacts.of(record, person_id) for record, person_id in rows)
    revision = current.revise(members, month=month)
    if revision is None:
        return current
    revised, _ = revision
    if first_seen:
        await uow.households.add(revised)
    else:
        await uow.households.announce(revised, previous_version=current.version)
    uow.publish(events.household_changed(revised), key=revised.id, actor=actor, purpose=purpose)
    return revised
