"""gateway: its outbox (decisions on their way to audit) and inbox; nothing personal.

Revision ID: 0001
Revises:
"""

from alembic import op

from mimamori.kit.migrations import create_messaging_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_messaging_tables(op)
