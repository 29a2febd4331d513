"""The bus port's contract, run against both adapters: the in-process bus and KafkaBus on a real broker."""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING

import pytest
from google.protobuf.message import DecodeError

from mimamori.kit.messaging.bus import EventBus, Handler, PoisonMessage, Subscription
from mimamori.kit.messaging.envelope import Envelope
from mimamori.kit.messaging.inprocess import InProcessBus
from mimamori.kit.messaging.kafka import KafkaBus

if TYPE_CHECKING:
    from conftest import Eventually, HeaderReader, TopicReader

pytestmark = pytest.mark.integration

CE_HEADERS = (
    "ce_id",
    "ce_type",
    "ce_source",
    "ce_time",
    "ce_specversion",
    "traceparent",
    "ce_municipality",
    "ce_actor",
    "ce_purpose",
)


class Harness:
    """One adapter under test, with unique topic and group names, and a view of what its broker holds."""

    def __init__(self, bus: EventBus, unique: str, *, events: TopicReader, headers: HeaderReader) -> None:
        self.bus = bus
        self.topic = f"kit.{unique}.bus.v1"
        self.dlq = f"{self.topic}.dlq"
        self._unique = unique
        self._events = events
        self._headers = headers

    def group(self, name: str) -> str:
        """A consumer group name of this test only."""
        return f"kit-{self._unique}-{name}"

    async def prepare(self) -> None:
        """Create this test's topics where the broker needs it (deployment's job in production)."""
        if isinstance(self.bus, KafkaBus):
            await self.bus.ensure_topics({self.topic, self.dlq})

    async def held(self, topic: str) -> list[Envelope]:
        """What the broker holds on a topic, read independently of any consumer group."""
        return await self._events(topic)

    async def headers(self, topic: str) -> list[dict[str, bytes]]:
        """The headers of every message on a topic as the broker holds them."""
        return [dict(h) for h in await self._headers(topic)]

    def envelope(self, key: str, n: int, **fields: str) -> Envelope:
        """An event of this test's topic; `n` goes into the payload."""
        return Envelope(
            topic=self.topic,
            key=key,
            type="mimamori.events.test.v1.Numbered",
            source="kittest",
            payload=str(n).encode(),
            municipality="143669",
            **fields,
        )


@pytest.fixture(params=["inprocess", "kafka"])
async def harness(request: pytest.FixtureRequest, unique: str) -> AsyncIterator[Harness]:
    if request.param == "kafka":
        bootstrap: str = request.getfixturevalue("kafka_bootstrap")
        subject = Harness(
            KafkaBus(bootstrap=bootstrap, client_id=f"kit-{unique}"),
            unique,
            events=request.getfixturevalue("kafka_topic"),
            headers=request.getfixturevalue("kafka_headers"),
        )
    else:
        bus = InProcessBus()

        async def events(topic: str) -> list[Envelope]:
            return bus.messages(topic)

        async def headers(topic: str) -> list[list[tuple[str, bytes]]]:
            return [e.headers() for e in bus.messages(topic)]

        subject = Harness(bus, unique, events=events, headers=headers)
    await subject.prepare()
    try:
        yield subject
    finally:
        await subject.bus.stop()


def recorder() -> tuple[list[Envelope], Handler]:
    """A handler that records every envelope it is given."""
    seen: list[Envelope] = []

    async def handle(envelope: Envelope) -> None:
        seen.append(envelope)

    return seen, handle


async def test_publish_returns_only_once_the_broker_holds_the_events(harness: Harness) -> None:
    await harness.bus.start()
    events = [harness.envelope("k-1", n) for n in range(3)]
    await harness.bus.publish(events)
    # No waiting: when publish returned, the broker had acknowledged every event.
    assert [e.id for e in await harness.held(harness.topic)] == [e.id for e in events]


async def test_events_of_one_key_arrive_in_the_order_they_were_published(
    harness: Harness, eventually: Eventually
) -> None:
    seen, handle = recorder()
    harness.bus.subscribe(Subscription(harness.group("order"), (harness.topic,), handle))
    await harness.bus.start()
    keys = ("k-a", "k-b", "k-c")
    published: dict[str, list[str]] = defaultdict(list)
    for batch in range(3):
        events = [harness.envelope(keys[i % 3], batch * 12 + i) for i in range(12)]
        await harness.bus.publish(events)
        for e in events:
            published[e.key].append(e.id)
    await eventually(lambda: len(seen) >= 36, what="every event")
    delivered: dict[str, list[str]] = defaultdict(list)
    for e in seen:
        delivered[e.key].append(e.id)
    assert delivered == published


