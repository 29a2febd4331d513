"""ingest: delivered files, load runs, quarantine, source-record state, outbox and inbox.

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


def upgrade() -> None:
    create_messaging_tables(op)
    op.create_table(
        "delivered_files",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("month", sa.String(6), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_by", sa.String(200), nullable=False, server_default=""),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_delivered_files_source_sha", "delivered_files", ["source", "sha256"])
    op.create_table(
        "load_runs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("file_id", sa.String(36), sa.ForeignKey("delivered_files.id"), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("duplicate_of", sa.String(36), nullable=True),
        sa.Column("total_rows", sa.Integer, nullable=True),
        sa.Column("rows", sa.Integer, nullable=False, server_default="0"),
        sa.Column("added", sa.Integer, nullable=False, server_default="0"),
        sa.Column("changed", sa.Integer, nullable=False, server_default="0"),
        sa.Column("unchanged", sa.Integer, nullable=False, server_default="0"),
        sa.Column("removed", sa.Integer, nullable=False, server_default="0"),
        sa.Column("quarantined", sa.Integer, nullable=False, server_default="0"),
        sa.Column("progress", sa.Float, nullable=False, server_default="0"),
        sa.Column("removals_withheld", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("requested_by", sa.String(200), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error_code", sa.String(60), nullable=True),
        sa.Column("error_message", sa.Text, nullable=True),
    )
    op.create_index("ix_load_runs_created", "load_runs", ["created_at"])
    op.create_table(
        "quarantine",
        sa.Column("id", BigKey, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(36), sa.ForeignKey("load_runs.id"), nullable=False),
        sa.Column("file_id", sa.String(36), nullable=False),
        sa.Column("row", sa.Integer, nullable=False),
        sa.Column("column", sa.String(100), nullable=False),
        sa.Column("reason_code", sa.String(40), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
    )
    op.create_index("ix_quarantine_run_row", "quarantine", ["run_id", "row"])
    op.create_table(
        "source_records",
        sa.Column("source", sa.String(40), primary_key=True),
        sa.Column("record_key", sa.String(36), primary_key=True),
        sa.Column("natural_key", sa.String(200), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("removed", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("file_id", sa.String(36), nullable=False),
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("row", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
