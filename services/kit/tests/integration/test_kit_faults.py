"""Faults on real Kafka and PostgreSQL: a relay or a consumer dying at the worst moment, a broker restart,
a poison message. At-least-once delivery plus the inbox must give exactly one effect per event."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import TYPE_CHECKING

import pytest
from kafka import KafkaProducer

from mimamori.events.casework.v1 import observation_pb2
from mimamori.kit.messaging.bus import Subscription
from mimamori.kit.messaging.envelope import Envelope
from mimamori.kit.messaging.kafka import KafkaBus
from mimamori.kit.messaging.outbox import Outbox

if TYPE_CHECKING:
    from conftest import Broker, Eventually, OpenService, TinyService, TopicReader

pytestmark = pytest.mark.integration


async def applied_once(service: TinyService, ids: list[str]) -> bool:
    """Whether every one of these events' effect is applied (at least once)."""
    counts = await service.effect_counts()
    return all(counts[i] >= 1 for i in ids)


async def test_relay_killed_between_publish_and_mark_sent_publishes_twice_and_applies_once(
    tiny_service: OpenService,
    postgres_url: str,
    kafka_bootstrap: str,
    observation_topic: str,
    kafka_topic: TopicReader,
    eventually: Eventually,
    unique: str,
) -> None:
    group = f"kit-{unique}"
    bus = KafkaBus(bootstrap=kafka_bootstrap, client_id=f"kit-{unique}")
    await bus.ensure_topics({observation_topic, f"{observation_topic}.dlq"})
    service = await tiny_service(postgres_url, bus, relay=False)
    bus.subscribe(Subscription(group, (observation_topic,), service.consumer(group)))
    await bus.start()
    try:
        event = await service.record("obs-1")
        # The dying relay: it published, the broker acknowledged, the process died before mark_sent.
        dying = Outbox(table=service.outbox.table, sessions=service.sessions, bus=bus)
        batch = await dying.fetch_unsent()
        assert [e.id for _, e in batch] == [event.id]
        await bus.publish([e for _, e in batch])
        assert await service.unsent_ids() == {event.id}

        await service.outbox.start()  # the next relay on the same table
        await eventually(lambda: _nothing_unsent(service), what="the new relay to mark the row sent")
        await eventually(lambda: service.deliveries[event.id] == 2, what="both copies delivered")
        await eventually(lambda: bus.lag().get(group) == 0, what="the group to catch up")
    finally:
        await bus.stop()
    on_topic = [e.id for e in await kafka_topic(observation_topic)]
    assert on_topic.count(event.id) == 2
    assert (await service.effect_counts())[event.id] == 1


async def _nothing_unsent(service: TinyService) -> bool:
    return not await service.unsent_ids()


class Killed(BaseException):
    """The consumer process died (not an error any handler or retry loop would catch)."""


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
async def test_consumer_killed_after_its_commit_but_before_the_offset_commit_gets_it_again_to_no_effect(
    tiny_service: OpenService,
    postgres_url: str,
    kafka_bootstrap: str,
    observation_topic: str,
    eventually: Eventually,
    unique: str,
) -> None:
    group = f"kit-{unique}"
    relay_bus = KafkaBus(bootstrap=kafka_bootstrap, client_id=f"kit-{unique}-relay")
    await relay_bus.ensure_topics({observation_topic, f"{observation_topic}.dlq"})
    await relay_bus.start()
    service = await tiny_service(postgres_url, relay_bus)
    consume = service.consumer(group)
    died = asyncio.Event()

    async def dies_after_commit(envelope: Envelope) -> None:
        await consume(envelope)  # the effect and the inbox row are committed here
        message = observation_pb2.ObservationRecorded.FromString(envelope.payload)
        if message.observation_id == "obs-victim" and not died.is_set():
            died.set()
            raise Killed  # ... and the process dies before the consumer commits the offset

    first = KafkaBus(bootstrap=kafka_bootstrap, client_id=f"kit-{unique}-a")
    first.subscribe(Subscription(group, (observation_topic,), dies_after_commit))
    await first.start()
    try:
        before = await service.record("obs-before", key="p-1")
        await eventually(lambda: applied_once(service, [before.id]), what="the first event's effect")
        event = await service.record("obs-victim", key="p-1")
        await asyncio.wait_for(died.wait(), 20)
        assert (await service.effect_counts())[event.id] == 1
    finally:
        await first.stop()

    second = KafkaBus(bootstrap=kafka_bootstrap, client_id=f"kit-{unique}-b")
    second.subscribe(Subscription(group, (observation_topic,), consume))
    await second.start()
    try:
        await eventually(lambda: service.deliveries[event.id] == 2, what="the redelivery after restart")
        await eventually(lambda: second.lag().get(group) == 0, what="the group to catch up")
    finally:
        await second.stop()
        await relay_bus.stop()
    counts = await service.effect_counts()
    assert counts[event.id] == 1
    assert counts[before.id] == 1
    assert service.deliveries[before.id] == 1  # its offset was committed before the crash


