"""identity: the 住民記録 month each household's last announcement is as of (HouseholdChanged.month).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("households", sa.Column("month", sa.String(6), nullable=False, server_default=""))


def downgrade() -> None:
    op.drop_column("households", "month")
