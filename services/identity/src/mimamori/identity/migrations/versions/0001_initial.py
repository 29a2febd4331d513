"""identity: persons, source records and their versions, links, name history, households, outbox and inbox.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from mimamori.kit.db import BigKey
from mimamori.kit.migrations import create_messaging_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _text(name: str, length: int | None = None) -> sa.Column[str]:
    return sa.Column(name, sa.String(length) if length else sa.Text, nullable=False)


def upgrade() -> None:
    create_messaging_tables(op)
    op.create_table(
        "persons",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("atena_no", sa.String(20), nullable=True, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "source_records",
        sa.Column("record_key", sa.String(200), primary_key=True),
        _text("source", 40),
        _text("municipality", 10),
        _text("atena_no", 20),
        _text("setai_code", 20),
        _text("name"),
        _text("name_kana"),
        _text("name_kana_key", 200),
        _text("sex", 10),
        _text("birth_date_raw", 20),
        _text("birth_date_iso", 10),
        _text("zokugara", 40),
        _text("address"),
        _text("resident_since_raw", 20),
        _text("resident_since_iso", 10),
        _text("change_reason", 40),
        _text("change_date_raw", 20),
        _text("change_date_iso", 10),
        _text("resident_status", 10),
        sa.Column("dv_support", sa.Boolean, nullable=False),
        sa.Column("present", sa.Boolean, nullable=False),
        _text("file_name", 300),
        sa.Column("row", sa.Integer, nullable=False),
        _text("file_sha256", 64),
        _text("load_run_id", 64),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_source_records_setai", "source_records", ["setai_code"])
    op.create_index("ix_source_records_atena", "source_records", ["atena_no"])
    op.create_index("ix_source_records_kana_birth", "source_records", ["name_kana_key", "birth_date_iso"])
    op.create_table(
        "source_record_versions",
        sa.Column("id", BigKey, primary_key=True, autoincrement=True),
        _text("record_key", 200),
        sa.Column("version", sa.Integer, nullable=False),
        _text("change", 10),
        _text("event_id", 64),
        _text("event_time", 40),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        _text("file_name", 300),
        sa.Column("row", sa.Integer, nullable=False),
        _text("file_sha256", 64),
        _text("load_run_id", 64),
        sa.Column("payload", sa.JSON, nullable=False),
    )
    op.create_index("ux_source_record_versions", "source_record_versions", ["record_key", "version"], unique=True)
    op.create_table(
        "record_links",
        sa.Column("record_key", sa.String(200), primary_key=True),
        _text("person_id", 36),
        _text("grade", 20),
        _text("reason", 40),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_record_links_person", "record_links", ["person_id"])
    op.create_table(
        "name_history",
        sa.Column("id", BigKey, primary_key=True, autoincrement=True),
        _text("person_id", 36),
        _text("record_key", 200),
        _text("name"),
        _text("name_kana"),
        _text("change_reason", 40),
        _text("change_date_raw", 20),
        _text("change_date_iso", 10),
        _text("event_id", 64),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_name_history_person", "name_history", ["person_id", "id"])
    op.create_table(
        "households",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("setai_code", sa.String(20), nullable=False, unique=True),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.Column("members", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "household_memberships",
        sa.Column("id", BigKey, primary_key=True, autoincrement=True),
        _text("household_id", 36),
        _text("person_id", 36),
        _text("record_key", 200),
        _text("joined_on_raw", 20),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("left_on_raw", sa.String(20), nullable=True),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_household_memberships_record", "household_memberships", ["record_key", "left_at"])
    op.create_index("ix_household_memberships_person", "household_memberships", ["person_id", "id"])