async def test_a_group_handles_one_batch_at_a_time_in_order_while_more_wait(
    harness: Harness, eventually: Eventually
) -> None:
    seen: list[Envelope] = []
    active = 0
    most = 0

    async def handle_batch(envelopes: Sequence[Envelope]) -> None:
        nonlocal active, most
        active += 1
        most = max(most, active)
        await asyncio.sleep(0.02)  # slow work: the next batches are fetched meanwhile
        seen.extend(envelopes)
        active -= 1

    async def handle(envelope: Envelope) -> None:
        await handle_batch([envelope])

    subscription = Subscription(
        harness.group("serial"), (harness.topic,), handle, batch_handler=handle_batch, max_batch=5
    )
    harness.bus.subscribe(subscription)
    await harness.bus.start()
    published: dict[str, list[str]] = defaultdict(list)
    for batch in range(6):
        events = [harness.envelope(("k-a", "k-b")[i % 2], batch * 10 + i) for i in range(10)]
        await harness.bus.publish(events)
        for e in events:
            published[e.key].append(e.id)
    await eventually(lambda: len(seen) >= 60, what="every event")
    delivered: dict[str, list[str]] = defaultdict(list)
    for e in seen:
        delivered[e.key].append(e.id)
    assert delivered == published
    assert most == 1


async def test_a_new_group_starts_from_the_earliest_offset(harness: Harness, eventually: Eventually) -> None:
    before = [harness.envelope("k-1", n) for n in range(3)]
    early, early_handle = recorder()
    harness.bus.subscribe(Subscription(harness.group("early"), (harness.topic,), early_handle))
    await harness.bus.start()
    await harness.bus.publish(before)
    await eventually(lambda: len(early) == 3, what="the first group")
    late, late_handle = recorder()
    harness.bus.subscribe(Subscription(harness.group("late"), (harness.topic,), late_handle))
    await eventually(lambda: len(late) == 3, what="the group that joined after the events")
    assert [e.id for e in late] == [e.id for e in before]


async def test_a_group_subscribed_to_a_running_bus_without_groups_is_started(
    harness: Harness, eventually: Eventually
) -> None:
    await harness.bus.start()
    events = [harness.envelope("k-1", n) for n in range(2)]
    await harness.bus.publish(events)
    seen, handle = recorder()
    harness.bus.subscribe(Subscription(harness.group("only"), (harness.topic,), handle))
    await eventually(lambda: len(seen) == 2, what="the group subscribed after start")
    assert [e.id for e in seen] == [e.id for e in events]


async def test_a_failing_handler_is_retried_then_its_message_is_dead_lettered_and_the_next_follows(
    harness: Harness, eventually: Eventually
) -> None:
    bad, good = harness.envelope("k-1", 1), harness.envelope("k-1", 2)
    attempts: Counter[str] = Counter()
    handled: list[str] = []

    async def handle(envelope: Envelope) -> None:
        attempts[envelope.id] += 1
        if envelope.id == bad.id:
            raise ValueError("this one never works")
        handled.append(envelope.id)

    dead, dead_handle = recorder()
    harness.bus.subscribe(
        Subscription(harness.group("work"), (harness.topic,), handle, retries=2, retry_delay=0.01)
    )
    harness.bus.subscribe(Subscription(harness.group("dlq"), (harness.dlq,), dead_handle))
    await harness.bus.start()
    await harness.bus.publish([bad, good])
    await eventually(
        lambda: handled == [good.id] and len(dead) == 1, what="the dead letter and the next event"
    )
    assert attempts[bad.id] == 3  # the first try and `retries` more
    [letter] = dead
    assert (letter.topic, letter.id, letter.type, letter.payload) == (
        harness.dlq,
        bad.id,
        bad.type,
        bad.payload,
    )
    assert letter.dead_letter_reason == "failed:ValueError"
    [raw] = await harness.headers(harness.dlq)
    assert raw["ce_deadletterreason"] == b"failed:ValueError"


