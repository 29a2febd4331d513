"""audit's settings (env MIMAMORI_AUDIT_*); defaults are the embedded form."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class AuditSettings(BaseSettings):
    """audit's own settings."""

    model_config = SettingsConfigDict(env_prefix="MIMAMORI_AUDIT_", extra="ignore")

    port: int = 8005
    checkpoint_key: str | None = Field(
        default=None,
        description="PEM of the Ed25519 key that signs checkpoints; None = made once, kept in the data dir "
        "(development only: production refuses to start without it)",
    )
    checkpoint_public_key: str | None = Field(
        default=None,
        description="PEM of the public key the verifier trusts (CLI); default: that of checkpoint_key",
    )
    checkpoint_interval_seconds: float = Field(default=300.0, gt=0, description="how often the chain head is signed")
    mass_lookup_threshold: int = Field(default=50, ge=1, description="more distinct persons than this in the window")
    mass_lookup_window_minutes: int = Field(default=60, ge=1)
