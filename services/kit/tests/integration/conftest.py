"""Fixtures of the kit's integration tests: a tiny service (outbox, inbox, one table) on SQLite or PostgreSQL,
reading a Kafka topic from the broker's side, and a private Kafka broker that a test may stop and restart."""

from __future__ import annotations

import asyncio
import inspect
import os
import shutil
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer
from kafka.structs import TopicPartition
from sqlalchemy import Column, MetaData, String, Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from mimamori import contracts
from mimamori.events.casework.v1 import observation_pb2
from mimamori.kit.db import BigKey, create_engine, session_factory
from mimamori.kit.messaging.bus import EventBus, Handler
from mimamori.kit.messaging.envelope import Envelope
from mimamori.kit.messaging.inbox import idempotent
from mimamori.kit.messaging.outbox import Outbox, outbox_table
from mimamori.kit.migrations import upgrade
from mimamori.kit.testing import servers
from mimamori.kit.unit_of_work import UnitOfWork, inbox_table

REPO = Path(__file__).resolve().parents[4]
KAFKA_SH = REPO / "deploy" / "local" / "kafka.sh"
PROBE = REPO / "deploy" / "local" / "kafka" / "probe.py"
KIT_MIGRATIONS = Path(__file__).resolve().parent / "kit_migrations"
SCHEMA = "kittest"
MUNICIPALITY = "143669"

Pause = Callable[[Envelope], Awaitable[None]]
Eventually = Callable[..., Awaitable[None]]


@pytest.fixture
def eventually() -> Eventually:
    """Poll an async condition until it holds, or fail naming what was awaited."""

    async def holds(check: Callable[[], bool | Awaitable[bool]]) -> bool:
        result = check()
        return bool(await result) if inspect.isawaitable(result) else bool(result)

    async def wait(
        check: Callable[[], bool | Awaitable[bool]], *, within: float = 20.0, what: str = "it"
    ) -> None:
        deadline = time.monotonic() + within
        while not await holds(check):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0.02)

    return wait


def tiny_metadata() -> tuple[MetaData, Table, Table, Table]:
    """The tiny service's tables: outbox, inbox and the effects its consumer applies (one row per effect)."""
    metadata = MetaData()
    effects = Table(
        "effects",
        metadata,
        Column("n", BigKey, primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False),
        Column("observation_id", String(64), nullable=False),
    )
    return metadata, outbox_table(metadata), inbox_table(metadata), effects


@dataclass
class TinyService:
    """A service reduced to what the kit provides: unit of work, outbox relay, idempotent consumer."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    outbox: Outbox
    inbox: Table
    effects: Table
    deliveries: Counter[str] = field(default_factory=Counter)

    def uow(self) -> UnitOfWork:
        """A new unit of work of this service."""
        return UnitOfWork(
            sessions=self.sessions,
            outbox=self.outbox,
            inbox=self.inbox,
            source="kittest",
            municipality=MUNICIPALITY,
        )

    async def record(self, observation_id: str, *, key: str = "person-1") -> Envelope:
        """Commit one ObservationRecorded event (and nothing else)."""
        async with self.uow() as uow:
            envelope = uow.publish(
                observation_pb2.ObservationRecorded(observation_id=observation_id, person_id=key), key=key
            )
            await uow.commit()
        return envelope

    def consumer(self, group: str, *, pause: Pause | None = None) -> Handler:
        """An idempotent consumer whose effect is one new `effects` row; counts every delivery it sees."""

        async def apply(message: object, envelope: Envelope, uow: UnitOfWork) -> None:
            assert isinstance(message, observation_pb2.ObservationRecorded)
            if pause is not None:
                await pause(envelope)
            await uow.session.execute(
                insert(self.effects).values(event_id=envelope.id, observation_id=message.observation_id)
            )

        consume = idempotent(group=group, uow=self.uow, handle=apply)

        async def counted(envelope: Envelope) -> None:
            self.deliveries[envelope.id] += 1
            await consume(envelope)

        return counted

    async def effect_counts(self) -> Counter[str]:
        """How many times each event's effect was applied."""
        async with self.sessions() as session:
            rows = await session.execute(
                select(self.effects.c.event_id, func.count()).group_by(self.effects.c.event_id)
            )
            return Counter({event_id: count for event_id, count in rows.all()})

    async def unsent_ids(self) -> set[str]:
        """Event ids whose outbox rows are not marked sent."""
        t = self.outbox.table
        async with self.sessions() as session:
            rows = await session.execute(select(t.c.id).where(t.c.sent_at.is_(None)))
            return set(rows.scalars().all())

    async def outbox_ids(self) -> list[str]:
        """Every event id in the outbox, in commit order."""
        t = self.outbox.table
        async with self.sessions() as session:
            return list((await session.execute(select(t.c.id).order_by(t.c.seq))).scalars().all())


OpenService = Callable[..., Awaitable[TinyService]]


