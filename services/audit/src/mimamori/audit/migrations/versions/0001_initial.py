"""audit: the ledger, its person index, checkpoints (insert-only, by trigger), outbox and inbox.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from mimamori.kit.migrations import create_messaging_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

INSERT_ONLY = ("ledger", "ledger_persons", "checkpoints")

POSTGRES_REFUSE = """
CREATE FUNCTION refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit table % is insert-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""

# Appends take this transaction-scoped advisory lock ("audit" in ASCII), then read the head. VOLATILE: each
# query in the function takes a fresh snapshot, so the head read after the lock sees the last append.
POSTGRES_LOCK_HEAD = """
CREATE FUNCTION lock_ledger_head(
    wanted varchar[], OUT head_seq bigint, OUT head_hash varchar, OUT known varchar[]
) LANGUAGE plpgsql VOLATILE SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(418581342580);
    SELECT l.seq, l.hash INTO head_seq, head_hash FROM ledger l ORDER BY l.seq DESC LIMIT 1;
    known := ARRAY(SELECT l.event_id FROM ledger l WHERE l.event_id = ANY(wanted));
END
$$
"""


def upgrade() -> None:
    create_messaging_tables(op)
    op.create_table(
        "ledger",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=False),
        sa.Column("event_id", sa.String(), nullable=False, unique=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("occurred_at", sa.String(32), nullable=False),
        sa.Column("recorder", sa.String(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("purpose", sa.String(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("break_glass", sa.Boolean, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_ledger_occurred_at", "ledger", ["occurred_at"])
    op.create_index("ix_ledger_actor", "ledger", ["actor", "seq"])
    op.create_table(
        "ledger_persons",
        sa.Column("person_id", sa.String(), primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True),
    )
    op.create_index("ix_ledger_persons_seq", "ledger_persons", ["seq"])
    op.create_table(
        "checkpoints",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.String(100), nullable=False),
        sa.Column("token", sa.Text, nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_REFUSE)
        op.execute(POSTGRES_LOCK_HEAD)
        for table in INSERT_ONLY:
            # Statement-level, so even an UPDATE or DELETE that matches no row is refused.
            op.execute(
                f"CREATE TRIGGER {table}_insert_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION refuse_audit_change()"
            )
    else:
        # SQLite has no TRUNCATE; its DELETE-all shortcut is not taken on a table with triggers.
        for table in INSERT_ONLY:
            for operation in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, 'audit table {table} is insert-only: {operation} refused');"
                    " END"
                )
