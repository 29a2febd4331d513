"""PostgreSQL provisioning of the distributed form: one schema and one login role per service."""

from __future__ import annotations

import re

import asyncpg
from sqlalchemy.engine import make_url

NAME = re.compile(r"^[a-z][a-z0-9_]{0,40}$")


def role_of(service: str) -> str:
    """The login role of a service."""
    return f"mimamori_{service}"


async def provision_service(*, admin_url: str, service: str, password: str) -> str:
    """Create (or update) the service's role and its schema owned by it; return the service's database URL.

    The role may use only its own schema: no CREATE on the database, nothing on other services' schemas.
    """
    if not NAME.match(service):
        raise ValueError("service names are lower-case identifiers")
    role = role_of(service)
    conn = await asyncpg.connect(admin_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
        verb = "ALTER" if exists else "CREATE"
        quoted_password = password.replace("'", "''")
        await conn.execute(f"{verb} ROLE {role} LOGIN PASSWORD '{quoted_password}'")
        await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{service}" AUTHORIZATION {role}')
        await conn.execute(f'ALTER SCHEMA "{service}" OWNER TO {role}')
        await conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        database = await conn.fetchval("SELECT current_database()")
        await conn.execute(f'REVOKE CREATE ON DATABASE "{database}" FROM PUBLIC')
    finally:
        await conn.close()
    return service_url(admin_url, role=role, password=password)


def service_url(admin_url: str, *, role: str, password: str) -> str:
    """The admin URL with the service's role and password: the same server, database and options (a Unix socket
    directory in `?host=`, TLS settings), the password escaped as a URL needs."""
    url = make_url(admin_url).set(drivername="postgresql+asyncpg", username=role, password=password)
    return url.render_as_string(hide_password=False)
