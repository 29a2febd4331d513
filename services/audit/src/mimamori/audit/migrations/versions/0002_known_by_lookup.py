"""audit: the append's check of which event ids the ledger holds looks each one up in the unique index.

`event_id = ANY(wanted)` was planned, while the ledger was young and without statistics, as a scan of the ledger
with each row compared to every wanted id (6.6 ms an append at 12,000 rows, and growing with the ledger); a join
on `unnest(wanted)` is one index lookup per id whatever the statistics say.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

FUNCTION = """
CREATE OR REPLACE FUNCTION lock_ledger_head(
    wanted varchar[], OUT head_seq bigint, OUT head_hash varchar, OUT known varchar[]
) LANGUAGE plpgsql VOLATILE SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(418581342580);
    SELECT l.seq, l.hash INTO head_seq, head_hash FROM ledger l ORDER BY l.seq DESC LIMIT 1;
    known := ARRAY(KNOWN);
END
$$
"""
LOCK_HEAD = FUNCTION.replace(
    "KNOWN", "SELECT l.event_id FROM unnest(wanted) AS w(id) JOIN ledger l ON l.event_id = w.id"
)
PREVIOUS = FUNCTION.replace("KNOWN", "SELECT l.event_id FROM ledger l WHERE l.event_id = ANY(wanted)")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(LOCK_HEAD)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PREVIOUS)
