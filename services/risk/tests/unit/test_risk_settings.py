"""risk's settings: the pseudonym key is a secret from the environment; only development has a default."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from mimamori.risk.config import DEVELOPMENT_PSEUDONYM_KEY, RiskSettings
from mimamori.risk.service_layer.lists import pseudonym


def test_production_refuses_to_run_without_a_pseudonym_key() -> None:
    with pytest.raises(ValueError, match="PSEUDONYM_KEY"):
        RiskSettings(pseudonym_key=None).key_for("production")


def test_development_falls_back_on_its_own_key_and_a_configured_key_wins() -> None:
    assert RiskSettings(pseudonym_key=None).key_for("development") == DEVELOPMENT_PSEUDONYM_KEY
    assert RiskSettings(pseudonym_key=SecretStr("k-123")).key_for("production") == "k-123"


def test_the_key_from_the_environment_changes_every_pseudonym(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIMAMORI_RISK_PSEUDONYM_KEY", "town-secret")
    key = RiskSettings().key_for("production")
    assert pseudonym("p1", key=key) != pseudonym("p1", key=DEVELOPMENT_PSEUDONYM_KEY)
    assert pseudonym("p1", key=key) == pseudonym("p1", key="town-secret")
