"""risk: re-score runs (a full re-score as a background job, committed in chunks, resumable).

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
        "rescore_runs",
        sa.Column("run_id", sa.String(64), primary_key=True),
        sa.Column("month", sa.String(6), nullable=False),
        sa.Column("rules", sa.JSON, nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("cursor", sa.String(64), nullable=False),
        sa.Column("households_total", sa.Integer, nullable=False),
        sa.Column("households_done", sa.Integer, nullable=False),
        sa.Column("children", sa.Integer, nullable=False),
        sa.Column("alerts", sa.Integer, nullable=False),
        sa.Column("baseline", sa.JSON, nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.String(200), nullable=False),
    )
    op.create_index("ix_rescore_runs_status", "rescore_runs", ["status", "requested_at"])


def downgrade() -> None:
    op.drop_index("ix_rescore_runs_status", "rescore_runs")
    op.drop_table("rescore_runs")
