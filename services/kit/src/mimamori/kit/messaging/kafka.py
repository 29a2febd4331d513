"""The Kafka bus (kafka-python): acks=all publishing, a consumer thread per group, offsets after handling."""

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
from mimamori.kit.messaging.delivery import deliver_batch
from mimamori.kit.messaging.envelope import Envelope

log = logging.getLogger("mimamori.kit.messaging.kafka")

# kafka-python backs off up to 30 s between reconnects; after a broker restart that is 30 s of standstill.
RECONNECT_BACKOFF_MAX_MS = 1000
MAX_CONSUMER_RESTART_DELAY = 5.0
# Topics created (or partitions added) after a consumer joined are noticed within this (default: 5 minutes).
CONSUMER_METADATA_MAX_AGE_MS = 5000
# How often lag() re-reads every committed offset of a group from the broker (new partitions are read at once).
COMMITTED_REFRESH_SECONDS = 5.0
# How often a consumer measures the end offsets of its partitions (a broker round trip) for lag(): often while
# someone watches (lag() was asked within LAG_WATCH_SECONDS: readiness, wait_idle, tests), rarely otherwise, so an
# idle service does not spend its CPU on ListOffsets requests nobody reads.
LAG_REFRESH_WATCHED = 0.2
LAG_REFRESH_IDLE = 1.0
LAG_WATCH_SECONDS = 5.0
# How long one consumer poll waits for records: a stop is noticed within it. The fetch itself waits on the broker
# (fetch_max_wait_ms), so a longer poll costs no latency, only fewer wake-ups of an idle consumer.
POLL_TIMEOUT_MS = 250
IDLE_FETCH_WAIT_MS = 1000


