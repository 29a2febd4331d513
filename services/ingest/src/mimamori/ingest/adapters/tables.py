"""ingest's tables (the migration in migrations/versions creates the same)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    false,
    text,
)

from mimamori.kit.db import BigKey, UtcDateTime


def delivered_file_columns() -> list[Any]:
    """One delivery: the bytes are kept by SHA-256 (stored once however often they come)."""
    return [
        Column("id", String(36), primary_key=True),
        Column("name", String(200), nullable=False),
        Column("source", String(40), nullable=False),
        Column("month", String(6), nullable=False),
        Column("sha256", String(64), nullable=False),
        Column("size", BigInteger, nullable=False),
        Column("received_at", UtcDateTime(), nullable=False),
        Column("received_by", String(200), nullable=False, server_default=""),
        Column("accepted_at", UtcDateTime(), nullable=True),
    ]


def load_run_columns() -> list[Any]:
    """One attempt to load one delivered file."""
    return [
        Column("id", String(36), primary_key=True),
        Column("file_id", String(36), ForeignKey("delivered_files.id"), nullable=False),
        Column("status", String(20), nullable=False),
        Column("duplicate_of", String(36), nullable=True),
        Column("total_rows", Integer, nullable=True),
        Column("rows", Integer, nullable=False, server_default="0"),
        Column("added", Integer, nullable=False, server_default="0"),
        Column("changed", Integer, nullable=False, server_default="0"),
        Column("unchanged", Integer, nullable=False, server_default="0"),
        Column("removed", Integer, nullable=False, server_default="0"),
        Column("quarantined", Integer, nullable=False, server_default="0"),
        Column("progress", Float, nullable=False, server_default="0"),
        Column("removals_withheld", Boolean, nullable=False, server_default=false()),
        Column("requested_by", String(200), nullable=False, server_default=""),
        Column("created_at", UtcDateTime(), nullable=False),
        Column("started_at", UtcDateTime(), nullable=True),
        Column("finished_at", UtcDateTime(), nullable=True),
        Column("error_code", String(60), nullable=True),
        Column("error_message", Text, nullable=True),
    ]


def quarantine_columns() -> list[Any]:
    """One problem of one quarantined row. No value is stored here: the row can be read from the kept file."""
    return [
        Column("id", BigKey, primary_key=True, autoincrement=True),
        Column("run_id", String(36), ForeignKey("load_runs.id"), nullable=False),
        Column("file_id", String(36), nullable=False),
        Column("row", Integer, nullable=False),
        Column("column", String(100), nullable=False),
        Column("reason_code", String(40), nullable=False),
        Column("reason", Text, nullable=False),
    ]


def source_record_columns() -> list[Any]:
    """The accepted state per (source, record): what the next delivery is compared with."""
    return [
        Column("source", String(40), primary_key=True),
        Column("record_key", String(36), primary_key=True),
        Column("natural_key", String(200), nullable=False),
        Column("digest", String(64), nullable=False),
        Column("document", Text, nullable=False),
        Column("removed", Boolean, nullable=False, server_default=false()),
        Column("file_id", String(36), nullable=False),
        Column("run_id", String(36), nullable=False),
        Column("row", Integer, nullable=False),
        Column("updated_at", UtcDateTime(), nullable=False),
        # month snapshots (出欠, 保健室): the delivery month the record belongs to; '' for other sources
        Column("scope", String(6), nullable=False, server_default=""),
    ]


def free_text_columns() -> list[Any]:
    """Free text (概要, 主訴, 備考, 相談メモ, 理由) of the current records, once per (record, column); never in
    an event, a log or a reason; served only through the purpose-checked route."""
    return [
        Column("record_key", String(36), primary_key=True),
        Column("column", String(100), primary_key=True),
        Column("source", String(40), nullable=False),
        Column("text", Text, nullable=False),
        Column("updated_at", UtcDateTime(), nullable=False),
    ]


def delivery_key_columns() -> list[Any]:
    """A record key one load run has met, with the digest of the row that had it first ('' for a quarantined row
    whose key was readable): what a later row with that key is compared with, and what removals are checked
    against. The run's rows are deleted when it ends (UNLOGGED on PostgreSQL: see migration 0003)."""
    return [
        Column("run_id", String(36), primary_key=True),
        Column("record_key", String(36), primary_key=True),
        Column("digest", String(64), nullable=False),
    ]


def define_tables(metadata: MetaData) -> dict[str, Table]:
    """The service's own tables."""
    files = Table(
        "delivered_files",
        metadata,
        *delivered_file_columns(),
        Index("ix_delivered_files_source_sha", "source", "sha256"),
    )
    runs = Table("load_runs", metadata, *load_run_columns(), Index("ix_load_runs_created", "created_at"))
    quarantine = Table("quarantine", metadata, *quarantine_columns(), Index("ix_quarantine_run_row", "run_id", "row"))
    records = Table(
        "source_records",
        metadata,
        *source_record_columns(),
        # month snapshots only: the records of other sources (scope '') do not pay for it
        Index(
            "ix_source_records_scope",
            "source",
            "scope",
            "record_key",
            postgresql_where=text("scope <> ''"),
            sqlite_where=text("scope <> ''"),
        ),
    )
    free_texts = Table("free_texts", metadata, *free_text_columns())
    delivery_keys = Table("delivery_keys", metadata, *delivery_key_columns())
    return {
        "delivery_keys": delivery_keys,
        "delivered_files": files,
        "load_runs": runs,
        "quarantine": quarantine,
        "source_records": records,
        "free_texts": free_texts,
    }
