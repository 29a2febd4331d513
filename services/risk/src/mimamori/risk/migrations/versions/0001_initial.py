"""risk: the household read model, outbox and inbox.

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


def upgrade() -> None:
    create_messaging_tables(op)
    op.create_table(
        "households",
        sa.Column("household_id", sa.String(64), primary_key=True),
        sa.Column("setai_code", sa.String(20), nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.Column("announced_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "household_members",
        sa.Column("household_id", sa.String(64), primary_key=True),
        sa.Column("person_id", sa.String(64), primary_key=True),
        sa.Column("zokugara", sa.String(20), nullable=False),
        sa.Column("birth_date", sa.String(20), nullable=False),
        sa.Column("sex", sa.String(4), nullable=False),
        sa.Column("resident", sa.Boolean, nullable=False),
        sa.Column("dv_support", sa.Boolean, nullable=False),
    )
    op.create_index("ix_household_members_person", "household_members", ["person_id"])
