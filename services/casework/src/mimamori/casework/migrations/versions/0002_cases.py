"""casework: 児童相談 cases, their assignees and status history.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

OPEN_CASE = sa.text("status NOT IN ('closed', 'declined')")


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("person_id", sa.String(36), nullable=False),
        sa.Column("difficulties", sa.JSON, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("risk_level", sa.Integer, nullable=True),
        sa.Column("decline_reason", sa.String(40), nullable=True),
        sa.Column("origin_rule_id", sa.String(64), nullable=True),
        sa.Column("origin_rule_version", sa.Integer, nullable=True),
        sa.Column("origin_month", sa.String(6), nullable=True),
        sa.Column("origin_alert_id", sa.String(64), nullable=True),
        sa.Column("opened_by", sa.String(200), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_cases_person", "cases", ["person_id"])
    op.create_index("ix_cases_status", "cases", ["status", "opened_at"])
    op.create_index(
        "uq_cases_open_person", "cases", ["person_id"], unique=True, sqlite_where=OPEN_CASE, postgresql_where=OPEN_CASE
    )
    op.create_table(
        "case_assignees",
        sa.Column("case_id", sa.String(36), primary_key=True),
        sa.Column("subject", sa.String(200), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
    )
    op.create_index("ix_case_assignees_subject", "case_assignees", ["subject"])
    op.create_table(
        "case_history",
        sa.Column("case_id", sa.String(36), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("from_status", sa.String(20), nullable=True),
        sa.Column("to_status", sa.String(20), nullable=False),
        sa.Column("changed_by", sa.String(200), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("case_history")
    op.drop_table("case_assignees")
    op.drop_table("cases")
