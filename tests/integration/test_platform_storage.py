"""Each service migrates its own PostgreSQL schema at start-up, as its own role, and cannot read another's."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from mimamori.kit.config import PlatformSettings
from mimamori.kit.messaging.inprocess import InProcessBus
from mimamori.kit.provisioning import provision_service
from mimamori.kit.runtime.process import running
from mimamori.kit.runtime.registry import available

pytestmark = pytest.mark.integration


def plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def test_every_service_owns_its_schema_and_sees_no_other(postgres_url: str, tmp_path: Path) -> None:
    services = available()
    assert {"ingest", "identity", "risk", "casework", "audit", "gateway"} <= set(services)
    urls: dict[str, str] = {}
    for name in services:
        urls[name] = await provision_service(admin_url=postgres_url, service=name, password=f"{name}-test")
        settings = PlatformSettings(data_dir=tmp_path / name, database_url=urls[name])
        async with running(targets=[name], settings=settings, bus=InProcessBus()):
            pass

    admin = await asyncpg.connect(plain(postgres_url))
    try:
        rows = await admin.fetch(
            "SELECT table_schema, table_name, tableowner FROM information_schema.tables t "
            "JOIN pg_tables p ON p.schemaname = t.table_schema AND p.tablename = t.table_name "
            "WHERE table_schema = ANY($1::text[])",
            list(services),
        )
    finally:
        await admin.close()
    by_schema: dict[str, set[str]] = {}
    for row in rows:
        by_schema.setdefault(row["table_schema"], set()).add(row["table_name"])
        assert row["tableowner"] == f"mimamori_{row['table_schema']}"
    for name in services:
        assert {"alembic_version", "outbox", "processed_messages"} <= by_schema[name], name

    identity = await asyncpg.connect(plain(urls["identity"]))
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await identity.fetch("SELECT * FROM casework.observations")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await identity.execute("CREATE SCHEMA intruder")
    finally:
        await identity.close()
