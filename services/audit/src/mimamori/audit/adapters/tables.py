"""audit's tables: the ledger, its person index and the checkpoints; all three are insert-only."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, MetaData, String, Table, Text

from mimamori.kit.db import BigKey, UtcDateTime

LEDGER = "ledger"
LEDGER_PERSONS = "ledger_persons"
CHECKPOINTS = "checkpoints"
INSERT_ONLY = (LEDGER, LEDGER_PERSONS, CHECKPOINTS)


def define_tables(metadata: MetaData) -> dict[str, Table]:
    """The service's own tables (the migration creates them and the triggers that keep them insert-only)."""
    # Text columns from the producers are unbounded: an over-long value must not make an access undeliverable.
    ledger = Table(
        LEDGER,
        metadata,
        Column("seq", BigKey, primary_key=True, autoincrement=False),
        Column("event_id", String(), nullable=False, unique=True),
        Column("recorded_at", UtcDateTime(), nullable=False),
        Column("occurred_at", String(32), nullable=False),
        Column("recorder", String(), nullable=False),
        Column("actor", String(), nullable=False),
        Column("purpose", String(), nullable=False),
        Column("outcome", String(), nullable=False),
        Column("break_glass", Boolean, nullable=False),
        Column("body", Text, nullable=False),
        Column("prev_hash", String(64), nullable=False),
        Column("hash", String(64), nullable=False),
        Index("ix_ledger_occurred_at", "occurred_at"),
        Index("ix_ledger_actor", "actor", "seq"),
    )
    ledger_persons = Table(
        LEDGER_PERSONS,
        metadata,
        Column("person_id", String(), primary_key=True),
        Column("seq", BigInteger, primary_key=True),
        Index("ix_ledger_persons_seq", "seq"),
    )
    checkpoints = Table(
        CHECKPOINTS,
        metadata,
        Column("id", BigKey, primary_key=True, autoincrement=True),
        Column("seq", BigInteger, nullable=False),
        Column("hash", String(64), nullable=False),
        Column("signed_at", UtcDateTime(), nullable=False),
        Column("key_id", String(100), nullable=False),
        Column("token", Text, nullable=False),
    )
    return {LEDGER: ledger, LEDGER_PERSONS: ledger_persons, CHECKPOINTS: checkpoints}
