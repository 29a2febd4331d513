"""identity: the row index of delivered files (ingest's DeliveryRowsIndexed), for the link export.

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
    op.create_table(
        "delivery_rows",
        sa.Column("file_name", sa.String(300), primary_key=True),
        sa.Column("row", sa.Integer, primary_key=True),
        sa.Column("record_key", sa.String(200), nullable=False),
        sa.Column("load_run_id", sa.String(64), nullable=False),
    )
    op.create_index("ix_delivery_rows_record", "delivery_rows", ["record_key"])


def downgrade() -> None:
    op.drop_table("delivery_rows")
