"""kit tests: the outbox and inbox of a tiny service, and its one table of effects.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from mimamori.kit.migrations import create_messaging_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


KEY = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    create_messaging_tables(op)
    op.create_table(
        "effects",
        sa.Column("n", KEY, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("observation_id", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("effects")
    op.drop_table("processed_messages")
    op.drop_table("outbox")
