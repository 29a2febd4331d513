"""Alembic per service, run at start-up: each service keeps its scripts in its package (`<pkg>:migrations`)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import command, context
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from mimamori.kit.db import advisory_key, is_sqlite


def migration_lock_key(schema: str) -> int:
    """The advisory lock that serialises migrations of one schema."""
    return advisory_key(f"mimamori.migrate:{schema}")


async def upgrade(engine: AsyncEngine, *, script_location: str, schema: str | None) -> None:
    """Bring the service's schema to head; creates the schema when the role may.

    On PostgreSQL the migration first takes a transaction-scoped advisory lock of its schema: replicas of a service
    that start together (a rollout, `docker compose up --scale`) migrate one after another, and the later ones find
    the schema at head, instead of racing to create the same schema and tables and crashing on the loser's error."""
    async with engine.begin() as conn:
        if schema and not is_sqlite(str(engine.url)):
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": migration_lock_key(schema)})
            exists = await conn.scalar(text("SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": schema})
            if not exists:  # a provisioned role may not create schemas; it finds its own in place
                await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            await conn.execute(text(f'SET search_path TO "{schema}"'))
        await conn.run_sync(_upgrade, script_location, schema)


def _upgrade(connection: Any, script_location: str, schema: str | None) -> None:
    config = Config()
    config.set_main_option("script_location", script_location)
    config.attributes["connection"] = connection
    config.attributes["schema"] = schema
    command.upgrade(config, "head")


def run_env() -> None:
    """Body of every service's migrations/env.py: migrate on the connection `upgrade` hands over."""
    connection = context.config.attributes["connection"]
    schema = context.config.attributes.get("schema")
    sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        version_table_schema=None if sqlite else schema,
        render_as_batch=sqlite,
    )
    with context.begin_transaction():
        context.run_migrations()


def create_messaging_tables(op: Any) -> None:
    """The outbox and inbox of a service, for its first migration."""
    from mimamori.kit.messaging.outbox import outbox_columns
    from mimamori.kit.unit_of_work import inbox_columns

    op.create_table("outbox", *outbox_columns())
    unsent = sa.text("sent_at IS NULL")
    op.create_index("ix_outbox_unsent", "outbox", ["seq"], postgresql_where=unsent, sqlite_where=unsent)
    op.create_table("processed_messages", *inbox_columns())
