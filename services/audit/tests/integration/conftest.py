"""The audit service's database, migrated, on SQLite and on the real PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import MetaData, Table
from sqlalchemy.ext.asyncio import AsyncEngine

from mimamori.audit.adapters.tables import define_tables
from mimamori.audit.service_layer.unit_of_work import AuditUnitOfWork
from mimamori.kit.db import create_engine, is_sqlite, session_factory
from mimamori.kit.messaging.inprocess import InProcessBus
from mimamori.kit.messaging.outbox import Outbox, outbox_table
from mimamori.kit.migrations import upgrade
from mimamori.kit.unit_of_work import inbox_table

MIGRATIONS = "mimamori.audit:migrations"
SCHEMA = "audit"


@dataclass
class AuditDatabase:
    """A migrated audit database and units of work on it."""

    url: str
    engine: AsyncEngine
    tables: dict[str, Table]
    inbox: Table
    uow: Callable[[], AuditUnitOfWork]

    @property
    def sqlite(self) -> bool:
        return is_sqlite(self.url)


async def open_audit_database(url: str, *, migrate: bool = True) -> AuditDatabase:
    """Migrate (as the URL's role) and wire units of work like bootstrap does."""
    if migrate:
        migration_engine = create_engine(url, schema=SCHEMA, pool_size=1)
        try:
            await upgrade(migration_engine, script_location=MIGRATIONS, schema=SCHEMA)
        finally:
            await migration_engine.dispose()
    engine = create_engine(url, schema=SCHEMA)
    metadata = MetaData()
    tables = define_tables(metadata)
    inbox = inbox_table(metadata)
    sessions = session_factory(engine)
    outbox = Outbox(table=outbox_table(metadata), sessions=sessions, bus=InProcessBus())

    def uow() -> AuditUnitOfWork:
        return AuditUnitOfWork(
            tables=tables,
            sessions=sessions,
            outbox=outbox,
            inbox=inbox,
            source="audit",
            municipality="143669",
        )

    return AuditDatabase(url=url, engine=engine, tables=tables, inbox=inbox, uow=uow)


@pytest.fixture(params=["sqlite", "postgresql"])
def audit_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'audit.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
async def audit_db(audit_url: str) -> AsyncIterator[AuditDatabase]:
    """The audit database, migrated."""
    database = await open_audit_database(audit_url)
    try:
        yield database
    finally:
        await database.engine.dispose()
