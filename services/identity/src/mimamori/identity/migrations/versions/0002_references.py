"""identity: person references of the other sources, their resolution, blocking keys, review decisions, merges.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from mimamori.kit.db import BigKey

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _text(name: str, length: int | None = None) -> sa.Column[str]:
    return sa.Column(name, sa.String(length) if length else sa.Text, nullable=False)


def upgrade() -> None:
    op.create_table(
        "source_references",
        sa.Column("record_key", sa.String(200), primary_key=True),
        sa.Column("idx", sa.Integer, primary_key=True),
        _text("source", 40),
        _text("municipality", 10),
        _text("month", 6),
        _text("role", 40),
        _text("atena_no", 20),
        _text("school_code", 40),
        _text("student_no", 40),
        _text("grade_given", 20),
        sa.Column("roll_entry", sa.Boolean, nullable=False),
        sa.Column("reference", sa.JSON, nullable=False),
        sa.Column("present", sa.Boolean, nullable=False),
        _text("file_name", 300),
        sa.Column("row", sa.Integer, nullable=False),
        _text("file_sha256", 64),
        _text("load_run_id", 64),
        sa.Column("person_id", sa.String(36), nullable=True),
        sa.Column("candidate_id", sa.String(36), nullable=True),
        _text("grade", 20),
        _text("reason"),
        sa.Column("candidates", sa.JSON, nullable=False),
        _text("waiting_for", 120),
        sa.Column("accepted_person_id", sa.String(36), nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_source_references_pupil", "source_references", ["school_code", "student_no", "month"])
    op.create_index("ix_source_references_person", "source_references", ["person_id"])
    op.create_index("ix_source_references_grade", "source_references", ["grade"])
    op.create_table(
        "reference_keys",
        sa.Column("key", sa.String(300), primary_key=True),
        sa.Column("record_key", sa.String(200), primary_key=True),
    )
    op.create_table(
        "match_keys",
        sa.Column("key", sa.String(300), primary_key=True),
        sa.Column("person_id", sa.String(36), primary_key=True),
    )
    op.create_table(
        "review_decisions",
        sa.Column("id", BigKey, primary_key=True, autoincrement=True),
        _text("record_key", 200),
        sa.Column("idx", sa.Integer, nullable=False),
        _text("person_id", 36),
        _text("decision", 20),
        _text("actor", 200),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_review_decisions_reference", "review_decisions", ["record_key", "idx"])
    op.create_table(
        "merges",
        sa.Column("id", sa.String(36), primary_key=True),
        _text("surviving_person_id", 36),
        _text("merged_person_id", 36),
        _text("actor", 200),
        _text("reason"),
        sa.Column("moved", sa.JSON, nullable=False),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("unmerged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unmerged_by", sa.String(200), nullable=True),
    )
    op.create_index("ix_merges_persons", "merges", ["surviving_person_id", "merged_person_id"])


def downgrade() -> None:
    for table in ("merges", "review_decisions", "match_keys", "reference_keys", "source_references"):
        op.drop_table(table)
