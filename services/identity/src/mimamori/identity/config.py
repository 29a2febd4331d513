"""identity's settings (env MIMAMORI_IDENTITY_*); defaults are the embedded form."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# Only the development (embedded) form may fall back on this; production refuses to start without a key.
DEVELOPMENT_PSEUDONYM_KEY = "development-only-pseudonym-key"


class IdentitySettings(BaseSettings):
    """identity's own settings."""

    model_config = SettingsConfigDict(env_prefix="MIMAMORI_IDENTITY_", extra="ignore")

    port: int = 8002
    pseudonym_key: SecretStr | None = Field(
        default=None,
        description="secret key of the pseudonyms shown under criteria_design (HMAC-SHA-256); required outside "
        "development, where a fixed development key stands in",
    )

    def key_for(self, environment: str) -> str:
        """The pseudonym key; outside development a missing key is an error."""
        if self.pseudonym_key is not None and self.pseudonym_key.get_secret_value():
            return self.pseudonym_key.get_secret_value()
        if environment != "development":
            raise ValueError("production needs MIMAMORI_IDENTITY_PSEUDONYM_KEY")
        return DEVELOPMENT_PSEUDONYM_KEY
