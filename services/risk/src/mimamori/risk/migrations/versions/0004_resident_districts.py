"""risk: each resident's district (大字), from 住民記録's address, for grouping and filtering.

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
        "resident_districts",
        sa.Column("atena_no", sa.String(20), primary_key=True),
        sa.Column("district", sa.String(40), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("resident_districts")