async def test_broker_restart_loses_nothing_and_each_event_takes_effect_once(
    tiny_service: OpenService,
    postgres_url: str,
    private_kafka: Broker,
    observation_topic: str,
    kafka_topic: TopicReader,
    eventually: Eventually,
    unique: str,
) -> None:
    group = f"kit-{unique}"
    bus = KafkaBus(bootstrap=private_kafka.bootstrap, client_id=f"kit-{unique}")
    service = await tiny_service(postgres_url, bus, poll_seconds=0.2)
    bus.subscribe(Subscription(group, (observation_topic,), service.consumer(group)))
    await bus.start()
    try:
        first = [(await service.record(f"obs-{i}", key=f"p-{i % 2}")).id for i in range(5)]
        await eventually(lambda: applied_once(service, first), what="the first events' effects")

        restart = await asyncio.to_thread(private_kafka.stop_keeping_data)
        during = [(await service.record(f"obs-down-{i}", key=f"p-{i % 2}")).id for i in range(5)]
        await asyncio.sleep(1.0)
        # While the broker is down nothing of the new batch may count as sent.
        assert set(during) <= await service.unsent_ids()
        await asyncio.to_thread(restart)

        after = [(await service.record(f"obs-after-{i}", key=f"p-{i % 2}")).id for i in range(3)]
        every = first + during + after
        await eventually(lambda: applied_once(service, every), within=60, what="every effect after restart")
        await eventually(lambda: _nothing_unsent(service), what="the outbox to drain")
        await eventually(lambda: bus.lag().get(group) == 0, what="the group to catch up")
    finally:
        await bus.stop()
    counts = await service.effect_counts()
    assert {i: counts[i] for i in every} == dict.fromkeys(every, 1)
    on_topic = Counter(e.id for e in await kafka_topic(observation_topic, bootstrap=private_kafka.bootstrap))
    assert set(every) <= set(on_topic)  # nothing published before, during or after the restart was lost


async def test_poison_on_kafka_goes_to_the_dead_letter_topic_and_the_consumer_continues(
    tiny_service: OpenService,
    postgres_url: str,
    kafka_bootstrap: str,
    observation_topic: str,
    kafka_topic: TopicReader,
    eventually: Eventually,
    unique: str,
) -> None:
    group = f"kit-{unique}"
    bus = KafkaBus(bootstrap=kafka_bootstrap, client_id=f"kit-{unique}")
    service = await tiny_service(postgres_url, bus, relay=False)
    bus.subscribe(
        Subscription(group, (observation_topic,), service.consumer(group), retries=1, retry_delay=0.01)
    )
    await bus.start()
    try:
        # Not a CloudEvent at all (a foreign producer), then an undecodable payload, then a good event:
        # one key, so one partition and this order.
        await asyncio.to_thread(_send_raw, kafka_bootstrap, observation_topic, key=b"p-1", value=b"hello")
        garbled = Envelope(
            topic=observation_topic,
            key="p-1",
            type="mimamori.events.casework.v1.ObservationRecorded",
            source="kittest",
            payload=b"\x0a\xff\x01",
            municipality="143669",
        )
        await bus.publish([garbled])
        good = await service.record("obs-good", key="p-1")
        await service.outbox.relay_once()
        await eventually(lambda: applied_once(service, [good.id]), what="the good event's effect")
        await eventually(lambda: bus.lag().get(group) == 0, what="the group to catch up")
    finally:
        await bus.stop()
    dead = await kafka_topic(f"{observation_topic}.dlq")
    assert [d.dead_letter_reason for d in dead] == ["poison:not_a_cloudevent", "poison:DecodeError"]
    assert dead[0].payload == b"hello"
    assert dead[1].id == garbled.id
    assert await service.effect_counts() == {good.id: 1}
    assert service.deliveries[garbled.id] == 1


def _send_raw(bootstrap: str, topic: str, *, key: bytes, value: bytes) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    try:
        producer.send(topic, key=key, value=value).get(timeout=10)
    finally:
        producer.close(5)
