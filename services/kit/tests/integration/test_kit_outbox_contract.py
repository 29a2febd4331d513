"""The outbox, the inbox and the unit of work against both databases: an aiosqlite file and PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pytest
from google.protobuf.message import DecodeError
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy import func, insert, select, text

from mimamori.contracts import decode
from mimamori.events.casework.v1 import observation_pb2
from mimamori.kit.messaging.bus import Subscription
from mimamori.kit.messaging.delivery import deliver
from mimamori.kit.messaging.envelope import Envelope
from mimamori.kit.messaging.inprocess import InProcessBus
from mimamori.kit.messaging.outbox import envelope_row

if TYPE_CHECKING:
    from conftest import Eventually, OpenService, TinyService

pytestmark = pytest.mark.integration

OBSERVATION = "mimamori.events.casework.v1.ObservationRecorded"


class GatedBus(InProcessBus):
    """An in-process bus whose publish can be held at a gate or made to fail, to watch the relay meanwhile."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.gate.set()
        self.waiting = asyncio.Event()
        self.failures = 0
        self.calls: list[list[str]] = []

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        self.calls.append([e.id for e in envelopes])
        if self.failures:
            self.failures -= 1
            raise ConnectionError("broker unreachable")
        self.waiting.set()
        await self.gate.wait()
        await super().publish(envelopes)


async def test_events_are_published_only_when_the_unit_of_work_commits(
    tiny_service: OpenService, database_url: str, observation_topic: str
) -> None:
    bus = InProcessBus()
    service = await tiny_service(database_url, bus, relay=False)
    message = observation_pb2.ObservationRecorded(observation_id="obs-1", person_id="p-1")

    async with service.uow() as uow:
        await uow.session.execute(insert(service.effects).values(event_id="x", observation_id="obs-1"))
        uow.publish(message, key="p-1")
        # leaves without commit: rolled back
    with pytest.raises(RuntimeError):
        async with service.uow() as uow:
            uow.publish(message, key="p-1")
            raise RuntimeError("the change failed half-way")
    async with service.uow() as uow:
        uow.publish(message, key="p-1")
        await uow.rollback()
        await uow.commit()  # commits nothing: rollback forgot the event
    assert await service.outbox_ids() == []
    assert await service.outbox.relay_once() == 0
    assert bus.messages(observation_topic) == []
    assert await service.effect_counts() == {}

    with TracerProvider().get_tracer("kittest").start_as_current_span("request") as span:
        async with service.uow() as uow:
            sent = uow.publish(message, key="p-1", actor="staff-001", purpose="case_support")
            await uow.commit()
    assert await service.outbox_ids() == [sent.id]
    assert await service.outbox.relay_once() == 1
    [published] = bus.messages(observation_topic)
    assert published == sent
    assert (published.actor, published.purpose, published.source) == ("staff-001", "case_support", "kittest")
    assert published.traceparent.split("-")[1] == format(span.get_span_context().trace_id, "032x")
    assert decode(published.type, published.payload) == message
    assert await service.unsent_ids() == set()


async def test_the_relay_publishes_in_commit_order_and_marks_rows_sent_only_after_the_ack(
    tiny_service: OpenService, database_url: str, observation_topic: str, eventually: Eventually
) -> None:
    bus = GatedBus()
    bus.gate.clear()
    service = await tiny_service(database_url, bus, poll_seconds=0.1)
    message = observation_pb2.ObservationRecorded

    first_opened = service.uow()
    async with first_opened as early:
        a = early.publish(message(observation_id="a"), key="p-1")
        b = await service.record("b")  # opened later, committed first
        await early.commit()
    c = await service.record("c")

    await asyncio.wait_for(bus.waiting.wait(), 5)
    await asyncio.sleep(0.3)
    # The broker has not acknowledged anything yet: every row is still unsent, nothing is on the topic.
    assert await service.unsent_ids() == {a.id, b.id, c.id}
    assert bus.messages(observation_topic) == []
    bus.gate.set()
    await eventually(lambda: len(bus.messages(observation_topic)) == 3, what="the three events")
    assert [e.id for e in bus.messages(observation_topic)] == [b.id, a.id, c.id]
    await eventually(lambda: _all_sent(service), what="the rows marked sent")
    assert await service.outbox_ids() == [b.id, a.id, c.id]


async def _all_sent(service: TinyService) -> bool:
    return not await service.unsent_ids()


async def test_a_failed_publish_leaves_the_row_unsent_and_the_relay_tries_again(
    tiny_service: OpenService, database_url: str, observation_topic: str, eventually: Eventually
) -> None:
    bus = GatedBus()
    bus.failures = 2
    service = await tiny_service(database_url, bus, poll_seconds=0.1)
    event = await service.record("obs-1")
    await eventually(lambda: len(bus.calls) >= 1, what="the first attempt")
    assert await service.unsent_ids() == {event.id}
    await eventually(lambda: len(bus.messages(observation_topic)) == 1, what="the publish after two failures")
    await eventually(lambda: _all_sent(service), what="the row marked sent")
    assert [e.id for e in bus.messages(observation_topic)] == [event.id]
    assert bus.calls == [[event.id]] * 3


