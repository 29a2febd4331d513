"""identity's settings (env MIMAMORI_IDENTITY_*); defaults are the embedded form."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class IdentitySettings(BaseSettings):
    """identity's own settings."""

    model_config = SettingsConfigDict(env_prefix="MIMAMORI_IDENTITY_", extra="ignore")

    port: int = 8002
