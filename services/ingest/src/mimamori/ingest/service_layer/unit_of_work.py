"""ingest's unit of work: the kit's transaction plus ingest's repositories, and the bulk path of a load's events."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Self

from google.protobuf.message import Message
from sqlalchemy import Table, insert

from mimamori.contracts import event_type, topic_of
from mimamori.ingest.adapters.repository import (
    DeliveryKeyRepository,
    FileRepository,
    FreeTextRepository,
    QuarantineRepository,
    RunRepository,
    SourceRecordRepository,
    driver_connection,
)
from mimamori.kit.messaging.outbox import ROW_KEYS
from mimamori.kit.telemetry import current_traceparent
from mimamori.kit.unit_of_work import UnitOfWork


def time_ordered_prefix(moment: datetime) -> str:
    """The first 28 hex digits of the UUIDv7s of one batch of events (48 bits of Unix milliseconds, the version,
    42 random bits, the variant); each event appends its position in the batch as 8 hex digits."""
    milliseconds = int(moment.timestamp() * 1000) & (1 << 48) - 1
    random = int.from_bytes(os.urandom(6)) >> 6  # 42 bits
    rand_a, rand_b = random >> 30, random & (1 << 30) - 1  # 12 bits, then 30 (14 + 16) before the position
    h = f"{milliseconds:012x}"
    return f"{h[:8]}-{h[8:]}-7{rand_a:03x}-{0x8000 | rand_b >> 16:04x}-{rand_b & 0xFFFF:04x}"


class IngestUnitOfWork(UnitOfWork):
    """One ingest transaction."""

    files: FileRepository
    runs: RunRepository
    quarantine: QuarantineRepository
    records: SourceRecordRepository
    free_texts: FreeTextRepository
    delivery_keys: DeliveryKeyRepository

    def __init__(self, *, tables: dict[str, Table], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._tables = tables
        self._bulk_published = False
        missing = set(ROW_KEYS) - {c.name for c in self._outbox.table.c}  # the kit's outbox, as written here
        if missing:
            raise RuntimeError(f"the outbox lacks the columns {sorted(missing)}")

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self._bulk_published = False
        self.files = FileRepository(self.session, self._tables["delivered_files"])
        self.runs = RunRepository(self.session, self._tables["load_runs"], self._tables["delivered_files"])
        self.quarantine = QuarantineRepository(self.session, self._tables["quarantine"])
        self.records = SourceRecordRepository(
            self.session, self._tables["source_records"], self._tables["delivery_keys"]
        )
        self.free_texts = FreeTextRepository(self.session, self._tables["free_texts"])
        self.delivery_keys = DeliveryKeyRepository(self.session, self._tables["delivery_keys"])
        return self

    async def publish_payloads(
        self, payloads: Sequence[tuple[bytes, str]], *, example: Message, actor: str, purpose: str
    ) -> None:
        """Write the outbox rows of (serialized event, key) pairs of one message type (`example`'s) in this
        transaction: what `publish_many` does, for a load's batches (one statement on PostgreSQL, no envelope
        objects). The relay is woken on commit."""
        if not payloads:
            return
        traceparent, tracestate = current_traceparent()
        now = datetime.now(UTC)
        moment = now.isoformat(timespec="microseconds")
        topic, kind = topic_of(example), event_type(example)
        table = self._outbox.table
        driver = await driver_connection(self.session)
        if driver is not None:
            # One statement over two arrays. The event ids are time-ordered (UUIDv7, RFC 9562: this moment, random
            # bits drawn once per batch, the position in the batch last), so the outbox's unique index on them
            # grows at its right edge instead of taking a random page per event (half the database's cost).
            keys = [key for _, key in payloads]
            prefix = time_ordered_prefix(now)
            await driver.execute(
                f"INSERT INTO {table.name} (id, topic, key, type, source, payload, municipality, actor, purpose,"
                " traceparent, tracestate, created_at, event_time)"
                " SELECT $13 || lpad(to_hex(u.n), 8, '0'), $1, u.key, $2, $3, u.payload, $4, $5, $6, $7, $8, $9, $10"
                " FROM unnest($11::text[], $12::bytea[]) WITH ORDINALITY AS u(key, payload, n)",
                topic,
                kind,
                self._source,
                self._municipality,
                actor,
                purpose,
                traceparent,
                tracestate,
                now,
                moment,
                keys,
                [payload for payload, _ in payloads],
                prefix,
            )
        else:
            entropy = os.urandom(16 * len(payloads)).hex()
            common = {
                "topic": topic,
                "type": kind,
                "source": self._source,
                "municipality": self._municipality,
                "actor": actor,
                "purpose": purpose,
                "traceparent": traceparent,
                "tracestate": tracestate,
                "created_at": now,
                "event_time": moment,
            }
            rows = []
            for index, (payload, key) in enumerate(payloads):
                h = entropy[32 * index : 32 * index + 32]  # a version-4 UUID, formatted without uuid.UUID's cost
                event_id = f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"
                rows.append({"id": event_id, "key": key, "payload": payload} | common)
            await self.session.execute(insert(table), rows)
        self._bulk_published = True

    async def commit(self) -> None:
        """Commit (the kit's commit), then wake the relay for rows written by `publish_payloads`."""
        await super().commit()
        if self._bulk_published:
            self._bulk_published = False
            self._outbox.notify()
