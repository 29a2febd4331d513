"""The ledger in a real database (SQLite and PostgreSQL): chaining, idempotent consumption, serialised
appends, insert-only tables, and a verifier that names the row changed behind the triggers."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from mimamori.audit.adapters.event_mapping import access_fields
from mimamori.audit.adapters.signing import CheckpointKey
from mimamori.audit.domain.ledger import GENESIS_HASH, canonical_json, chain_hash
from mimamori.audit.domain.verification import HASH_MISMATCH, SEQ_GAP, VerificationReport
from mimamori.audit.entrypoints.consumers import GROUP
from mimamori.audit.service_layer import handlers
from mimamori.audit.service_layer.verification import verify_ledger
from mimamori.contracts import event_type, topic_of
from mimamori.events.audit.v1 import access_pb2
from mimamori.kit.messaging.envelope import Envelope
from mimamori.kit.messaging.inbox import idempotent

from .conftest import AuditDatabase

pytestmark = pytest.mark.integration

T0 = datetime(2026, 4, 1, 1, 0, tzinfo=UTC)


def access(
    n: int, *, actor: str = "staff-1", persons: tuple[str, ...] = ("p1",)
) -> access_pb2.AccessRecorded:
    return access_pb2.AccessRecorded(
        event_id=str(uuid.uuid4()),
        occurred_at=(T0 + timedelta(seconds=n)).isoformat(),
        recorder="casework",
        actor=actor,
        roles=["caseworker"],
        purpose="case_support",
        action="read",
        method="GET",
        route="/v1/persons/{person_id}/observations",
        person_ids=list(persons),
        outcome=access_pb2.OUTCOME_ALLOWED,
        municipality_code="143669",
        status_code=200,
    )


def envelope(message: access_pb2.AccessRecorded) -> Envelope:
    return Envelope(
        topic=topic_of(message),
        key=message.actor,
        type=event_type(message),
        source="casework",
        payload=message.SerializeToString(),
        municipality="143669",
    )


async def append(db: AuditDatabase, *messages: access_pb2.AccessRecorded) -> None:
    async with db.uow() as uow:
        await uow.ledger.append([access_fields(m) for m in messages])
        await uow.commit()


async def verify(db: AuditDatabase, key: CheckpointKey | None = None) -> VerificationReport:
    async with db.uow() as uow:
        return await verify_ledger(
            ledger=uow.ledger, checkpoints=uow.checkpoints, open_token=key.open if key is not None else None
        )


async def rows(db: AuditDatabase) -> list[tuple[int, str, str, str, str]]:
    t = db.tables["ledger"]
    async with db.engine.connect() as conn:
        result = await conn.execute(
            select(t.c.seq, t.c.event_id, t.c.body, t.c.prev_hash, t.c.hash).order_by(t.c.seq)
        )
        return [tuple(r) for r in result]  # type: ignore[misc]


Change = tuple[str, dict[str, object]]


async def behind_the_triggers(db: AuditDatabase, *changes: Change) -> None:
    """What an intruder with the owner's rights (PostgreSQL) or the file (SQLite) can do."""
    if db.sqlite:
        path = db.url.split(":///", 1)[1]
        conn = sqlite3.connect(path)
        try:
            for name in ("ledger_no_update", "ledger_no_delete"):
                conn.execute(f"DROP TRIGGER IF EXISTS {name}")
            for statement, values in changes:
                conn.execute(statement, values)
            conn.commit()
        finally:
            conn.close()
        return
    async with db.engine.begin() as conn:
        await conn.execute(text("DROP TRIGGER ledger_insert_only ON ledger"))
        for statement, values in changes:
            await conn.execute(text(statement), values)


async def test_appended_records_chain_from_the_zero_hash(audit_db: AuditDatabase) -> None:
    first = [access(1), access(2, persons=("p1", "p2"))]
    await append(audit_db, *first)
    await append(audit_db, access(3, persons=()))
    stored = await rows(audit_db)
    assert [r[0] for r in stored] == [1, 2, 3]
    assert stored[0][3] == GENESIS_HASH
    for (_, _, body, prev, digest), before in zip(stored, [None, *stored], strict=False):
        if before is not None:
            assert prev == before[4]
        assert digest == hashlib.sha256(bytes.fromhex(prev) + body.encode()).hexdigest()
    assert stored[0][2] == canonical_json(access_fields(first[0]))
    assert (await verify(audit_db)).ok


async def test_redelivered_event_appends_one_row(audit_db: AuditDatabase) -> None:
    consume = idempotent(group=GROUP, uow=audit_db.uow, handle=handlers.on_access_recorded)
    message = access(1)
    delivered = envelope(message)
    await consume(delivered)
    await consume(delivered)
    # The same access record republished under a new envelope is still one row.
    await consume(envelope(message))
    async with audit_db.engine.connect() as conn:
        count = (await conn.execute(select(func.count()).select_from(audit_db.tables["ledger"]))).scalar_one()
        processed = (await conn.execute(select(func.count()).select_from(audit_db.inbox))).scalar_one()
    assert count == 1
    assert processed == 2
    assert (await verify(audit_db)).ok


async def test_concurrent_appends_keep_the_chain_linear(audit_db: AuditDatabase) -> None:
    consume = idempotent(group=GROUP, uow=audit_db.uow, handle=handlers.on_access_recorded)
    direct = [append(audit_db, access(i)) for i in range(20)]
    consumed = [consume(envelope(access(100 + i))) for i in range(20)]
    await asyncio.gather(*direct, *consumed)
    stored = await rows(audit_db)
    assert [r[0] for r in stored] == list(range(1, 41))
    assert len({r[1] for r in stored}) == 40
    assert len({r[3] for r in stored}) == 40, "two rows on one previous hash: the chain forked"
    report = await verify(audit_db)
    assert report.ok and report.rows_checked == 40


