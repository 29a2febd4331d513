"""casework: identity's merges (person_aliases), so reads by person follow a merge and an unmerge undoes it.

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
        "person_aliases",
        sa.Column("merged_person_id", sa.String(36), primary_key=True),
        sa.Column("surviving_person_id", sa.String(36), nullable=False),
        sa.Column("merge_id", sa.String(64), nullable=False),
        sa.Column("person_id_now", sa.String(36), nullable=False),
    )
    op.create_index("ix_person_aliases_now", "person_aliases", ["person_id_now"])


def downgrade() -> None:
    op.drop_table("person_aliases")
