"""ingest: month scope of source records (出欠, 保健室) and the free-text store.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("source_records") as batch:
        batch.add_column(sa.Column("scope", sa.String(6), nullable=False, server_default=""))
    op.create_index("ix_source_records_scope", "source_records", ["source", "scope", "record_key"])
    op.create_table(
        "free_texts",
        sa.Column("record_key", sa.String(36), primary_key=True),
        sa.Column("column", sa.String(100), primary_key=True),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("free_texts")
    op.drop_index("ix_source_records_scope", "source_records")
    with op.batch_alter_table("source_records") as batch:
        batch.drop_column("scope")