async def test_notify_wakes_the_relay_at_once_instead_of_the_poll_interval(
    tiny_service: OpenService, database_url: str, observation_topic: str, eventually: Eventually
) -> None:
    bus = InProcessBus()
    service = await tiny_service(database_url, bus, poll_seconds=30)
    await asyncio.sleep(0.2)  # the relay has found nothing and sleeps for the poll interval

    # A row written behind the relay's back (no notify) waits for the next poll...
    stray = Envelope(
        topic=observation_topic,
        key="p-0",
        type=OBSERVATION,
        source="kittest",
        payload=observation_pb2.ObservationRecorded(observation_id="stray").SerializeToString(),
        municipality="143669",
    )
    async with service.sessions.begin() as session:
        await session.execute(insert(service.outbox.table).values(**envelope_row(stray)))
    await asyncio.sleep(0.5)
    assert bus.messages(observation_topic) == []

    # ... while a unit of work's commit wakes it at once.
    started = time.monotonic()
    event = await service.record("obs-1")
    await eventually(lambda: len(bus.messages(observation_topic)) == 2, within=5, what="the relay")
    assert time.monotonic() - started < 2.0
    assert [e.id for e in bus.messages(observation_topic)] == [stray.id, event.id]


async def test_an_idempotent_consumer_applies_a_redelivered_event_once(
    tiny_service: OpenService, database_url: str, observation_topic: str
) -> None:
    bus = InProcessBus()
    service = await tiny_service(database_url, bus, relay=False)
    consume = service.consumer("kit-consumer")
    event = await service.record("obs-1")
    other = await service.record("obs-2")

    await consume(event)
    await consume(event)
    await consume(other)
    await consume(event)

    assert service.deliveries == {event.id: 3, other.id: 1}
    assert await service.effect_counts() == {event.id: 1, other.id: 1}
    # Another group has its own inbox record: it applies its effect too.
    await service.consumer("kit-other-group")(event)
    assert (await service.effect_counts())[event.id] == 2


async def test_concurrent_deliveries_of_one_event_apply_it_once_and_neither_fails(
    tiny_service: OpenService, database_url: str, observation_topic: str
) -> None:
    bus = InProcessBus()
    service = await tiny_service(database_url, bus, relay=False)
    both_inside = asyncio.Barrier(2)

    async def side_by_side(envelope: Envelope) -> None:
        # Both deliveries have found the event unprocessed; only now may either write.
        async with asyncio.timeout(10):
            await both_inside.wait()

    consume = service.consumer("kit-consumer", pause=side_by_side)
    dead: list[Envelope] = []

    async def dead_letter(envelope: Envelope) -> None:
        dead.append(envelope)

    # No retries: the duplicate must be recognised as such, not succeed by retrying.
    subscription = Subscription("kit-consumer", (observation_topic,), consume, retries=0, retry_delay=0.01)
    event = await service.record("obs-1")
    results = await asyncio.gather(
        deliver(subscription, event, dead_letter=dead_letter),
        deliver(subscription, event, dead_letter=dead_letter),
    )
    assert results == [True, True]
    assert dead == []
    assert await service.effect_counts() == {event.id: 1}


async def test_poison_payloads_go_to_the_dead_letter_topic_and_the_next_event_is_applied(
    tiny_service: OpenService, database_url: str, observation_topic: str, eventually: Eventually
) -> None:
    bus = InProcessBus()
    service = await tiny_service(database_url, bus, relay=False)
    undecodable = b"\x0a\xff\x01"  # field 1, length 255, then the bytes run out
    with pytest.raises(DecodeError):
        observation_pb2.ObservationRecorded.FromString(undecodable)
    valid = observation_pb2.ObservationRecorded(observation_id="x").SerializeToString()

    def envelope(event_type: str, payload: bytes) -> Envelope:
        return Envelope(
            topic=observation_topic,
            key="p-1",
            type=event_type,
            source="kittest",
            payload=payload,
            municipality="143669",
        )

    garbled = envelope(OBSERVATION, undecodable)
    unknown = envelope("mimamori.events.nowhere.v1.Unknown", valid)
    good = envelope(OBSERVATION, valid)
    bus.subscribe(
        Subscription("kit-consumer", (observation_topic,), service.consumer("kit-consumer"), retries=3)
    )
    await bus.start()
    try:
        await bus.publish([garbled, unknown, good])
        await eventually(lambda: _effects_of(service, good.id), what="the good event's effect")
    finally:
        await bus.stop()
    dead = bus.messages(f"{observation_topic}.dlq")
    assert [(d.id, d.dead_letter_reason) for d in dead] == [
        (garbled.id, "poison:DecodeError"),
        (unknown.id, "poison:KeyError"),
    ]
    assert service.deliveries == {garbled.id: 1, unknown.id: 1, good.id: 1}  # poison is never retried
    assert await service.effect_counts() == {good.id: 1}
    async with service.sessions() as session:
        recorded = await session.execute(select(service.inbox.c.message_id))
        assert set(recorded.scalars()) == {good.id}  # a poison event is not "processed": it may be replayed


async def _effects_of(service: TinyService, event_id: str) -> bool:
    return bool((await service.effect_counts())[event_id])


async def test_migrations_are_idempotent_and_postgres_tables_live_in_the_service_schema(
    tiny_service: OpenService, database_url: str
) -> None:
    bus = InProcessBus()
    service = await tiny_service(database_url, bus, relay=False)
    await tiny_service(database_url, bus, relay=False)  # upgrading again finds the schema at head
    async with service.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            tables = await conn.execute(
                text("select table_name from information_schema.tables where table_schema = 'kittest'")
            )
            assert set(tables.scalars()) >= {
                "outbox",
                "processed_messages",
                "effects",
                "alembic_version",
            }
            public = await conn.execute(
                text("select count(*) from information_schema.tables where table_schema = 'public'")
            )
            assert public.scalar_one() == 0
        version = await conn.execute(text("select version_num from alembic_version"))
        assert version.scalars().all() == ["0001"]
        assert (await conn.execute(select(func.count()).select_from(service.outbox.table))).scalar_one() == 0
