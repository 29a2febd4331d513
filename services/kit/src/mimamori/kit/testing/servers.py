"""Finding the real servers for integration tests: the ones CI started (env), else testcontainers where a
Docker engine exists, else none (the test is skipped, or fails when integration tests are required)."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, NoReturn

from sqlalchemy.engine import make_url

REQUIRED = "MIMAMORI_REQUIRE_INTEGRATION"
DATABASE_ENV = "MIMAMORI_TEST_DATABASE_URL"
KAFKA_ENV = "MIMAMORI_TEST_KAFKA_BOOTSTRAP"

_containers: list[Any] = []


def integration_required() -> bool:
    """Whether a missing server must fail the run (CI) rather than skip the test."""
    return os.environ.get(REQUIRED) == "1"


def unavailable(message: str) -> NoReturn:
    """A test cannot run here: skipped, or failed where integration is required (CI: nothing may pass by skipping)."""
    import pytest  # a test-run dependency: only a test calls this

    if integration_required():
        pytest.fail(f"{message}; {REQUIRED}=1 forbids skipping", pytrace=False)
    pytest.skip(message)


def docker_available() -> bool:
    """Whether a Docker engine answers (the client alone is not enough)."""
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def postgres_url() -> str | None:
    """An asyncpg URL of a PostgreSQL where tests may create databases."""
    url = os.environ.get(DATABASE_ENV)
    if url:
        return url
    if docker_available():
        from testcontainers.postgres import PostgresContainer

        container = PostgresContainer("postgres:16-alpine", driver="asyncpg")
        container.start()
        _containers.append(container)
        url = str(container.get_connection_url())
        os.environ[DATABASE_ENV] = url
        return url
    return None


def kafka_bootstrap() -> str | None:
    """Bootstrap servers of a Kafka broker for tests."""
    bootstrap = os.environ.get(KAFKA_ENV)
    if bootstrap:
        return bootstrap
    if docker_available():
        from testcontainers.kafka import KafkaContainer

        container = KafkaContainer().with_kraft()
        container.start()
        _containers.append(container)
        bootstrap = str(container.get_bootstrap_server())
        os.environ[KAFKA_ENV] = bootstrap
        return bootstrap
    return None


def stop_containers() -> None:
    """Stop what testcontainers started."""
    while _containers:
        _containers.pop().stop()


def with_database(url: str, name: str) -> str:
    """The same server URL, with its options (`?host=` for a Unix socket, TLS), naming another database."""
    return make_url(url).set(database=name).render_as_string(hide_password=False)


@contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    """A new empty database on the server of admin_url, dropped afterwards."""
    import asyncio

    import asyncpg

    name = f"t_{uuid.uuid4().hex[:16]}"
    plain = admin_url.replace("postgresql+asyncpg://", "postgresql://")

    async def execute(sql: str) -> None:
        conn = await asyncpg.connect(plain)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    def run(sql: str) -> None:
        # In a thread of its own: the caller may already be inside a running event loop.
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(asyncio.run, execute(sql)).result()

    run(f'CREATE DATABASE "{name}"')
    try:
        yield with_database(admin_url, name)
    finally:
        run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
