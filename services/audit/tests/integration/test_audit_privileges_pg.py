"""Least privilege on PostgreSQL: the runtime role appends and reads; it can neither change rows nor remove
the triggers that refuse changes (the owner keeps that right: that is what signed checkpoints are for)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from mimamori.audit.adapters.event_mapping import access_fields
from mimamori.audit.adapters.provisioning import provision
from mimamori.audit.service_layer.verification import verify_ledger
from mimamori.contracts import event_type, topic_of
from mimamori.events.audit.v1 import access_pb2
from mimamori.kit.config import PlatformSettings
from mimamori.kit.db import create_engine
from mimamori.kit.messaging.envelope import Envelope
from mimamori.kit.runtime.process import running

from .conftest import open_audit_database

pytestmark = pytest.mark.integration


def access() -> access_pb2.AccessRecorded:
    return access_pb2.AccessRecorded(
        event_id=str(uuid.uuid4()),
        occurred_at="2026-04-01T01:00:00+00:00",
        recorder="casework",
        actor="staff-1",
        person_ids=["p1"],
        outcome=access_pb2.OUTCOME_ALLOWED,
    )


@pytest.fixture
async def runtime_url(postgres_url: str) -> AsyncIterator[str]:
    """A provisioned runtime role's URL (the role is dropped afterwards)."""
    role = f"audit_rt_{uuid.uuid4().hex[:8]}"
    password = uuid.uuid4().hex
    await provision(postgres_url, runtime_role=role, password=password)
    try:
        yield (
            make_url(postgres_url).set(username=role, password=password).render_as_string(hide_password=False)
        )
    finally:
        admin = create_engine(postgres_url, schema=None, pool_size=1)
        try:
            async with admin.begin() as conn:
                await conn.execute(text(f'DROP OWNED BY "{role}"'))
                await conn.execute(text(f'DROP ROLE "{role}"'))
        finally:
            await admin.dispose()


async def test_runtime_role_appends_and_reads(runtime_url: str) -> None:
    db = await open_audit_database(runtime_url, migrate=False)
    try:
        async with db.uow() as uow:
            await uow.ledger.append([access_fields(access()), access_fields(access())])
            await uow.commit()
        async with db.uow() as uow:
            report = await verify_ledger(ledger=uow.ledger, checkpoints=uow.checkpoints, open_token=None)
        assert report.ok and report.rows_checked == 2
    finally:
        await db.engine.dispose()


@pytest.mark.parametrize(
    ("statement", "refusal"),
    [
        ("UPDATE ledger SET actor = 'x'", "permission denied"),
        ("DELETE FROM ledger", "permission denied"),
        ("TRUNCATE ledger", "permission denied"),
        ("UPDATE ledger_persons SET person_id = 'x'", "permission denied"),
        ("DELETE FROM checkpoints", "permission denied"),
        ("DROP TRIGGER ledger_insert_only ON ledger", "must be owner"),
        ("ALTER TABLE ledger DISABLE TRIGGER ALL", "must be owner"),
        ("DROP TABLE ledger", "must be owner"),
        ("DROP FUNCTION refuse_audit_change() CASCADE", "must be owner"),
        ("SET session_replication_role = replica", "permission denied"),
        ("CREATE TABLE ledger_copy (seq bigint)", "permission denied"),
    ],
)
async def test_runtime_role_cannot_change_the_ledger_or_its_triggers(
    runtime_url: str, statement: str, refusal: str
) -> None:
    db = await open_audit_database(runtime_url, migrate=False)
    try:
        async with db.uow() as uow:
            await uow.ledger.append([access_fields(access())])
            await uow.commit()
        with pytest.raises(DBAPIError, match=refusal):
            async with db.engine.begin() as conn:
                await conn.execute(text(statement))
        async with db.engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM ledger"))).scalar_one() == 1
            triggers = await conn.execute(
                text(
                    "SELECT CAST(tgenabled AS text) FROM pg_trigger"
                    " WHERE tgname = 'ledger_insert_only' AND NOT tgisinternal"
                )
            )
            assert triggers.scalar_one() == "O"
    finally:
        await db.engine.dispose()


async def test_the_service_runs_as_the_runtime_role(
    postgres_url: str, runtime_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIMAMORI_AUDIT_DATABASE_URL", runtime_url)
    monkeypatch.setenv("MIMAMORI_AUDIT_MIGRATION_DATABASE_URL", postgres_url)
    settings = PlatformSettings(data_dir=tmp_path, database_url=postgres_url, outbox_poll_seconds=0.05)
    async with running(targets=["audit"], settings=settings) as runtime:
        message = access()
        await runtime.platform.bus.publish(
            [
                Envelope(
                    topic=topic_of(message),
                    key="staff-1",
                    type=event_type(message),
                    source="casework",
                    payload=message.SerializeToString(),
                    municipality="143669",
                )
            ]
        )
        await runtime.wait_idle(timeout=30)
        module = runtime.module("audit")
        assert module.engine is not None  # type: ignore[attr-defined]
        async with module.engine.connect() as conn:  # type: ignore[attr-defined]
            assert (await conn.execute(text("SELECT current_user"))).scalar_one().startswith("audit_rt_")
            assert (await conn.execute(text("SELECT count(*) FROM ledger"))).scalar_one() == 1
