"""risk: source facts, references, rule versions, assessments, alerts.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "source_facts",
        sa.Column("record_key", sa.String(200), primary_key=True),
        sa.Column("month", sa.String(6), primary_key=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("file", sa.String(200), nullable=False),
        sa.Column("row", sa.Integer, nullable=False),
        sa.Column("removed", sa.Boolean, nullable=False),
        sa.Column("fields", sa.JSON, nullable=False),
    )
    op.create_index("ix_source_facts_month", "source_facts", ["month"])
    op.create_table(
        "fact_references",
        sa.Column("record_key", sa.String(200), primary_key=True),
        sa.Column("reference_index", sa.Integer, primary_key=True),
        sa.Column("role", sa.String(40), nullable=False),
        sa.Column("person_id", sa.String(64), nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.Column("removed", sa.Boolean, nullable=False),
    )
    op.create_index("ix_fact_references_person", "fact_references", ["person_id"])
    op.create_table(
        "person_aliases",
        sa.Column("merged_person_id", sa.String(64), primary_key=True),
        sa.Column("surviving_person_id", sa.String(64), nullable=False),
        sa.Column("merge_id", sa.String(64), nullable=False),
    )
    op.create_table(
        "person_numbers",
        sa.Column("person_id", sa.String(64), primary_key=True),
        sa.Column("atena_no", sa.String(20), nullable=False),
    )
    op.create_table(
        "rule_versions",
        sa.Column("rule_id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("adopted_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "assessments",
        sa.Column("rule_id", sa.String(64), primary_key=True),
        sa.Column("rule_version", sa.Integer, primary_key=True),
        sa.Column("month", sa.String(6), primary_key=True),
        sa.Column("person_id", sa.String(64), primary_key=True),
        sa.Column("candidate", sa.Boolean, nullable=False),
        sa.Column("total", sa.Integer, nullable=True),
        sa.Column("subscores", sa.JSON, nullable=False),
        sa.Column("explanation", sa.JSON, nullable=False),
        sa.Column("household_id", sa.String(64), nullable=False),
        sa.Column("school_code", sa.String(40), nullable=False),
        sa.Column("grade", sa.String(4), nullable=False),
        sa.Column("age", sa.Integer, nullable=True),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_assessments_person", "assessments", ["person_id", "rule_id"])
    op.create_table(
        "alerts",
        sa.Column("alert_id", sa.String(64), primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("rule_id", sa.String(64), nullable=False),
        sa.Column("rule_version", sa.Integer, nullable=False),
        sa.Column("month", sa.String(6), nullable=False),
        sa.Column("person_id", sa.String(64), nullable=False),
        sa.Column("previous_band", sa.Integer, nullable=False),
        sa.Column("band", sa.Integer, nullable=False),
        sa.Column("previous_total", sa.Integer, nullable=True),
        sa.Column("total", sa.Integer, nullable=True),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_alerts_seq", "alerts", ["seq"])
