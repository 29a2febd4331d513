"""The Kafka bus (kafka-python): acks=all publishing, one consumer thread per group, offsets after the handler."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError
from kafka.structs import OffsetAndMetadata, TopicPartition

from mimamori.kit.messaging.bus import Subscription
from mimamori.kit.messaging.delivery import deliver
from mimamori.kit.messaging.envelope import Envelope

log = logging.getLogger("mimamori.kit.messaging.kafka")


class KafkaBus:
    """Kafka through kafka-python. The library is synchronous, so its calls run in threads."""

    def __init__(
        self,
        *,
        bootstrap: str,
        client_id: str,
        create_topics: bool = True,
        partitions: int = 3,
        linger_ms: int = 1,
    ) -> None:
        self._bootstrap = bootstrap
        self._client_id = client_id
        self._create_topics = create_topics
        self._partitions = partitions
        self._linger_ms = linger_ms
        self._subscriptions: list[Subscription] = []
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._producer: KafkaProducer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lag: dict[str, int] = {}
        self._assigned: dict[str, bool] = {}

    def subscribe(self, subscription: Subscription) -> None:
        """Register a consumer group; it starts with the bus."""
        self._subscriptions.append(subscription)
        if self._loop is not None:
            self._start_consumer(subscription)

    async def start(self) -> None:
        """Connect the producer, create missing topics, start the consumer threads."""
        self._loop = asyncio.get_running_loop()
        self._stopping.clear()
        self._producer = await asyncio.to_thread(
            KafkaProducer,
            bootstrap_servers=self._bootstrap,
            client_id=f"{self._client_id}-producer",
            acks="all",
            enable_idempotence=True,
            linger_ms=self._linger_ms,
            retries=2147483647,
            max_block_ms=30000,
        )
        if self._create_topics:
            topics = {t for s in self._subscriptions for t in s.topics}
            await self.ensure_topics(topics | {f"{t}.dlq" for t in topics})
        for subscription in self._subscriptions:
            self._start_consumer(subscription)

    async def ensure_topics(self, topics: set[str]) -> None:
        """Create the topics that do not exist yet (development and tests; production topics are deployed)."""
        if topics:
            await asyncio.to_thread(self._create, sorted(topics))

    def _create(self, topics: list[str]) -> None:
        admin = KafkaAdminClient(bootstrap_servers=self._bootstrap, client_id=f"{self._client_id}-admin")
        try:
            existing = set(admin.list_topics())
            new = [NewTopic(t, self._partitions, 1) for t in topics if t not in existing]
            if new:
                with contextlib.suppress(TopicAlreadyExistsError):
                    admin.create_topics(new)
        finally:
            admin.close()

    async def stop(self) -> None:
        """Stop the consumers, then flush and close the producer."""
        self._stopping.set()
        for thread in self._threads:
            await asyncio.to_thread(thread.join, 15)
        self._threads.clear()
        if self._producer is not None:
            producer, self._producer = self._producer, None
            await asyncio.to_thread(producer.close, 10)
        self._loop = None

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        """Send every envelope and wait for the broker's acknowledgement of all of them."""
        if not envelopes:
            return
        producer = self._producer
        if producer is None:
            raise RuntimeError("bus not started")
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[Any]] = [loop.create_future() for _ in envelopes]

        def resolve(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
            if future.done():
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)

        def send_all() -> None:
            for envelope, future in zip(envelopes, futures, strict=True):
                sent = producer.send(
                    envelope.topic, value=envelope.payload, key=envelope.key.encode(), headers=envelope.headers()
                )
                sent.add_callback(lambda md, f=future: loop.call_soon_threadsafe(resolve, f, md, None))
                sent.add_errback(lambda exc, f=future: loop.call_soon_threadsafe(resolve, f, None, exc))

        await asyncio.to_thread(send_all)
        await asyncio.gather(*futures)

    def lag(self) -> dict[str, int]:
        """Messages not yet handled per group (as of each consumer's last check); -1 before assignment."""
        return {s.group: (self._lag.get(s.group, 0) if self._assigned.get(s.group) else -1) for s in self._subscriptions}

    def _start_consumer(self, subscription: Subscription) -> None:
        thread = threading.Thread(
            target=self._consume, args=(subscription,), name=f"kafka:{subscription.group}", daemon=True
        )
        self._threads.append(thread)
        thread.start()

    def _consume(self, subscription: Subscription) -> None:
        loop = self._loop
        assert loop is not None
        consumer = KafkaConsumer(
            *subscription.topics,
            bootstrap_servers=self._bootstrap,
            client_id=f"{self._client_id}-{subscription.group}",
            group_id=subscription.group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=500,
        )
        last_lag_check = 0.0
        try:
            while not self._stopping.is_set():
                batch = consumer.poll(timeout_ms=100)
                for tp, records in batch.items():
                    done = None
                    for record in records:
                        if not self._handle(subscription, record, loop):
                            break
                        done = record.offset
                    if done is not None:
                        consumer.commit({tp: OffsetAndMetadata(done + 1, "", -1)})
                    if self._stopping.is_set():
                        break
                now = time.monotonic()
                if now - last_lag_check > 0.2 or batch:
                    last_lag_check = now
                    self._measure_lag(subscription.group, consumer)
        except Exception as exc:  # the thread must say why it died
            log.error("consumer stopped", extra={"group": subscription.group, "error": type(exc).__name__})
        finally:
            consumer.close(autocommit=False)

    def _handle(self, subscription: Subscription, record: Any, loop: asyncio.AbstractEventLoop) -> bool:
        try:
            envelope = Envelope.from_headers(
                topic=record.topic,
                key=(record.key or b"").decode(),
                payload=record.value or b"",
                headers=list(record.headers or []),
            )
        except (ValueError, UnicodeDecodeError):
            envelope = Envelope(
                topic=record.topic, key="", type="unknown", source="unknown", payload=record.value or b"",
                municipality="",
            )
            future = asyncio.run_coroutine_threadsafe(
                self.publish([envelope.dead_lettered("poison:not_a_cloudevent")]), loop
            )
            future.result()
            return True
        future = asyncio.run_coroutine_threadsafe(
            deliver(subscription, envelope, dead_letter=self._dead_letter, stopping=self._stopping.is_set), loop
        )
        return bool(future.result())

    async def _dead_letter(self, envelope: Envelope) -> None:
        await self.publish([envelope])

    def _measure_lag(self, group: str, consumer: KafkaConsumer) -> None:
        assignment = consumer.assignment()
        if not assignment:
            return
        ends = consumer.end_offsets(list(assignment))
        lag = 0
        for tp in assignment:
            committed = consumer.committed(TopicPartition(tp.topic, tp.partition)) or 0
            lag += max(0, ends.get(tp, 0) - committed)
        self._lag[group] = lag
        self._assigned[group] = True
