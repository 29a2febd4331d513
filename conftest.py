"""Fixtures shared by every test: the real PostgreSQL and Kafka of integration tests."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from mimamori.kit.testing import servers

# Tests sample every trace (the tracer provider is per process: the first module started sets it).
os.environ.setdefault("MIMAMORI_TRACE_RATIO", "1.0")


def _missing(what: str) -> None:
    where = f"set {servers.DATABASE_ENV} / {servers.KAFKA_ENV}, or run with Docker"
    servers.unavailable(f"{what} is not available ({where})")


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The URL of a real PostgreSQL server (admin rights to create databases)."""
    url = servers.postgres_url()
    if url is None:
        _missing("PostgreSQL")
    assert url is not None
    return url


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test."""
    with servers.fresh_database(postgres_server) as url:
        yield url


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    """Bootstrap servers of a real Kafka broker."""
    bootstrap = servers.kafka_bootstrap()
    if bootstrap is None:
        _missing("Kafka")
    assert bootstrap is not None
    return bootstrap


@pytest.fixture
def unique() -> str:
    """A short unique suffix for topic and group names."""
    return uuid.uuid4().hex[:10]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    servers.stop_containers()
    if not servers.integration_required():
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter is not None else []
    if skipped:
        # CI must not pass by skipping: every test runs against the real servers, or the run fails.
        names = ", ".join(getattr(report, "nodeid", "?") for report in skipped[:10])
        reporter.write_line(f"FAILED: {len(skipped)} test(s) skipped while {servers.REQUIRED}=1: {names}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
