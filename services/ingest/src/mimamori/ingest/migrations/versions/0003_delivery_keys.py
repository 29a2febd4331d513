"""ingest: the record keys a load run has met (duplicates across batches, removals by an anti-join), so a load's
memory does not grow with the file; UNLOGGED on PostgreSQL (a run cut short by a crash is loaded again anyway).

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


def downgrade() -> None:
    op.drop_table("delivery_keys")
