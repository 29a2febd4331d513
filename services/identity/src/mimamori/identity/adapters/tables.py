"""identity's tables."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from mimamori.kit.db import BigKey


def define_tables(metadata: MetaData) -> dict[str, Table]:
    """The service's own tables."""
    persons = Table(
        "persons",
        metadata,
        Column("id", String(36), primary_key=True),
        Column("atena_no", String(20), nullable=True, unique=True),
        Column("created_at", DateTime(timezone=True), nullable=False),
    )
    source_records = Table(
        "source_records",
        metadata,
        Column("record_key", String(200), primary_key=True),
        Column("source", String(40), nullable=False),
        Column("municipality", String(10), nullable=False),
        Column("atena_no", String(20), nullable=False),
        Column("setai_code", String(20), nullable=False),
        Column("name", Text, nullable=False),
        Column("name_kana", Text, nullable=False),
        Column("name_kana_key", String(200), nullable=False),
        Column("sex", String(10), nullable=False),
        Column("birth_date_raw", String(20), nullable=False),
        Column("birth_date_iso", String(10), nullable=False),
        Column("zokugara", String(40), nullable=False),
        Column("address", Text, nullable=False),
        Column("resident_since_raw", String(20), nullable=False),
        Column("resident_since_iso", String(10), nullable=False),
        Column("change_reason", String(40), nullable=False),
        Column("change_date_raw", String(20), nullable=False),
        Column("change_date_iso", String(10), nullable=False),
        Column("resident_status", String(10), nullable=False),
        Column("dv_support", Boolean, nullable=False),
        Column("present", Boolean, nullable=False),
        Column("file_name", String(300), nullable=False),
        Column("row", Integer, nullable=False),
        Column("file_sha256", String(64), nullable=False),
        Column("load_run_id", String(64), nullable=False),
        Column("version", Integer, nullable=False),
        Column("first_seen_at", DateTime(timezone=True), nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False),
        Index("ix_source_records_setai", "setai_code"),
        Index("ix_source_records_atena", "atena_no"),
        Index("ix_source_records_kana_birth", "name_kana_key", "birth_date_iso"),
    )
    source_record_versions = Table(
        "source_record_versions",
        metadata,
        Column("id", BigKey, primary_key=True, autoincrement=True),
        Column("record_key", String(200), nullable=False),
        Column("version", Integer, nullable=False),
        Column("change", String(10), nullable=False),
        Column("event_id", String(64), nullable=False),
        Column("event_time", String(40), nullable=False),
        Column("received_at", DateTime(timezone=True), nullable=False),
        Column("file_name", String(300), nullable=False),
        Column("row", Integer, nullable=False),
        Column("file_sha256", String(64), nullable=False),
        Column("load_run_id", String(64), nullable=False),
        Column("payload", JSON, nullable=False),
        Index("ux_source_record_versions", "record_key", "version", unique=True),
    )
    record_links = Table(
        "record_links",
        metadata,
        Column("record_key", String(200), primary_key=True),
        Column("person_id", String(36), nullable=False),
        Column("grade", String(20), nullable=False),
        Column("reason", String(40), nullable=False),
        Column("linked_at", DateTime(timezone=True), nullable=False),
        Index("ix_record_links_person", "person_id"),
    )
    name_history = Table(
        "name_history",
        metadata,
        Column("id", BigKey, primary_key=True, autoincrement=True),
        Column("person_id", String(36), nullable=False),
        Column("record_key", String(200), nullable=False),
        Column("name", Text, nullable=False),
        Column("name_kana", Text, nullable=False),
        Column("change_reason", String(40), nullable=False),
        Column("change_date_raw", String(20), nullable=False),
        Column("change_date_iso", String(10), nullable=False),
        Column("event_id", String(64), nullable=False),
        Column("recorded_at", DateTime(timezone=True), nullable=False),
        Index("ix_name_history_person", "person_id", "id"),
    )
    households = Table(
        "households",
        metadata,
        Column("id", String(36), primary_key=True),
        Column("setai_code", String(20), nullable=False, unique=True),
        Column("version", BigInteger, nullable=False),
        Column("members", JSON, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False),
    )
    household_memberships = Table(
        "household_memberships",
        metadata,
        Column("id", BigKey, primary_key=True, autoincrement=True),
        Column("household_id", String(36), nullable=False),
        Column("person_id", String(36), nullable=False),
        Column("record_key", String(200), nullable=False),
        Column("joined_on_raw", String(20), nullable=False),
        Column("joined_at", DateTime(timezone=True), nullable=False),
        Column("left_on_raw", String(20), nullable=True),
        Column("left_at", DateTime(timezone=True), nullable=True),
        Index("ix_household_memberships_record", "record_key", "left_at"),
        Index("ix_household_memberships_person", "person_id", "id"),
    )
    return {
        "persons": persons,
        "source_records": source_records,
        "source_record_versions": source_record_versions,
        "record_links": record_links,
        "name_history": name_history,
        "households": households,
        "household_memberships": household_memberships,
    }
