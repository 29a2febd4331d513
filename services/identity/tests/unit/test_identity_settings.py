"""The pseudonym key: a secret outside development, never the development key in production."""

from __future__ import annotations

import pytest

from mimamori.identity.config import DEVELOPMENT_PSEUDONYM_KEY, IdentitySettings


def test_production_refuses_to_run_without_a_pseudonym_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MIMAMORI_IDENTITY_PSEUDONYM_KEY", raising=False)
    with pytest.raises(ValueError, match="PSEUDONYM_KEY"):
        IdentitySettings().key_for("production")
    assert IdentitySettings().key_for("development") == DEVELOPMENT_PSEUDONYM_KEY


def test_the_key_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIMAMORI_IDENTITY_PSEUDONYM_KEY", "town-secret")
    assert IdentitySettings().key_for("production") == "town-secret"
