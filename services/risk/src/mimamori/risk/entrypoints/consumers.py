"""risk's subscriptions: identity's households, references, merges and 宛名番号; ingest's source records;
casework's case statuses.

Each batch is applied in one transaction, then the children it touched are re-scored in the same one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from google.protobuf.message import Message

from mimamori.events.identity.v1 import person_pb2
from mimamori.events.ingest.v1 import person_record_pb2, source_record_pb2
from mimamori.kit.messaging.bus import EventBus
from mimamori.kit.messaging.envelope import Envelope
from mimamori.kit.messaging.inbox import subscription
from mimamori.risk.adapters.events import (
    announced_at,
    case_status_from_event,
    fact_version_from_event,
    household_from_event,
)
from mimamori.risk.adapters.read_model import Reference
from mimamori.risk.domain.district import district_of
from mimamori.risk.service_layer import handlers
from mimamori.risk.service_layer.unit_of_work import RiskUnitOfWork

GROUP = "risk.identity"
TOPICS = ("identity.household.v1",)
RECORDS_GROUP = "risk.records"
RECORDS_TOPICS = ("ingest.source-record.v1",)
RESIDENTS_GROUP = "risk.residents"
RESIDENTS_TOPICS = ("ingest.person-record.v1",)
PERSONS_GROUP = "risk.persons"
PERSONS_TOPICS = ("identity.reference.v1", "identity.person.v1")
CASES_GROUP = "risk.cases"
CASES_TOPICS = ("casework.case.v1",)


async def on_households(batch: Sequence[tuple[Message, Envelope]], uow: RiskUnitOfWork) -> None:
    """identity announced households' full membership as of a 住民記録 month: the latest month is re-scored, and
    so is every month already scored that the announcement holds for (a correction or a late delivery of an
    earlier month re-scores that month). An announcement without a month (older producers) re-scores the latest
    month only, as before months were announced."""
    touched: set[str] = set()
    held: list[tuple[str, str | None]] = []
    for message, envelope in batch:
        if not isinstance(message, person_pb2.HouseholdChanged):
            continue
        applied = await handlers.apply_household_change(
            household_from_event(message), announced_at=announced_at(envelope.time), uow=uow
        )
        if applied is not None:
            touched |= applied.persons
            if applied.month_from:
                held.append((applied.month_from, applied.until))
    scored = await uow.runs.months() if held else set()
    months = {m for m in scored for start, until in held if start <= m and (until is None or m < until)}
    await handlers.rescore_after(touched, months=months, uow=uow)


async def on_source_records(batch: Sequence[tuple[Message, Envelope]], uow: RiskUnitOfWork) -> None:
    """ingest announced source records (added, changed, removed)."""
    versions = []
    for message, _ in batch:
        if isinstance(message, source_record_pb2.SourceRecordReceived):
            version = fact_version_from_event(message)
            if version is not None:
                versions.append(version)
    touched = await handlers.store_source_records(versions, uow=uow)
    await handlers.rescore_after(touched, months={v.month for v in versions}, uow=uow)


async def on_persons(batch: Sequence[tuple[Message, Envelope]], uow: RiskUnitOfWork) -> None:
    """identity resolved references, merged or unmerged persons, or linked a 宛名番号."""
    references = []
    touched: set[str] = set()
    for message, _ in batch:
        if isinstance(message, person_pb2.ReferenceResolved):
            references.append(
                Reference(
                    record_key=message.record_key,
                    reference_index=message.reference_index,
                    role=message.role,
                    person_id=message.person_id,
                    version=message.version,
                    removed=message.removed,
                )
            )
        elif isinstance(message, person_pb2.PersonsMerged):
            await uow.facts.merge(
                surviving=message.surviving_person_id, merged=message.merged_person_id, merge_id=message.merge_id
            )
            touched |= {message.surviving_person_id, message.merged_person_id}
        elif isinstance(message, person_pb2.PersonUnmerged):
            await uow.facts.unmerge(restored=message.restored_person_id)
            touched |= {message.surviving_person_id, message.restored_person_id}
        elif isinstance(message, person_pb2.PersonLinked) and message.atena_no:
            await uow.facts.set_number(message.person_id, message.atena_no)
    if references:
        touched |= await uow.facts.apply_references(references)
    # Who a record names holds for every month it counts in: a link found (or undone) later re-scores the
    # months already scored too, not only the latest (read from the small runs table, not the assessments).
    months = await uow.runs.months() if touched else set()
    await handlers.rescore_after(touched, months=months, uow=uow)


def on_residents(town: str) -> Callable[[Sequence[tuple[Message, Envelope]], RiskUnitOfWork], Awaitable[None]]:
    """住民記録 rows: each resident's district (大字), kept only as a grouping; never for a DV 支援措置 person."""

    async def handle(batch: Sequence[tuple[Message, Envelope]], uow: RiskUnitOfWork) -> None:
        districts: dict[str, str | None] = {}
        for message, _ in batch:
            if isinstance(message, person_record_pb2.PersonRecordReceived) and message.atena_no:
                removed = message.change == person_record_pb2.RECORD_CHANGE_REMOVED
                hidden = message.dv_support
                districts[message.atena_no] = (
                    None if removed else "" if hidden else district_of(message.address, town=town)
                )
        await uow.facts.set_districts(districts)

    return handle


async def on_cases(batch: Sequence[tuple[Message, Envelope]], uow: RiskUnitOfWork) -> None:
    """casework opened a case or changed its status: keep the newest status per case (nothing is re-scored; the
    candidate list reads it)."""
    announced = [c for message, _ in batch if (c := case_status_from_event(message)) is not None]
    await uow.cases.apply(announced)


def subscribe(bus: EventBus, *, uow: Callable[[], RiskUnitOfWork], retries: int, town: str = "開成町") -> None:
    """Register risk's consumers."""
    bus.subscribe(subscription(group=GROUP, topics=TOPICS, uow=uow, handle_many=on_households, retries=retries))
    bus.subscribe(
        subscription(
            group=RECORDS_GROUP, topics=RECORDS_TOPICS, uow=uow, handle_many=on_source_records, retries=retries
        )
    )
    bus.subscribe(
        subscription(
            group=RESIDENTS_GROUP, topics=RESIDENTS_TOPICS, uow=uow, handle_many=on_residents(town), retries=retries
        )
    )
    bus.subscribe(
        subscription(group=CASES_GROUP, topics=CASES_TOPICS, uow=uow, handle_many=on_cases, retries=retries)
    )
    bus.subscribe(
        subscription(group=PERSONS_GROUP, topics=PERSONS_TOPICS, uow=uow, handle_many=on_persons, retries=retries)
    )
