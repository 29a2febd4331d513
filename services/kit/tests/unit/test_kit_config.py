"""Platform settings: development defaults are fine for the embedded form and refused in production."""

from __future__ import annotations

import os

import pytest
from pydantic import ValidationError

from mimamori.kit.config import DEVELOPMENT_SECRET, PlatformSettings

PRODUCTION = {
    "environment": "production",
    "database_url": "postgresql+asyncpg://svc:secret@db.internal/mimamori",
    "kafka_bootstrap": "kafka-1.internal:9092",
    "context_public_key": "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n",
}


@pytest.fixture(autouse=True)
def no_mimamori_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only what a test sets counts, not the environment of the machine running the tests."""
    for name in list(os.environ):
        if name.startswith("MIMAMORI_"):
            monkeypatch.delenv(name)


def test_development_defaults_are_the_embedded_form() -> None:
    settings = PlatformSettings()
    assert settings.environment == "development"
    assert settings.database_url is None and settings.kafka_bootstrap is None
    assert settings.sqlite_url("casework").startswith("sqlite+aiosqlite:///")
    assert settings.sqlite_url("casework").endswith("/casework.db")


def test_production_with_every_setting_explicit_is_accepted() -> None:
    settings = PlatformSettings(**PRODUCTION)
    assert settings.environment == "production"


@pytest.mark.parametrize("missing", ["database_url", "kafka_bootstrap", "context_public_key"])
def test_production_refuses_a_missing_setting_and_names_it(missing: str) -> None:
    values = {k: v for k, v in PRODUCTION.items() if k != missing}
    with pytest.raises(ValidationError, match=f"production needs explicit settings: {missing}"):
        PlatformSettings(**values)


@pytest.mark.parametrize("value", ["", DEVELOPMENT_SECRET])
def test_production_refuses_empty_or_development_values(value: str) -> None:
    with pytest.raises(ValidationError, match="context_public_key"):
        PlatformSettings(**{**PRODUCTION, "context_public_key": value})


def test_production_refuses_the_bare_defaults_naming_all_of_them() -> None:
    with pytest.raises(ValidationError, match="database_url, kafka_bootstrap, context_public_key"):
        PlatformSettings(environment="production")


def test_production_from_the_environment_is_checked_the_same_way(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIMAMORI_ENVIRONMENT", "production")
    monkeypatch.setenv("MIMAMORI_DATABASE_URL", PRODUCTION["database_url"])
    with pytest.raises(ValidationError, match="kafka_bootstrap, context_public_key"):
        PlatformSettings()
    monkeypatch.setenv("MIMAMORI_KAFKA_BOOTSTRAP", PRODUCTION["kafka_bootstrap"])
    monkeypatch.setenv("MIMAMORI_CONTEXT_PUBLIC_KEY", PRODUCTION["context_public_key"])
    assert PlatformSettings().kafka_bootstrap == PRODUCTION["kafka_bootstrap"]


def test_an_unknown_environment_is_refused() -> None:
    with pytest.raises(ValidationError):
        PlatformSettings(environment="staging")  # type: ignore[arg-type]
