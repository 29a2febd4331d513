"""The common mechanics of a service module: its database, migrations, outbox relay and start/stop."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import FastAPI
from sqlalchemy import MetaData, Table
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from mimamori.kit.db import create_engine, session_factory
from mimamori.kit.messaging.outbox import Outbox, outbox_table
from mimamori.kit.migrations import upgrade
from mimamori.kit.runtime.module import Platform
from mimamori.kit.unit_of_work import UnitOfWork, inbox_table

U = TypeVar("U", bound=UnitOfWork)


@dataclass(frozen=True)
class Wiring:
    """What a service's bootstrap is handed: the platform, its sessions, outbox, inbox and own tables."""

    name: str
    platform: Platform
    sessions: async_sessionmaker[AsyncSession]
    outbox: Outbox
    inbox: Table
    tables: dict[str, Table]

    def units(self, cls: type[U], **extra: Any) -> Callable[[], U]:
        """A factory of the service's units of work (`extra` goes to its constructor, e.g. its tables)."""

        def make() -> U:
            return cls(
                sessions=self.sessions,
                outbox=self.outbox,
                inbox=self.inbox,
                source=self.name,
                municipality=self.platform.settings.municipality_code,
                **extra,
            )

        return make


def database_url(name: str, platform: Platform) -> str:
    """`MIMAMORI_<NAME>_DATABASE_URL`, else the shared PostgreSQL URL (own schema), else its SQLite file."""
    own = os.environ.get(f"MIMAMORI_{name.upper()}_DATABASE_URL")
    if own:
        return own
    if platform.settings.database_url:
        return platform.settings.database_url
    return platform.settings.sqlite_url(name)


class ServiceModule(ABC):
    """Subclasses name the service and implement `bootstrap`, which wires handlers, routes and consumers."""

    name: str
    dependencies: tuple[str, ...] = ()
    port: int
    migrations: str  # "mimamori.<name>:migrations"
    # Seconds the relay waits after a commit to take more rows at once: under load one relay cycle (a SELECT, a
    # publish, an UPDATE) serves many requests instead of one each, for a few milliseconds of event latency.
    outbox_linger: float = 0.01

    def __init__(self) -> None:
        self.metadata = MetaData()
        self.outbox_table: Table = outbox_table(self.metadata)
        self.inbox_table: Table = inbox_table(self.metadata)
        self.tables: dict[str, Table] = self.define_tables(self.metadata)
        self.engine: AsyncEngine | None = None
        self.sessions: async_sessionmaker[AsyncSession] | None = None
        self.outbox: Outbox | None = None
        self._app: FastAPI | None = None
        self.platform: Platform | None = None

    def define_tables(self, metadata: MetaData) -> dict[str, Table]:
        """Add the service's own tables to its metadata and return them by name (override)."""
        return {}

    @abstractmethod
    async def bootstrap(self, platform: Platform) -> FastAPI:
        """Wire the service (handlers, unit of work, consumers) and return its app."""

    @property
    def app(self) -> FastAPI | None:
        """The service's app once started."""
        return self._app

    @property
    def schema(self) -> str:
        """The service's PostgreSQL schema."""
        return self.name

    async def start(self, platform: Platform) -> None:
        """Migrate, wire, start relaying."""
        self.platform = platform
        url = database_url(self.name, platform)
        migration_url = os.environ.get(f"MIMAMORI_{self.name.upper()}_MIGRATION_DATABASE_URL", url)
        migration_engine = create_engine(migration_url, schema=self.schema, pool_size=1)
        try:
            await upgrade(migration_engine, script_location=self.migrations, schema=self.schema)
        finally:
            await migration_engine.dispose()
        self.engine = create_engine(url, schema=self.schema)
        self.sessions = session_factory(self.engine)
        self.outbox = Outbox(
            table=self.outbox_table,
            sessions=self.sessions,
            bus=platform.bus,
            poll_seconds=platform.settings.outbox_poll_seconds,
            linger_seconds=(
                platform.settings.outbox_linger_seconds
                if platform.settings.outbox_linger_seconds is not None
                else self.outbox_linger
            ),
        )
        self._app = await self.bootstrap(platform)
        platform.apps[self.name] = self._app
        await self.outbox.start()

    async def stop(self) -> None:
        """Stop relaying and close the database."""
        if self.outbox is not None:
            await self.outbox.stop()
        await self.on_stop()
        if self.engine is not None:
            await self.engine.dispose()
            self.engine = None

    async def on_stop(self) -> None:  # noqa: B027 - optional hook
        """Stop the service's own background work (override)."""

    def wiring(self) -> Wiring:
        """The started service's wiring, for its bootstrap."""
        assert self.platform is not None and self.sessions is not None and self.outbox is not None
        return Wiring(
            name=self.name,
            platform=self.platform,
            sessions=self.sessions,
            outbox=self.outbox,
            inbox=self.inbox_table,
            tables=self.tables,
        )

    async def backlog(self) -> int:
        """Unsent outbox rows."""
        return await self.outbox.backlog() if self.outbox is not None else 0