@pytest.mark.parametrize("table", ["ledger", "ledger_persons", "checkpoints"])
async def test_insert_only_tables_refuse_update_and_delete(audit_db: AuditDatabase, table: str) -> None:
    await append(audit_db, access(1))
    async with audit_db.uow() as uow:
        await handlers.sign_checkpoint(
            uow=uow, key=CheckpointKey.generate(), municipality="143669", only_if_moved=False
        )
    statements = [
        f"UPDATE {table} SET seq = seq + 1",
        f"DELETE FROM {table}",
        f"DELETE FROM {table} WHERE 1 = 0",
    ]
    if not audit_db.sqlite:
        statements.append(f"TRUNCATE {table}")
    for statement in statements:
        if audit_db.sqlite and statement.endswith("1 = 0"):
            continue  # SQLite's row triggers fire per row; a DELETE of no row changes nothing anyway
        with pytest.raises(DBAPIError, match="insert-only"):
            async with audit_db.engine.begin() as conn:
                await conn.execute(text(statement))
    async with audit_db.engine.connect() as conn:
        assert (await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one() == 1
    assert (await verify(audit_db)).ok


async def test_verifier_names_the_row_changed_behind_the_triggers(audit_db: AuditDatabase) -> None:
    await append(audit_db, *[access(i) for i in range(10)])
    stored = await rows(audit_db)
    body = stored[5][2].replace('"staff-1"', '"staff-9"')
    await behind_the_triggers(audit_db, ("UPDATE ledger SET body = :body WHERE seq = 6", {"body": body}))
    report = await verify(audit_db)
    assert report.first_fault is not None
    assert (report.first_fault.seq, report.first_fault.event_id) == (6, stored[5][1])
    assert report.first_fault.reason == HASH_MISMATCH


async def test_verifier_names_the_row_after_a_deleted_one(audit_db: AuditDatabase) -> None:
    await append(audit_db, *[access(i) for i in range(6)])
    stored = await rows(audit_db)
    await behind_the_triggers(audit_db, ("DELETE FROM ledger WHERE seq = 4", {}))
    report = await verify(audit_db)
    assert report.first_fault is not None
    assert (report.first_fault.seq, report.first_fault.event_id, report.first_fault.reason) == (
        5,
        stored[4][1],
        SEQ_GAP,
    )


async def test_a_rewritten_and_rehashed_chain_is_caught_by_the_signed_checkpoint(
    audit_db: AuditDatabase,
) -> None:
    key = CheckpointKey.generate()
    await append(audit_db, *[access(i) for i in range(6)])
    async with audit_db.uow() as uow:
        signed = await handlers.sign_checkpoint(uow=uow, key=key, municipality="143669", only_if_moved=True)
    assert signed is not None and signed.seq == 6
    await append(audit_db, access(7), access(8))
    stored = await rows(audit_db)
    # Rewrite row 3 and recompute every hash after it, as an intruder without the signing key would.
    changes: list[Change] = []
    prev = stored[1][4]
    for seq, _, body, _, _ in stored[2:]:
        new_body = body.replace('"staff-1"', '"staff-2"') if seq == 3 else body
        digest = chain_hash(prev, new_body)
        changes.append(
            (
                "UPDATE ledger SET body = :body, prev_hash = :prev, hash = :hash WHERE seq = :seq",
                {"body": new_body, "prev": prev, "hash": digest, "seq": seq},
            )
        )
        prev = digest
    await behind_the_triggers(audit_db, *changes)
    report = await verify(audit_db, key)
    assert report.first_fault is not None and report.first_fault.seq == 3  # its actor column no longer fits
    assert [(f.seq, f.reason) for f in report.checkpoint_faults] == [(6, "hash_mismatch")]


async def test_a_checkpoint_signed_by_another_key_does_not_hold(audit_db: AuditDatabase) -> None:
    await append(audit_db, access(1))
    async with audit_db.uow() as uow:
        await handlers.sign_checkpoint(
            uow=uow, key=CheckpointKey.generate(), municipality="143669", only_if_moved=False
        )
    report = await verify(audit_db, CheckpointKey.generate())
    assert [f.reason for f in report.checkpoint_faults] == ["bad_signature"]
    assert not report.ok


async def test_checkpoint_is_skipped_when_the_head_has_not_moved(audit_db: AuditDatabase) -> None:
    key = CheckpointKey.generate()
    await append(audit_db, access(1))
    async with audit_db.uow() as uow:
        first = await handlers.sign_checkpoint(uow=uow, key=key, municipality="143669", only_if_moved=True)
    async with audit_db.uow() as uow:
        second = await handlers.sign_checkpoint(uow=uow, key=key, municipality="143669", only_if_moved=True)
    assert first is not None and second is None
    assert key.open(first.token) == {
        "iss": "mimamori-audit",
        "seq": 1,
        "hash": first.hash,
        "signed_at": first.signed_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "municipality": "143669",
    }


async def test_the_person_index_is_written_with_each_row(audit_db: AuditDatabase) -> None:
    await append(audit_db, access(1, persons=("p1", "p2")), access(2, persons=("p2",)), access(3, persons=()))
    async with audit_db.engine.connect() as conn:
        index = (
            await conn.execute(text("SELECT seq, person_id FROM ledger_persons ORDER BY seq, person_id"))
        ).all()
    assert [tuple(r) for r in index] == [(1, "p1"), (1, "p2"), (2, "p2")]
