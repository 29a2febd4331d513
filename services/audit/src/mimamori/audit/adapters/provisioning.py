"""Least privilege on PostgreSQL: the runtime role may read and append to the ledger, never change it.

    import asyncio
    from mimamori.audit.adapters.provisioning import provision
    asyncio.run(provision("postgresql+asyncpg://owner:…@db/mimamori", runtime_role="audit_rt", password="…"))

then run the service with MIMAMORI_AUDIT_DATABASE_URL naming the runtime role, and
MIMAMORI_AUDIT_MIGRATION_DATABASE_URL naming the owner (migrations need the owner; the runtime never does).
The owner keeps the right to drop the triggers; the runtime role owns nothing, so it cannot.
"""

from __future__ import annotations

from sqlalchemy import text

from mimamori.audit.adapters.tables import INSERT_ONLY
from mimamori.kit.db import create_engine
from mimamori.kit.migrations import upgrade

MIGRATIONS = "mimamori.audit:migrations"
SCHEMA = "audit"
READ_APPEND = (*INSERT_ONLY, "processed_messages")


async def provision(admin_url: str, *, runtime_role: str, password: str, schema: str = SCHEMA) -> None:
    """Migrate the schema as its owner, then create or reset the runtime role: USAGE on the schema, SELECT and
    INSERT on the ledger tables and the inbox, what the outbox relay needs, nothing else."""
    engine = create_engine(admin_url, schema=schema, pool_size=1)
    try:
        await upgrade(engine, script_location=MIGRATIONS, schema=schema)
        async with engine.begin() as conn:

            async def run(template: str, **values: str) -> None:
                # Identifiers and the password are quoted by the server (format's %I and %L), never by hand;
                # the values fill the template in the order given.
                arguments = "".join(f", CAST(:{name} AS text)" for name in values)
                statement = (await conn.execute(text(f"SELECT format('{template}'{arguments})"), values)).scalar_one()
                await conn.execute(text(statement))

            exists = (
                await conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :role"), {"role": runtime_role})
            ).first()
            verb = "ALTER" if exists else "CREATE"
            await run(
                f"{verb} ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD %L",
                role=runtime_role,
                password=password,
            )
            await run("REVOKE ALL ON SCHEMA %I FROM PUBLIC", schema=schema)
            await run("REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM %I", schema=schema, role=runtime_role)
            await run("GRANT USAGE ON SCHEMA %I TO %I", schema=schema, role=runtime_role)
            for table in READ_APPEND:
                await run("GRANT SELECT, INSERT ON %I.%I TO %I", schema=schema, table=table, role=runtime_role)
            await run("GRANT SELECT, INSERT, UPDATE ON %I.outbox TO %I", schema=schema, role=runtime_role)
            await run("GRANT SELECT ON %I.alembic_version TO %I", schema=schema, role=runtime_role)
            await run("GRANT USAGE ON ALL SEQUENCES IN SCHEMA %I TO %I", schema=schema, role=runtime_role)
            await run("ALTER ROLE %I SET search_path TO %I", role=runtime_role, schema=schema)
    finally:
        await engine.dispose()
