"""ingest: the record keys a load run has met (duplicates across batches, removals by an anti-join), so a load's
memory does not grow with the file; UNLOGGED on PostgreSQL (a run cut short by a crash is loaded again anyway).
The month-scope index of source records covers only the month snapshots' records (scope <> ''): the other
sources' millions of rows no longer pay for it.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "delivery_keys",
        sa.Column("run_id", sa.String(36), primary_key=True),
        sa.Column("record_key", sa.String(36), primary_key=True),
        sa.Column("digest", sa.String(64), nullable=False),
        prefixes=["UNLOGGED"] if postgresql else [],
    )
    op.drop_index("ix_source_records_scope", "source_records")
    op.create_index(
        "ix_source_records_scope",
        "source_records",
        ["source", "scope", "record_key"],
        postgresql_where=sa.text("scope <> ''"),
        sqlite_where=sa.text("scope <> ''"),
    )


def downgrade() -> None:
    op.drop_index("ix_source_records_scope", "source_records")
    op.create_index("ix_source_records_scope", "source_records", ["source", "scope", "record_key"])
    op.drop_table("delivery_keys")
