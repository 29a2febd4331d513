"""Settings: algorithms that never pass, upstream URLs from JSON or one variable per service."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from mimamori.gateway.config import GatewaySettings


@pytest.mark.parametrize("algorithm", ["HS256", "none", "RS384"])
def test_symmetric_and_unlisted_algorithms_are_refused(monkeypatch: pytest.MonkeyPatch, algorithm: str) -> None:
    monkeypatch.setenv("MIMAMORI_GATEWAY_ALGORITHMS", f'["RS256", "{algorithm}"]')
    with pytest.raises(ValidationError, match="algorithms must be"):
        GatewaySettings()


def test_upstreams_from_json_and_per_service_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIMAMORI_GATEWAY_UPSTREAMS", '{"identity": "http://identity:8002/", "risk": "http://r:1"}')
    monkeypatch.setenv("MIMAMORI_GATEWAY_UPSTREAM_RISK", "http://risk:8003")
    settings = GatewaySettings()
    assert settings.upstream("identity") == "http://identity:8002"
    assert settings.upstream("risk") == "http://risk:8003"
    assert settings.upstream("casework") == "http://localhost:8004"
    assert settings.upstream("elsewhere") is None