class KafkaBus:
    """Kafka through kafka-python. The library is synchronous, so its calls run in threads."""

    def __init__(
        self,
        *,
        bootstrap: str,
        client_id: str,
        create_topics: bool = True,
        namespace: str = "",
        partitions: int = 3,
        linger_ms: int = 1,
    ) -> None:
        self._bootstrap = bootstrap
        self._client_id = client_id
        self._create_topics = create_topics
        # Prefixed to every topic and consumer group: several deployments (or test runs) can share one cluster.
        self._namespace = namespace
        self._partitions = partitions
        self._linger_ms = linger_ms
        self._subscriptions: list[Subscription] = []
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._producer: KafkaProducer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._send_order = asyncio.Lock()
        # What lag() knows: per partition the end offset (measured, or acknowledged to our own publish), and
        # per group its current assignment and handled offsets. Written by the loop and the consumer threads.
        self._lag_lock = threading.Lock()
        self._ends: dict[TopicPartition, int] = {}
        self._handled: dict[tuple[str, TopicPartition], int] = {}
        self._assignments: dict[str, frozenset[TopicPartition]] = {}
        self._committed_read: dict[str, float] = {}
        self._lag_watched = 0.0

    def subscribe(self, subscription: Subscription) -> None:
        """Register a consumer group; it starts with the bus."""
        self._subscriptions.append(subscription)
        if self._loop is not None:
            self._start_consumer(subscription)

    async def start(self) -> None:
        """Connect the producer, create missing topics, start the consumer threads."""
        self._loop = asyncio.get_running_loop()
        self._send_order = asyncio.Lock()
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
            reconnect_backoff_max_ms=RECONNECT_BACKOFF_MAX_MS,
        )
        if self._create_topics:
            topics = {t for s in self._subscriptions for t in s.topics}
            await self.ensure_topics(topics | {f"{t}.dlq" for t in topics})
        for subscription in self._subscriptions:
            self._start_consumer(subscription)

    async def ensure_topics(self, topics: set[str]) -> None:
        """Create the topics that do not exist yet (development and tests; production topics are deployed)."""
        if topics:
            await asyncio.to_thread(self._create, sorted(self._namespace + t for t in topics))

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
        acknowledged: asyncio.Future[None] = loop.create_future()
        # The producer's I/O thread reports each record; the loop is woken once, when the last one is settled
        # (one cross-thread wake-up per batch instead of one per record).
        remaining = [len(envelopes)]
        errors: list[BaseException] = []
        counting = threading.Lock()

        def finish() -> None:
            if not acknowledged.done():
                if errors:
                    acknowledged.set_exception(errors[0])
                else:
                    acknowledged.set_result(None)

        def settled(metadata: Any, error: BaseException | None) -> None:
            if error is None:
                self._advance(self._ends, TopicPartition(metadata.topic, metadata.partition), metadata.offset + 1)
            with counting:
                if error is not None:
                    errors.append(error)
                remaining[0] -= 1
                last = remaining[0] == 0
            if last:
                loop.call_soon_threadsafe(finish)

        def send_all() -> None:
            for envelope in envelopes:
                sent = producer.send(
                    self._namespace + envelope.topic,
                    value=envelope.payload,
                    key=envelope.key.encode(),
                    headers=envelope.headers(),
                )
                sent.add_callback(lambda metadata: settled(metadata, None))
                sent.add_errback(lambda exc: settled(None, exc))

        # Enqueueing is serialised so concurrent publishes (a pipelined relay) reach the broker in call order;
        # the waits for acknowledgements overlap.
        async with self._send_order:
            if self._partitions_known(producer, envelopes):
                send_all()  # appending to the producer's buffer does not block once a topic's partitions are known
            else:
                await asyncio.to_thread(send_all)  # the first send to a topic waits for its metadata
        await acknowledged

    def _partitions_known(self, producer: KafkaProducer, envelopes: Sequence[Envelope]) -> bool:
        metadata = getattr(producer, "_metadata", None)
        if metadata is None:
            return False
        topics = {envelope.topic for envelope in envelopes}
        return all(metadata.partitions_for_topic(self._namespace + topic) is not None for topic in topics)

    def lag(self) -> dict[str, int]:
        """Messages not yet handled per group; -1 before the group has its partitions.

        Exact at once for what this bus published (the broker's acks carry the offsets) and for what it
        handled; messages of other processes count from the consumer's next measurement (every 0.2 s).
        """
        self._lag_watched = time.monotonic()
        with self._lag_lock:
            lag: dict[str, int] = {}
            for group in {s.group for s in self._subscriptions}:
                assignment = self._assignments.get(group)
                if assignment is None:
                    lag[group] = -1
                    continue
                lag[group] = sum(max(0, self._ends.get(tp, 0) - self._handled.get((group, tp), 0)) for tp in assignment)
            return lag

    def _advance(self, offsets: dict[Any, int], key: Any, offset: int) -> None:
        with self._lag_lock:
            if offset > offsets.get(key, -1):
                offsets[key] = offset

    def _start_consumer(self, subscription: Subscription) -> None:
        thread = threading.Thread(
            target=self._consume, args=(subscription,), name=f"kafka:{subscription.group}", daemon=True
        )
        self._threads.append(thread)
        thread.start()

    def _consume(self, subscription: Subscription) -> None:
        # A consumer that fails (broker gone too long, commit refused after a rebalance, dead-letter publish
        # failed) is closed without committing and replaced: the group resumes at its last committed offset,
        # so whatever was handled but not committed is delivered again (at least once), and the thread lives.
        delay = 0.1
        while not self._stopping.is_set():
            started = time.monotonic()
            try:
                self._consume_with_one_consumer(subscription)
            except Exception as exc:
                log.error(
                    "consumer failed, restarting it",
                    extra={"group": subscription.group, "error": type(exc).__name__},
                )
                if time.monotonic() - started > 60:
                    delay = 0.1  # it had been working: a new fault, not the same one again
                self._stopping.wait(delay)
                delay = min(delay * 2, MAX_CONSUMER_RESTART_DELAY)

    def _consume_with_one_consumer(self, subscription: Subscription) -> None:
        loop = self._loop
        assert loop is not None
        consumer = KafkaConsumer(
            *(self._namespace + t for t in subscription.topics),
            bootstrap_servers=self._bootstrap,
            client_id=f"{self._client_id}-{subscription.group}",
            group_id=self._namespace + subscription.group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=500,
            # The broker answers a fetch as soon as one message is there (fetch_min_bytes=1) and otherwise holds it
            # for IDLE_FETCH_WAIT_MS: an idle consumer costs one fetch a second, not a busy loop, and no message
            # waits for it. Under load the messages that arrive while a batch is handled make the next batch.
            # A subscription that gathers collects its batch here, after the first message (see _gather): a fetch
            # that waits on the broker for a batch's worth of bytes would cost an idle consumer ten fetches a second.
            fetch_min_bytes=1,
            fetch_max_wait_ms=IDLE_FETCH_WAIT_MS,
            reconnect_backoff_max_ms=RECONNECT_BACKOFF_MAX_MS,
            metadata_max_age_ms=CONSUMER_METADATA_MAX_AGE_MS,
        )
        last_lag_check = 0.0
        committing: dict[TopicPartition, OffsetAndMetadata] = {}
        failed: list[BaseException] = []

        def committed(offsets: Any, response: Any) -> None:
            if isinstance(response, BaseException):
                failed.append(response)

        try:
            # Know the partitions before the first join: a group leader that assigns without them gives itself
            # nothing, and a missed metadata change would leave it idle until the next metadata refresh.
            for topic in subscription.topics:
                consumer.partitions_for_topic(self._namespace + topic)
            while not self._stopping.is_set():
                if failed:
                    # A refused commit (a rebalance took the partition): start over from the committed offsets.
                    raise failed[0]
                batch = consumer.poll(timeout_ms=POLL_TIMEOUT_MS, max_records=subscription.max_batch)
                # Every partition's records of this poll in one delivery (one transaction when the subscription
                # handles batches): order within each partition is kept, which is all Kafka promises.
                records = [record for partition in batch.values() for record in partition]
                if records and subscription.gather_seconds > 0:
                    records = self._gather(subscription, consumer, records)
                if records:
                    handled = self._handle(subscription, records, loop)
                    done: dict[TopicPartition, int] = {}
                    for record in records[:handled]:
                        done[TopicPartition(record.topic, record.partition)] = record.offset + 1
                    if done:
                        # Committed after the effect's own transaction, as before, but without waiting for the
                        # broker's answer: the next fetch goes out at once. A commit lost with the process means a
                        # redelivery, which the inbox makes harmless; a refused one restarts the consumer.
                        offsets = {tp: OffsetAndMetadata(offset, "", -1) for tp, offset in done.items()}
                        committing.update(offsets)
                        consumer.commit_async(offsets, callback=committed)
                        for tp, offset in done.items():
                            self._advance(self._handled, (subscription.group, tp), offset)
                    if handled < len(records):
                        break  # only when stopping: the rest comes again from the committed offsets
                now = time.monotonic()
                watched = now - self._lag_watched < LAG_WATCH_SECONDS
                if now - last_lag_check > (LAG_REFRESH_WATCHED if watched else LAG_REFRESH_IDLE):
                    last_lag_check = now
                    self._measure_lag(subscription.group, consumer)
            owned = {tp: offset for tp, offset in committing.items() if tp in consumer.assignment()}
            if owned and not failed:
                # A clean stop: what was handled is committed before the consumer leaves (fewer redeliveries).
                with contextlib.suppress(Exception):
                    consumer.commit(owned)
        finally:
            consumer.close(autocommit=False)

    def _gather(self, subscription: Subscription, consumer: KafkaConsumer, records: list[Any]) -> list[Any]:
        """More records for a gathering subscription, for up to its gather time after the first one arrived."""
        deadline = time.monotonic() + subscription.gather_seconds
        while len(records) < subscription.max_batch and not self._stopping.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            wanted = subscription.max_batch - len(records)
            more = consumer.poll(timeout_ms=max(1, round(left * 1000)), max_records=wanted)
            records.extend(record for partition in more.values() for record in partition)
        # Partition order is kept: each partition's records are appended in the order they were fetched.
        return records

    def _handle(self, subscription: Subscription, records: list[Any], loop: asyncio.AbstractEventLoop) -> int:
        """Deliver records (in partition order); return how many, from the first, are done with."""
        envelopes: list[Envelope] = []
        poison: list[Envelope] = []
        positions: list[int] = []  # record index of each envelope, so a partial delivery maps back to offsets
        for index, record in enumerate(records):
            try:
                positions.append(index)
                envelopes.append(
                    Envelope.from_headers(
                        topic=record.topic.removeprefix(self._namespace),
                        key=(record.key or b"").decode(),
                        payload=record.value or b"",
                        headers=list(record.headers or []),
                    )
                )
            except (ValueError, UnicodeDecodeError):
                positions.pop()
                unknown = Envelope(
                    topic=record.topic.removeprefix(self._namespace),
                    key="",
                    type="unknown",
                    source="unknown",
                    payload=record.value or b"",
                    municipality="",
                )
                poison.append(unknown.dead_lettered("poison:not_a_cloudevent"))
        if poison:
            asyncio.run_coroutine_threadsafe(self.publish(poison), loop).result()
        if not envelopes:
            return len(records)
        stopping = self._stopping.is_set
        delivery = deliver_batch(subscription, envelopes, dead_letter=self._dead_letter, stopping=stopping)
        handled = int(asyncio.run_coroutine_threadsafe(delivery, loop).result())
        if handled == len(envelopes):
            return len(records)
        # Records before the first unhandled envelope are done (poison among them was dead-lettered above).
        return positions[handled]

    async def _dead_letter(self, envelope: Envelope) -> None:
        await self.publish([envelope])

    def _measure_lag(self, group: str, consumer: KafkaConsumer) -> None:
        assignment = consumer.assignment()
        if not assignment:
            return
        partitions = [TopicPartition(tp.topic, tp.partition) for tp in assignment]
        ends = consumer.end_offsets(partitions)
        with self._lag_lock:
            previous = self._assignments.get(group, frozenset())
            known = {tp for tp in partitions if (group, tp) in self._handled}
        # The group's committed offset costs a broker round trip per partition: asked for a partition that is new
        # to this consumer (another member may have committed on it), and for all of them now and then (a partition
        # may have gone and come back between two measurements); otherwise our own commits keep it.
        now = time.monotonic()
        if now - self._committed_read.get(group, 0.0) > COMMITTED_REFRESH_SECONDS:
            self._committed_read[group] = now
            unknown = partitions
        else:
            unknown = [tp for tp in partitions if tp not in previous or tp not in known]
        committed = {tp: consumer.committed(tp) for tp in unknown}
        never = [tp for tp, offset in committed.items() if offset is None]
        # A group that never committed on a partition starts at its earliest retained offset, not at 0.
        starts = consumer.beginning_offsets(never) if never else {}
        for tp in partitions:
            self._advance(self._ends, tp, ends.get(tp, 0))
        for tp in unknown:
            handled = committed[tp]
            self._advance(self._handled, (group, tp), handled if handled is not None else starts.get(tp, 0))
        with self._lag_lock:
            self._assignments[group] = frozenset(partitions)
