"""casework's settings (env MIMAMORI_CASEWORK_*); defaults are the embedded form."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class CaseworkSettings(BaseSettings):
    """casework's own settings."""

    model_config = SettingsConfigDict(env_prefix="MIMAMORI_CASEWORK_", extra="ignore")

    port: int = 8004
