"""The gateway's settings (env MIMAMORI_GATEWAY_*); defaults are the embedded form."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Asymmetric algorithms only: `none` and HS* (a shared secret, or a public key misused as one) never pass.
PERMITTED_ALGORITHMS = ("RS256", "PS256", "ES256", "Ed25519")
UPSTREAM_ENV_PREFIX = "MIMAMORI_GATEWAY_UPSTREAM_"
DEFAULT_UPSTREAMS = {
    "ingest": "http://localhost:8001",
    "identity": "http://localhost:8002",
    "risk": "http://localhost:8003",
    "casework": "http://localhost:8004",
    "audit": "http://localhost:8005",
}


class GatewaySettings(BaseSettings):
    """What the gateway trusts, how hard it limits, and where the services are."""

    model_config = SettingsConfigDict(env_prefix="MIMAMORI_GATEWAY_", extra="ignore")

    port: int = 8000
    issuer: str | None = Field(
        default=None,
        description="the OIDC issuer to trust; None = the development issuer (never in production)",
    )
    audience: str = "mimamori"
    roles_claim: str = Field(default="roles", description="claim with the roles; dots reach into objects")
    org_unit_claim: str = "org_unit"
    leeway_seconds: int = Field(default=30, ge=0, le=300, description="clock skew allowed on exp and nbf")
    algorithms: tuple[str, ...] = PERMITTED_ALGORITHMS
    jwks_cache_seconds: float = Field(default=3600.0, gt=0)
    jwks_refresh_min_seconds: float = Field(
        default=30.0,
        ge=0,
        description="at most one refresh per this many seconds for tokens with an unknown kid",
    )
    rate_limit_per_second: float = Field(default=20.0, ge=0, description="per subject; 0 disables the limit")
    rate_limit_burst: int = Field(default=60, ge=1)
    upstreams: dict[str, str] = Field(
        default_factory=dict,
        description="service -> base URL (JSON); MIMAMORI_GATEWAY_UPSTREAM_<SERVICE> also works",
    )
    upstream_pool_size: int = Field(default=100, ge=1)
    upstream_connect_timeout: float = Field(default=5.0, gt=0)
    upstream_read_timeout: float = Field(default=300.0, gt=0)
    openapi_cache_seconds: float = Field(default=60.0, ge=0)
    decisions_to_broker: bool = Field(
        default=True,
        description="on Kafka, publish decisions straight to the broker (acks=all) instead of through the "
        "gateway's outbox: a decision is the gateway's only change, so the outbox adds work and no guarantee",
    )
    outbox_linger_seconds: float = Field(
        default=0.02, ge=0, le=1, description="decisions wait this long to be relayed together (they are durable)"
    )
    dev_issuer: bool = Field(
        default=True, description="serve /dev-oidc outside production (embedded, or when no issuer is configured)"
    )
    dev_issuer_base_url: str = "http://localhost:8000"
    dev_issuer_key_file: Path | None = Field(
        default=None,
        description="a PEM RSA private key the development issuer signs with: replicas of the gateway that share it "
        "accept each other's tokens (None: a new key at every start)",
    )
    policy_file: Path | None = Field(default=None, description="None = the policy bundled with the gateway")

    @field_validator("algorithms")
    @classmethod
    def _asymmetric_only(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        refused = [a for a in value if a not in PERMITTED_ALGORITHMS]
        if refused or not value:
            raise ValueError(f"algorithms must be a non-empty subset of {PERMITTED_ALGORITHMS}; refused {refused}")
        return value

    @model_validator(mode="after")
    def _per_service_upstreams(self) -> GatewaySettings:
        for name, value in os.environ.items():
            if name.startswith(UPSTREAM_ENV_PREFIX) and value:
                self.upstreams[name[len(UPSTREAM_ENV_PREFIX) :].lower()] = value
        return self

    def upstream(self, service: str) -> str | None:
        """The base URL of a service in distributed mode."""
        url = self.upstreams.get(service) or DEFAULT_UPSTREAMS.get(service)
        return url.rstrip("/") if url else None
