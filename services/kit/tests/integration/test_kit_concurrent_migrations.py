"""Replicas of a service that start together migrate one after another (an advisory lock of the schema): every one
comes up, and the schema is at head once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from mimamori.kit.db import create_engine
from mimamori.kit.migrations import migration_lock_key, upgrade

pytestmark = pytest.mark.integration

REPLICAS = 4
KIT_MIGRATIONS = Path(__file__).resolve().parent / "kit_migrations"
SCHEMA = "kitmigrate"


async def test_replicas_starting_together_all_migrate(postgres_url: str) -> None:
    engines = [create_engine(postgres_url, schema=SCHEMA, pool_size=1) for _ in range(REPLICAS)]
    try:
        outcomes = await asyncio.gather(
            *(upgrade(engine, script_location=str(KIT_MIGRATIONS), schema=SCHEMA) for engine in engines),
            return_exceptions=True,
        )
        assert [o for o in outcomes if isinstance(o, BaseException)] == []
        async with engines[0].connect() as connection:
            versions = (await connection.execute(text(f'SELECT version_num FROM "{SCHEMA}".alembic_version'))).all()
            tables = (
                await connection.execute(
                    text("SELECT table_name FROM information_schema.tables WHERE table_schema = :s ORDER BY 1"),
                    {"s": SCHEMA},
                )
            ).scalars().all()
            # The lock was transaction-scoped: nothing holds it once the migrations committed.
            free = await connection.scalar(
                text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": migration_lock_key(SCHEMA)}
            )
    finally:
        for engine in engines:
            await engine.dispose()
    assert [v.version_num for v in versions] == ["0001"]
    assert {"alembic_version", "effects", "outbox", "processed_messages"} <= set(tables)
    assert free is True


def test_each_schema_has_its_own_lock() -> None:
    keys = {migration_lock_key(s) for s in ("audit", "casework", "identity", "ingest", "risk")}
    assert len(keys) == 5
    assert all(-(2**63) <= k < 2**63 for k in keys)
    assert migration_lock_key("audit") == migration_lock_key("audit")