@pytest.fixture
async def tiny_service() -> AsyncIterator[OpenService]:
    """Open tiny services: migrated by the kit's alembic helpers; relays and engines stopped afterwards."""
    opened: list[TinyService] = []

    async def open_service(
        url: str, bus: EventBus, *, poll_seconds: float = 0.2, relay: bool = True
    ) -> TinyService:
        schema = SCHEMA if not url.startswith("sqlite") else None
        migration_engine = create_engine(url, schema=schema, pool_size=1)
        try:
            await upgrade(migration_engine, script_location=str(KIT_MIGRATIONS), schema=schema)
        finally:
            await migration_engine.dispose()
        engine = create_engine(url, schema=schema, pool_size=5)
        sessions = session_factory(engine)
        _, outbox_t, inbox_t, effects_t = tiny_metadata()
        outbox = Outbox(table=outbox_t, sessions=sessions, bus=bus, poll_seconds=poll_seconds)
        service = TinyService(
            engine=engine, sessions=sessions, outbox=outbox, inbox=inbox_t, effects=effects_t
        )
        opened.append(service)
        if relay:
            await outbox.start()
        return service

    yield open_service
    for service in opened:
        await service.outbox.stop()
        await service.engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of either kind: an aiosqlite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'kittest.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def observation_topic(monkeypatch: pytest.MonkeyPatch, unique: str) -> str:
    """A topic of this test only for ObservationRecorded (the contract registry is patched for the test)."""
    topic = f"kit.{unique}.observation.v1"
    monkeypatch.setitem(contracts.TOPICS, observation_pb2.ObservationRecorded, topic)
    return topic


def read_records(bootstrap: str, topic: str, *, timeout: float = 20.0) -> list[Any]:
    """Every record a Kafka topic holds, read without a group from the beginning to the end offsets."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    try:
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not tps:
            return []
        consumer.assign(tps)
        consumer.seek_to_beginning()
        ends = consumer.end_offsets(tps)
        records: list[Any] = []
        deadline = time.monotonic() + timeout
        while any(consumer.position(tp) < ends[tp] for tp in tps):
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not read {topic} to its end")
            for batch in consumer.poll(timeout_ms=200).values():
                records.extend(batch)
        records.sort(key=lambda r: (r.partition, r.offset))
        return records
    finally:
        consumer.close(autocommit=False)


TopicReader = Callable[..., Awaitable[list[Envelope]]]
HeaderReader = Callable[[str], Awaitable[list[list[tuple[str, bytes]]]]]


@pytest.fixture
def kafka_topic(kafka_bootstrap: str) -> TopicReader:
    """Read a topic's events as the broker holds them (the test broker unless another bootstrap is given)."""

    async def read(topic: str, *, bootstrap: str | None = None) -> list[Envelope]:
        records = await asyncio.to_thread(read_records, bootstrap or kafka_bootstrap, topic)
        return [
            Envelope.from_headers(
                topic=r.topic,
                key=(r.key or b"").decode(),
                payload=r.value or b"",
                headers=list(r.headers or []),
            )
            for r in records
        ]

    return read


@pytest.fixture
def kafka_headers(kafka_bootstrap: str) -> HeaderReader:
    """The raw headers of every record on a topic of the test broker."""

    async def read(topic: str) -> list[list[tuple[str, bytes]]]:
        records = await asyncio.to_thread(read_records, kafka_bootstrap, topic)
        return [list(r.headers or []) for r in records]

    return read


def _free_port_pair() -> int:
    """A port P such that P and P+1 (the KRaft controller) are both free on loopback."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port >= 65535:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port pair")


class Broker:
    """A Kafka broker of one test, started by deploy/local/kafka.sh on its own port and state dir."""

    def __init__(self, state_root: Path) -> None:
        self.port = _free_port_pair()
        self.bootstrap = f"127.0.0.1:{self.port}"
        self.state = state_root / f"kafka-{self.port}"
        self._env = {**os.environ, "KAFKA_PORT": str(self.port), "MIMAMORI_STATE_DIR": str(state_root)}

    def _script(self, command: str) -> None:
        done = subprocess.run(
            ["bash", str(KAFKA_SH), command], env=self._env, capture_output=True, text=True, timeout=150
        )
        if done.returncode != 0:
            raise RuntimeError(f"kafka.sh {command} failed: {done.stdout}\n{done.stderr}")

    def start(self) -> None:
        """Format fresh storage and start (kafka.sh start)."""
        self._script("start")

    def stop(self) -> None:
        """Stop cleanly (kafka.sh stop)."""
        self._script("stop")

    def pid(self) -> int:
        """The broker's process id."""
        return int((self.state / "kafka.pid").read_text().strip())

    def stop_keeping_data(self) -> Callable[[], None]:
        """Stop the broker now; return a function that starts the same broker again on the same data.

        kafka.sh start formats fresh storage, so the restart re-runs the stopped process's own command line.
        """
        command = (Path("/proc") / str(self.pid()) / "cmdline").read_bytes().decode().split("\0")[:-1]
        self.stop()

        def restart() -> None:
            # Detached like kafka.sh does it, so that no zombie of ours outlives the broker.
            launched = subprocess.run(
                ["bash", "-c", 'setsid "$@" </dev/null >>"$LOG" 2>&1 & echo $!', "restart", *command],
                env={**self._env, "LOG": str(self.state / "logs" / "kafka.out")},
                cwd=REPO,
                capture_output=True,
                text=True,
                check=True,
            )
            (self.state / "kafka.pid").write_text(launched.stdout.strip())
            probe = subprocess.run(
                [sys.executable, str(PROBE), "127.0.0.1", str(self.port), "--timeout", "90", "--quiet"],
                capture_output=True,
                text=True,
            )
            if probe.returncode != 0:
                raise RuntimeError(f"restarted broker not usable: {probe.stderr}")

        return restart


@pytest.fixture
def private_kafka(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """A broker of this test alone: it may be stopped without disturbing the others (needs kafka.sh)."""
    if shutil.which("java") is None:
        servers.unavailable("a private Kafka broker needs java (deploy/local/kafka.sh)")
    broker = Broker(tmp_path_factory.mktemp("kafka"))
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()
