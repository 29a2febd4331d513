"""Transactional outbox: events are rows written with the change; a relay publishes them, then marks them sent."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Index,
    LargeBinary,
    MetaData,
    String,
    Table,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mimamori.kit.db import BigKey
from mimamori.kit.messaging.bus import EventBus
from mimamori.kit.messaging.envelope import Envelope

log = logging.getLogger("mimamori.kit.outbox")


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
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("event_time", String(40), nullable=False),
        Column("sent_at", DateTime(timezone=True), nullable=True),
    ]


def outbox_table(metadata: MetaData) -> Table:
    """The outbox table in a service's metadata."""
    return Table("outbox", metadata, *outbox_columns(), Index("ix_outbox_unsent", "sent_at", "seq"))


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


class Outbox:
    """Relays one service's outbox to the bus. Woken on every commit; polls as a fallback."""

    def __init__(
        self,
        *,
        table: Table,
        sessions: async_sessionmaker[AsyncSession],
        bus: EventBus,
        poll_seconds: float = 1.0,
        batch_size: int = 500,
    ) -> None:
        self.table = table
        self._sessions = sessions
        self._bus = bus
        self._poll = poll_seconds
        self._batch = batch_size
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def notify(self) -> None:
        """Something was committed: relay now."""
        self._wake.set()

    async def start(self) -> None:
        """Start the relay task."""
        self._task = asyncio.create_task(self._run(), name=f"outbox:{self.table.fullname}")

    async def stop(self) -> None:
        """Stop relaying (unsent rows stay for the next start)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def backlog(self) -> int:
        """Rows not yet sent."""
        async with self._sessions() as session:
            rows = await session.execute(select(self.table.c.seq).where(self.table.c.sent_at.is_(None)).limit(10000))
            return len(rows.all())

    async def fetch_unsent(self) -> list[tuple[int, Envelope]]:
        """The oldest unsent rows as envelopes, in commit order."""
        t = self.table
        async with self._sessions() as session:
            result = await session.execute(
                select(t).where(t.c.sent_at.is_(None)).order_by(t.c.seq).limit(self._batch)
            )
            return [(row.seq, _envelope(row)) for row in result]

    async def mark_sent(self, seqs: Sequence[int]) -> None:
        """Record that these rows reached the broker."""
        async with self._sessions.begin() as session:
            await session.execute(
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

    async def _run(self) -> None:
        delay = 0.05
        while True:
            self._wake.clear()
            try:
                while await self.relay_once():
                    pass
                delay = 0.05
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("outbox relay failed, will retry", extra={"error": type(exc).__name__})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll)


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
