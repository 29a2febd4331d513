"""identity's settings (env MIMAMORI_IDENTITY_*); defaults are the embedded form."""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_PSEUDONYM_KEY = "development-only-pseudonym-key"


class IdentitySettings(BaseSettings):
    """identity's own settings."""

    model_config = SettingsConfigDict(env_prefix="MIMAMORI_IDENTITY_", extra="ignore")

    port: int = 8002
    # The key of the keyed pseudonyms (判定基準の設計・評価). Set a secret in production; the development key
    # only keeps pseudonyms stable between runs of the embedded form.
    pseudonym_key: SecretStr = SecretStr(DEVELOPMENT_PSEUDONYM_KEY)