async def test_a_poison_message_is_dead_lettered_at_once(harness: Harness, eventually: Eventually) -> None:
    poison, good = harness.envelope("k-1", 1), harness.envelope("k-1", 2)
    attempts: Counter[str] = Counter()
    handled: list[str] = []

    async def handle(envelope: Envelope) -> None:
        attempts[envelope.id] += 1
        if envelope.id == poison.id:
            raise PoisonMessage(envelope.type) from DecodeError("truncated")
        handled.append(envelope.id)

    dead, dead_handle = recorder()
    harness.bus.subscribe(Subscription(harness.group("work"), (harness.topic,), handle, retries=3))
    harness.bus.subscribe(Subscription(harness.group("dlq"), (harness.dlq,), dead_handle))
    await harness.bus.start()
    await harness.bus.publish([poison, good])
    await eventually(
        lambda: handled == [good.id] and len(dead) == 1, what="the dead letter and the next event"
    )
    assert attempts[poison.id] == 1
    assert [(d.id, d.dead_letter_reason) for d in dead] == [(poison.id, "poison:DecodeError")]


async def test_lag_counts_unhandled_messages_and_reaches_zero_after_consumption(
    harness: Harness, eventually: Eventually
) -> None:
    group = harness.group("lag")
    gate = asyncio.Event()
    entered = asyncio.Event()
    seen: list[str] = []

    async def handle(envelope: Envelope) -> None:
        entered.set()
        await gate.wait()
        seen.append(envelope.id)

    harness.bus.subscribe(Subscription(group, (harness.topic,), handle))
    await harness.bus.start()
    try:
        await eventually(lambda: harness.bus.lag().get(group, -1) >= 0, what="the group's assignment")
        assert harness.bus.lag()[group] == 0
        await harness.bus.publish([harness.envelope("k-1", n) for n in range(3)])
        assert harness.bus.lag()[group] == 3  # as soon as publish returns, not after the next measurement
        await asyncio.wait_for(entered.wait(), 10)
        assert harness.bus.lag()[group] == 3  # the message being handled is not handled yet
    finally:
        gate.set()
    await eventually(lambda: len(seen) == 3, what="consumption")
    await eventually(lambda: harness.bus.lag()[group] == 0, within=5, what="lag 0")


async def test_a_message_whose_handling_was_interrupted_is_delivered_again_after_a_restart(
    harness: Harness, eventually: Eventually
) -> None:
    first, second = harness.envelope("k-1", 1), harness.envelope("k-1", 2)
    attempts: Counter[str] = Counter()
    handled: list[str] = []
    healthy = False

    async def handle(envelope: Envelope) -> None:
        attempts[envelope.id] += 1
        if envelope.id == second.id and not healthy:
            raise ConnectionError(
                "the database is down"
            )  # transient: retried until stopped, never dead-lettered
        handled.append(envelope.id)

    dead, dead_handle = recorder()
    harness.bus.subscribe(Subscription(harness.group("work"), (harness.topic,), handle))
    harness.bus.subscribe(Subscription(harness.group("dlq"), (harness.dlq,), dead_handle))
    await harness.bus.start()
    await harness.bus.publish([first, second])
    await eventually(lambda: attempts[second.id] >= 2, what="the retries of the interrupted message")
    await harness.bus.stop()
    assert handled == [first.id]

    healthy = True
    await harness.bus.start()
    await eventually(lambda: handled == [first.id, second.id], what="the redelivery")
    await asyncio.sleep(0.2)
    assert handled == [first.id, second.id]  # what was handled before the restart is not delivered again
    assert dead == []


async def test_cloudevents_headers_survive_the_round_trip(harness: Harness, eventually: Eventually) -> None:
    sent = harness.envelope(
        "person-42",
        7,
        actor="staff-001",
        purpose="case_support",
        traceparent="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        tracestate="mimamori=1",
    )
    seen, handle = recorder()
    harness.bus.subscribe(Subscription(harness.group("ce"), (harness.topic,), handle))
    await harness.bus.start()
    await harness.bus.publish([sent])
    await eventually(lambda: len(seen) == 1, what="the event")
    assert seen == [sent]
    [raw] = await harness.headers(harness.topic)
    assert set(CE_HEADERS) <= set(raw)
    assert raw["ce_specversion"] == b"1.0"
    assert (raw["ce_id"], raw["ce_type"], raw["ce_source"]) == (
        sent.id.encode(),
        sent.type.encode(),
        b"kittest",
    )
    assert (raw["ce_municipality"], raw["ce_actor"], raw["ce_purpose"]) == (
        b"143669",
        b"staff-001",
        b"case_support",
    )
    assert raw["traceparent"] == sent.traceparent.encode()
    assert raw["ce_time"] == sent.time.encode()
