"""Transactional outbox: events are rows written with the change; a relay publishes them, then marks them sent."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Column,
    Index,
    LargeBinary,
    MetaData,
    String,
    Table,
    any_,
    bindparam,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from mimamori.kit.db import (
    BigKey,
    Prebuilt,
    UtcDateTime,
    advisory_holders,
    advisory_key,
    driver_connection,
    driver_of,
    runs_prebuilt,
)
from mimamori.kit.messaging.bus import EventBus
from mimamori.kit.messaging.envelope import Envelope

log = logging.getLogger("mimamori.kit.outbox")

# Execution options of a connection whose every statement commits by itself (no BEGIN/COMMIT round trips).
AUTOCOMMIT: dict[str, Any] = {"isolation_level": "AUTOCOMMIT"}
# Batches the relay has published and not yet seen acknowledged: the next batch goes out while the previous one
# waits for the broker, so a slow acknowledgement does not hold up the rows committed meanwhile.
PIPELINE_DEPTH = 2
# How often, at most, a replica that does not relay asks whether the relay's lease is free (its holder stopped).
LEASE_RETRY_SECONDS = 1.0


def outbox_columns() -> list[Any]:
    """Columns of the `outbox` table (used by the table and by each service's first migration)."""
    return [
        Column("seq", BigKey, primary_key=True, autoincrement=True),
        Column("id", String(36), nullable=False, unique=True),
        Column("topic", String(200), nullable=False),
        Column("key", String(200), nullable=False),
        Column("type", String(200), nullable=False),
        Column("source", String(100), nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("municipality", String(10), nullable=False),
        Column("actor", String(200), nullable=False, server_default=""),
        Column("purpose", String(60), nullable=False, server_default=""),
        Column("traceparent", String(100), nullable=False, server_default=""),
        Column("tracestate", String(500), nullable=False, server_default=""),
        Column("created_at", UtcDateTime(), nullable=False),
        Column("event_time", String(40), nullable=False),
        Column("sent_at", UtcDateTime(), nullable=True),
    ]


def outbox_table(metadata: MetaData) -> Table:
    """The outbox table in a service's metadata."""
    table = Table("outbox", metadata, *outbox_columns())
    # Partial: only unsent rows, so the relay's scan costs what is pending, not what was ever sent.
    unsent = table.c.sent_at.is_(None)
    Index("ix_outbox_unsent", table.c.seq, postgresql_where=unsent, sqlite_where=unsent)
    return table


# The outbox row of an event, in this order: every column but `seq` (given by the database) and `sent_at` (empty
# until the relay has published it).
ROW_KEYS = (
    "id", "topic", "key", "type", "source", "payload", "municipality", "actor", "purpose", "traceparent",
    "tracestate", "created_at", "event_time",
)


def envelope_row(envelope: Envelope) -> dict[str, Any]:
    """The outbox row that stands for an envelope."""
    return {
        "id": envelope.id,
        "topic": envelope.topic,
        "key": envelope.key,
        "type": envelope.type,
        "source": envelope.source,
        "payload": envelope.payload,
        "municipality": envelope.municipality,
        "actor": envelope.actor,
        "purpose": envelope.purpose,
        "traceparent": envelope.traceparent,
        "tracestate": envelope.tracestate,
        "created_at": datetime.now(UTC),
        "event_time": envelope.time,
    }


def relay_lease_key(schema: str, table: str) -> int:
    """The advisory lock whose holder relays one outbox."""
    return advisory_key(f"mimamori.outbox:{schema}.{table}")


class RelayLease:
    """Which replica of a service relays its outbox on PostgreSQL: the one holding a session advisory lock of the
    outbox, on a connection of its own (outside the pool, so the requests' pool keeps its size). Without it, two
    replicas (the production overlay runs two of casework) would each fetch and publish every unsent row. The others
    tell the holder of their commits with NOTIFY, so their events leave as soon as the holder's own; when the holder
    stops, or its process or connection dies, the server frees the lock and the next replica to ask takes it."""

    def __init__(self, engine: AsyncEngine, table: str, wake: Callable[[], None]) -> None:
        self._engine = engine
        self._table = table
        self._wake = wake
        self._own: AsyncEngine | None = None
        self._connection: AsyncConnection | None = None
        self._driver: Any = None
        self._schema: str | None = None
        self._key = 0
        self._next_try = 0.0

    @property
    def channel(self) -> str:
        """The NOTIFY channel of this outbox (known after the first `acquire`)."""
        return f"mimamori_outbox_{self._schema}"

    @property
    def held(self) -> bool:
        """Whether this replica relays (its lock connection is alive)."""
        return self._driver is not None and not self._driver.is_closed()

    async def acquire(self) -> bool:
        """Whether this replica holds the lease, taking it when free (asking at most every LEASE_RETRY_SECONDS)."""
        if self._connection is not None:
            if self.held:
                return True
            await self.release()  # the connection died: the server has freed the lock
        now = time.monotonic()
        if now < self._next_try:
            return False
        self._next_try = now + LEASE_RETRY_SECONDS
        async with driver_connection(self._engine) as driver:
            if self._schema is None:
                schema: str = await driver.fetchval("SELECT current_schema()")
                self._schema, self._key = schema, relay_lease_key(schema, self._table)
            # Held by another replica (the usual answer): known from a pooled connection, no connection opened.
            if await advisory_holders(driver, self._key):
                return False
        if self._own is None:
            self._own = create_async_engine(self._engine.url, poolclass=NullPool)
        connection = await self._own.connect()
        try:
            driver = await driver_of(connection)
            if not await driver.fetchval("SELECT pg_try_advisory_lock($1)", self._key):
                await connection.close()
                return False
            await driver.add_listener(self.channel, self._notified)
        except BaseException:
            await connection.close()
            raise
        self._connection, self._driver = connection, driver
        log.info("outbox relay lease taken", extra={"outbox": f"{self._schema}.{self._table}"})
        return True

    async def nudge(self) -> None:
        """Tell the holder that rows were committed here."""
        if self._schema is None:
            return  # never asked yet: the first acquire learns the channel
        async with driver_connection(self._engine) as driver:
            await driver.execute("SELECT pg_notify($1, '')", self.channel)

    async def release(self) -> None:
        """Give the lease up: its connection is closed (the server frees the lock with it)."""
        connection, self._connection, self._driver = self._connection, None, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.close()

    async def close(self) -> None:
        """Give the lease up and close its connection's engine."""
        await self.release()
        if self._own is not None:
            await self._own.dispose()
            self._own = None

    def _notified(self, *_: Any) -> None:
        self._wake()


class Outbox:
    """Relays one service's outbox to the bus. Woken on every commit; polls as a fallback. On PostgreSQL one replica
    of a service relays at a time (`RelayLease`)."""

    def __init__(
        self,
        *,
        table: Table,
        sessions: async_sessionmaker[AsyncSession],
        bus: EventBus,
        poll_seconds: float = 1.0,
        batch_size: int = 500,
        linger_seconds: float = 0.0,
    ) -> None:
        self.table = table
        # The insert of a unit of work's events, for units that run it on the driver connection (see Prebuilt).
        self.insert = Prebuilt(insert(table).inline(), keys=ROW_KEYS)
        # The relay's own statements, run on the driver connection on PostgreSQL (see Prebuilt).
        unsent = table.c.sent_at.is_(None)
        self._select_unsent = Prebuilt(select(table).where(unsent).order_by(table.c.seq).limit(bindparam("limit")))
        self._mark = Prebuilt(
            update(table)
            .where(table.c.seq == any_(bindparam("seqs", type_=ARRAY(BigInteger()))))
            .values(sent_at=bindparam("sent_at"))
        )
        self._sessions = sessions
        self._bus = bus
        self._poll = poll_seconds
        self._batch = batch_size
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._linger = linger_seconds
        self._lingering: asyncio.TimerHandle | None = None
        # Rows published and not yet marked sent, by seq: never fetched again while their publish is under way.
        # (Not a cursor: a row committed late, with a lower seq than rows already relayed, is still found.)
        self._in_flight: set[int] = set()
        # Rows marked sent since the current fetch began: that fetch may have read them as unsent (its statement
        # started before the mark committed) after they left `_in_flight`; they must not go out twice.
        self._sent_during_fetch: set[int] = set()
        self._publishing: set[asyncio.Task[int]] = set()
        self._full = False
        # The engine whose driver connections run the relay's Prebuilt statements (asyncpg), or None (SQLite).
        bind = sessions.kw.get("bind")
        self._prebuilt_engine = bind if isinstance(bind, AsyncEngine) and runs_prebuilt(bind) else None
        engine = self._prebuilt_engine
        self._lease = RelayLease(engine, table.name, self._wake.set) if engine is not None else None
        # Rows were committed by this replica since it last relayed or told the relaying replica.
        self._committed_here = False

    @property
    def relaying(self) -> bool:
        """Whether this relay is running and is the one relaying its outbox (it holds the lease, or needs none)."""
        running = self._task is not None and not self._task.done()
        return running and (self._lease is None or self._lease.held)

    def notify(self) -> None:
        """Something was committed: relay now, or after `linger_seconds` so one relay takes many rows."""
        self._committed_here = True
        if self._linger <= 0:
            self._wake.set()
        elif self._lingering is None:
            self._lingering = asyncio.get_running_loop().call_later(self._linger, self._linger_over)

    def _linger_over(self) -> None:
        self._lingering = None
        self._wake.set()

    async def start(self) -> None:
        """Start the relay task."""
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name=f"outbox:{self.table.fullname}")

    async def stop(self) -> None:
        """Stop relaying (unsent rows stay for the next start)."""
        if self._task is not None:
            # The flag as well as the cancel: on Python 3.11 asyncio.wait_for can swallow a cancellation that
            # arrives as its timeout fires, and the relay would then run on (and stop() wait) forever.
            self._stopping = True
            if self._lingering is not None:
                self._lingering.cancel()
                self._lingering = None
            self._wake.set()
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._lease is not None:
            await self._lease.close()

    @contextlib.asynccontextmanager
    async def _autocommit(self) -> AsyncIterator[AsyncConnection]:
        """A pooled connection in autocommit: one statement, one round trip (no BEGIN/ROLLBACK, no Session)."""
        engine = self._sessions.kw.get("bind")
        if isinstance(engine, AsyncEngine):
            async with engine.connect() as connection:
                yield await connection.execution_options(**AUTOCOMMIT)
            return
        async with self._sessions() as session:
            yield await session.connection(execution_options=AUTOCOMMIT)

    async def backlog(self) -> int:
        """Rows not yet sent."""
        async with self._autocommit() as connection:
            rows = await connection.execute(
                select(self.table.c.seq).where(self.table.c.sent_at.is_(None)).limit(10000)
            )
            return len(rows.all())

    async def fetch_unsent(self, *, exclude: Collection[int] = ()) -> list[tuple[int, Envelope]]:
        """The oldest unsent rows as envelopes, in commit order (without the rows whose seq is in `exclude`)."""
        t = self.table
        engine = self._prebuilt_engine
        if engine is not None:
            params = {"limit": self._batch + len(exclude)}
            async with driver_connection(engine) as driver:
                records = await driver.fetch(self._select_unsent.sql, *self._select_unsent.arguments(params))
            rows = [(record["seq"], _envelope_of_record(record)) for record in records if record["seq"] not in exclude]
            return rows[: self._batch]
        async with self._autocommit() as connection:
            result = await connection.execute(
                select(t).where(t.c.sent_at.is_(None)).order_by(t.c.seq).limit(self._batch + len(exclude))
            )
            rows = [(row.seq, _envelope(row)) for row in result if row.seq not in exclude]
        return rows[: self._batch]

    async def mark_sent(self, seqs: Sequence[int]) -> None:
        """Record that these rows reached the broker (one statement, atomic on its own)."""
        engine = self._prebuilt_engine
        if engine is not None:
            params = {"seqs": list(seqs), "sent_at": datetime.now(UTC)}
            async with driver_connection(engine) as driver:
                await driver.execute(self._mark.sql, *self._mark.arguments(params))
            return
        async with self._autocommit() as connection:
            await connection.execute(
                update(self.table).where(self.table.c.seq.in_(list(seqs))).values(sent_at=datetime.now(UTC))
            )

    async def relay_once(self) -> int:
        """Publish one batch and mark it sent only after the broker's ack; return how many."""
        batch = await self.fetch_unsent()
        if not batch:
            return 0
        await self._bus.publish([envelope for _, envelope in batch])
        await self.mark_sent([seq for seq, _ in batch])
        return len(batch)

    async def _publish_and_mark(self, batch: list[tuple[int, Envelope]]) -> int:
        try:
            await self._bus.publish([envelope for _, envelope in batch])
            await self.mark_sent([seq for seq, _ in batch])
        except BaseException:
            self._in_flight.difference_update(seq for seq, _ in batch)
            self._wake.set()  # the relay settles and retries
            raise
        self._sent_during_fetch.update(seq for seq, _ in batch)
        self._in_flight.difference_update(seq for seq, _ in batch)
        if self._full:
            self._full = False
            self._wake.set()  # a slot is free for rows that waited for one
        return len(batch)

    async def _settle(self) -> None:
        """Wait for every batch under way; raise the first failure."""
        tasks, self._publishing = self._publishing, set()
        if tasks:
            results = await asyncio.gather(*tasks, return_exceptions=True)
            for result in results:
                if isinstance(result, BaseException):
                    raise result

    async def _relay_pipelined(self) -> None:
        """Start publishing every unsent row not already under way, PIPELINE_DEPTH batches at most at once."""
        while True:
            done = {task for task in self._publishing if task.done()}
            self._publishing -= done
            for task in done:
                task.result()  # a failed batch: its rows are unsent; stop here, settle, retry from the table
            if len(self._publishing) >= PIPELINE_DEPTH:
                self._full = True
                return  # woken again when one finishes
            self._sent_during_fetch = set()
            fetched = await self.fetch_unsent(exclude=self._in_flight)
            batch = [(seq, envelope) for seq, envelope in fetched if seq not in self._sent_during_fetch]
            if len(batch) < len(fetched):
                continue  # some rows went out while reading: read again (they now show as sent)
            if not batch:
                return
            self._in_flight.update(seq for seq, _ in batch)
            task = asyncio.create_task(self._publish_and_mark(batch))
            self._publishing.add(task)
            if len(batch) < self._batch:
                return  # rows committed meanwhile wake us again (notify)

    async def _run(self) -> None:
        delay = 0.05
        try:
            while not self._stopping:
                self._wake.clear()
                try:
                    if self._lease is not None and not await self._lease.acquire():
                        # Another replica relays: tell it of this one's commits.
                        if self._committed_here:
                            self._committed_here = False
                            await self._lease.nudge()
                    else:
                        self._committed_here = False
                        await self._relay_pipelined()
                    delay = 0.05
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.warning("outbox relay failed, will retry", extra={"error": type(exc).__name__})
                    # Nothing newer goes out before the failed rows are retried: let the other batches finish.
                    with contextlib.suppress(Exception):
                        await self._settle()
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 5.0)
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self._poll)
        finally:
            for task in self._publishing:
                task.cancel()
            if self._publishing:
                await asyncio.gather(*self._publishing, return_exceptions=True)
            self._publishing = set()
            self._in_flight.clear()


def _envelope_of_record(record: Any) -> Envelope:
    return Envelope(
        topic=record["topic"],
        key=record["key"],
        type=record["type"],
        source=record["source"],
        payload=record["payload"],
        municipality=record["municipality"],
        id=record["id"],
        time=record["event_time"],
        actor=record["actor"],
        purpose=record["purpose"],
        traceparent=record["traceparent"],
        tracestate=record["tracestate"],
    )


def _envelope(row: Any) -> Envelope:
    return Envelope(
        topic=row.topic,
        key=row.key,
        type=row.type,
        source=row.source,
        payload=row.payload,
        municipality=row.municipality,
        id=row.id,
        time=row.event_time,
        actor=row.actor,
        purpose=row.purpose,
        traceparent=row.traceparent,
        tracestate=row.tracestate,
    )
