"""risk: households by month — the month each latest snapshot holds from, and the earlier snapshots.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("households", sa.Column("month_from", sa.String(6), nullable=False, server_default=""))
    op.create_table(
        "household_history",
        sa.Column("household_id", sa.String(64), primary_key=True),
        sa.Column("month_from", sa.String(6), primary_key=True),
        sa.Column("setai_code", sa.String(20), nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.Column("announced_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "household_history_members",
        sa.Column("household_id", sa.String(64), primary_key=True),
        sa.Column("month_from", sa.String(6), primary_key=True),
        sa.Column("person_id", sa.String(64), primary_key=True),
        sa.Column("zokugara", sa.String(20), nullable=False),
        sa.Column("birth_date", sa.String(20), nullable=False),
        sa.Column("sex", sa.String(4), nullable=False),
        sa.Column("resident", sa.Boolean, nullable=False),
        sa.Column("dv_support", sa.Boolean, nullable=False),
    )
    op.create_index("ix_household_history_members_person", "household_history_members", ["person_id"])


def downgrade() -> None:
    op.drop_table("household_history_members")
    op.drop_table("household_history")
    op.drop_column("households", "month_from")
