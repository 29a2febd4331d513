"""Bench: an event from one service's outbox to another's committed effect, over real Kafka and PostgreSQL.

Two processes (so each has its own core and GIL): a producer service that commits one event per transaction at
a fixed rate (the relay woken on commit publishes it), and a consumer service whose idempotent handler commits
its effect with the inbox record. Latency = effect commit time - producer commit time (same machine clock).
Usage: python bench/event_latency.py --rate 1000 --seconds 20 --out bench/results/event_latency.json
Needs MIMAMORI_TEST_DATABASE_URL and MIMAMORI_TEST_KAFKA_BOOTSTRAP (bench.sh starts the local servers).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import statistics
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Column, MetaData, String, Table, insert, select, text
from stats import percentile  # bench/ is on sys.path when a bench runs as a script

from mimamori.events.casework.v1 import observation_pb2
from mimamori.kit.db import create_engine, session_factory
from mimamori.kit.messaging.inbox import subscription
from mimamori.kit.messaging.kafka import KafkaBus
from mimamori.kit.messaging.outbox import Outbox, outbox_table
from mimamori.kit.runtime.process import freeze_start_up_objects
from mimamori.kit.testing.servers import fresh_database
from mimamori.kit.unit_of_work import UnitOfWork, inbox_table


def tables(metadata: MetaData) -> tuple[Table, Table, Table]:
    effects = Table(
        "effects",
        metadata,
        Column("event_id", String(64), primary_key=True),
        Column("person_id", String(64), nullable=False),
    )
    return outbox_table(metadata), inbox_table(metadata), effects


async def setup_schema(url: str, schema: str) -> None:
    engine = create_engine(url, schema=schema)
    metadata = MetaData()
    tables(metadata)
    async with engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        await conn.execute(text(f'SET search_path TO "{schema}"'))
        await conn.run_sync(metadata.create_all)
    await engine.dispose()


def producer(url: str, bootstrap: str, topic: str, rate: int, seconds: float, per_tx: int, cpu: Any) -> None:
    async def main() -> None:
        engine = create_engine(url, schema="bench_producer")
        sessions = session_factory(engine)
        metadata = MetaData()
        outbox_t, inbox_t, _ = tables(metadata)
        bus = KafkaBus(bootstrap=bootstrap, client_id="bench-producer", create_topics=False)
        await bus.start()
        outbox = Outbox(table=outbox_t, sessions=sessions, bus=bus, poll_seconds=1.0, linger_seconds=0.005)
        await outbox.start()
        freeze_start_up_objects()  # as a serving process does (`mimamori run`)
        interval = per_tx / rate
        start = time.perf_counter()
        n = int(rate * seconds / per_tx)
        in_flight: set[asyncio.Task[None]] = set()

        async def one(i: int) -> None:
            uow = UnitOfWork(sessions=sessions, outbox=outbox, inbox=inbox_t, source="bench", municipality="143669")
            async with uow:
                for j in range(per_tx):
                    message = observation_pb2.ObservationRecorded(
                        observation_id=f"{i}.{j}", person_id=f"p{(i * per_tx + j) % 97}"
                    )
                    uow.publish(message, key=message.person_id, topic=topic)
                await uow.commit()

        for i in range(n):
            target = start + i * interval
            delay = target - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(one(i))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
        await asyncio.gather(*in_flight)
        deadline = time.monotonic() + 30
        while await outbox.backlog() and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        await outbox.stop()
        await bus.stop()
        await engine.dispose()

    asyncio.run(main())
    cpu.put(("producer", time.process_time()))


def consumer(url: str, bootstrap: str, topic: str, expected: int, ready: Any, done: Any, cpu: Any) -> None:
    async def main() -> None:
        engine = create_engine(url, schema="bench_consumer")
        sessions = session_factory(engine)
        metadata = MetaData()
        outbox_t, inbox_t, effects = tables(metadata)
        bus = KafkaBus(bootstrap=bootstrap, client_id="bench-consumer", create_topics=False)
        outbox = Outbox(table=outbox_t, sessions=sessions, bus=bus)
        count = 0

        record_effects = insert(effects)

        async def handle_many(events: Sequence[tuple[Any, Any]], uow: UnitOfWork) -> None:
            nonlocal count
            rows = [{"event_id": envelope.id, "person_id": message.person_id} for message, envelope in events]
            await uow.session.execute(record_effects, rows)  # one statement for the batch
            count += len(rows)

        def factory() -> UnitOfWork:
            return UnitOfWork(sessions=sessions, outbox=outbox, inbox=inbox_t, source="bench", municipality="143669")

        group = f"bench-{uuid.uuid4().hex[:8]}"

        bus.subscribe(subscription(group=group, topics=(topic,), uow=factory, handle_many=handle_many))
        await bus.start()
        while bus.lag().get(group, -1) < 0:
            await asyncio.sleep(0.05)
        freeze_start_up_objects()
        ready.set()
        deadline = time.monotonic() + 120
        while count < expected and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await bus.stop()
        await engine.dispose()
        done.set()

    asyncio.run(main())
    cpu.put(("consumer", time.process_time()))


async def collect(url: str) -> tuple[list[float], list[float]]:
    """Per event: outbox created_at to sent_at (the relay's share), and created_at to the consumer's commit."""
    producer_engine = create_engine(url, schema="bench_producer")
    consumer_engine = create_engine(url, schema="bench_consumer")
    metadata = MetaData()
    outbox_t, inbox_t, _ = tables(metadata)
    async with producer_engine.connect() as conn:
        rows = list(await conn.execute(select(outbox_t.c.id, outbox_t.c.created_at, outbox_t.c.sent_at)))
    created = {r.id: r.created_at for r in rows}
    relayed = [(r.sent_at - r.created_at).total_seconds() * 1000 for r in rows if r.sent_at is not None]
    async with consumer_engine.connect() as conn:
        processed = {
            r.message_id: r.processed_at
            for r in await conn.execute(select(inbox_t.c.message_id, inbox_t.c.processed_at))
        }
    await producer_engine.dispose()
    await consumer_engine.dispose()
    return relayed, [(processed[i] - created[i]).total_seconds() * 1000 for i in created if i in processed]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--per-tx", type=int, default=1, help="events committed together by the producer")
    parser.add_argument("--out", type=Path, default=Path("bench/results/event_latency.json"))
    parser.add_argument("--repeats", type=int, default=1, help="whole runs; the headline is their median p99")
    args = parser.parse_args()
    runs = [measure(args) for _ in range(args.repeats)]
    if len(runs) == 1:
        result = runs[0]
    else:
        p99s = sorted(r["p99_ms"] for r in runs)
        result = {
            **min(runs, key=lambda r: abs(r["p99_ms"] - statistics.median(p99s))),
            "repeats": len(runs),
            "p99_ms_of_each_run": [r["p99_ms"] for r in runs],
            "p50_ms_of_each_run": [r["p50_ms"] for r in runs],
            "median_p99_ms": round(statistics.median(p99s), 2),
            "met": statistics.median(p99s) <= 50 and all(r["delivered"] == r["events"] for r in runs),
            "met_in_every_run": all(r["met"] for r in runs),
        }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """One whole run: a fresh database and topic, the producer and consumer processes, the latencies."""
    admin = os.environ["MIMAMORI_TEST_DATABASE_URL"]
    bootstrap = os.environ["MIMAMORI_TEST_KAFKA_BOOTSTRAP"]
    topic = f"bench.latency-{uuid.uuid4().hex[:8]}.v1"
    expected = int(args.rate * args.seconds)
    with fresh_database(admin) as url:
        asyncio.run(setup_schema(url, "bench_producer"))
        asyncio.run(setup_schema(url, "bench_consumer"))
        asyncio.run(KafkaBus(bootstrap=bootstrap, client_id="bench-admin").ensure_topics({topic}))
        ctx = multiprocessing.get_context("spawn")
        ready, done, cpu = ctx.Event(), ctx.Event(), ctx.Queue()
        consuming = ctx.Process(target=consumer, args=(url, bootstrap, topic, expected, ready, done, cpu))
        consuming.start()
        ready.wait(60)
        producing = ctx.Process(
            target=producer, args=(url, bootstrap, topic, args.rate, args.seconds, args.per_tx, cpu)
        )
        producing.start()
        producing.join()
        done.wait(150)
        consuming.join(30)
        # Whole-process CPU (start-up included), per event: robust on a shared machine, unlike wall latency.
        used = dict(cpu.get(timeout=5) for _ in range(2))
        relayed, latencies = asyncio.run(collect(url))
    result = {
        "bench": "event outbox -> Kafka -> consumer effect committed",
        "rate_per_s": args.rate,
        "seconds": args.seconds,
        "events_per_producer_transaction": args.per_tx,
        "events": expected,
        "delivered": len(latencies),
        "p50_ms": round(statistics.median(latencies), 2),
        "p95_ms": round(percentile(latencies, 95), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "max_ms": round(max(latencies), 2),
        "relay_share_p50_ms": round(statistics.median(relayed), 2),
        "relay_share_p99_ms": round(percentile(relayed, 99), 2),
        "cpu_ms_per_event": {name: round(1000 * seconds / expected, 3) for name, seconds in sorted(used.items())},
        "target": "p99 <= 50 ms at 1,000 events/s",
        "met": percentile(latencies, 99) <= 50 and len(latencies) == expected,
    }
    return result


if __name__ == "__main__":
    main()
