"""identity: what a record's references were before a later month's delivery changed them, for the link export.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reference_history",
        sa.Column("record_key", sa.String(200), primary_key=True),
        sa.Column("idx", sa.Integer, primary_key=True),
        sa.Column("until_month", sa.String(6), primary_key=True),
        sa.Column("month", sa.String(6), nullable=False),
        sa.Column("role", sa.String(40), nullable=False),
        sa.Column("person_id", sa.String(36), nullable=True),
        sa.Column("candidate_id", sa.String(36), nullable=True),
        sa.Column("grade", sa.String(20), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("reference_history")
