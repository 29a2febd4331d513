"""risk's settings (env MIMAMORI_RISK_*); defaults are the embedded form."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class RiskSettings(BaseSettings):
    """risk's own settings."""

    model_config = SettingsConfigDict(env_prefix="MIMAMORI_RISK_", extra="ignore")

    port: int = 8003
