"""risk's settings (env MIMAMORI_RISK_*); defaults are the embedded form."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# Only the development (embedded) form may fall back on this; production refuses to start without a key.
DEVELOPMENT_PSEUDONYM_KEY = "risk-development-only-pseudonym-key"


class RiskSettings(BaseSettings):
    """risk's own settings."""

    model_config = SettingsConfigDict(env_prefix="MIMAMORI_RISK_", extra="ignore")

    port: int = 8003
    pseudonym_key: SecretStr | None = Field(
        default=None,
        description="secret key of the pseudonyms shown under criteria_design (HMAC-SHA-256); required outside "
        "development, where a fixed development key stands in",
    )
    town_name: str = Field(default="開成町", description="the town's name as addresses write it (districts follow it)")
    rescore_chunk_households: int = Field(default=2000, ge=1, description="households scored per transaction")
    rescore_settle_seconds: float = Field(
        default=1.0, ge=0, description="a scheduled full re-score starts once no batch asked for it this long"
    )
    rescore_lease_seconds: float = Field(
        default=120.0, gt=0, description="a run whose worker made no progress this long is taken over"
    )
    rescore_poll_seconds: float = Field(default=0.5, gt=0, description="how often a worker looks for runs")

    def key_for(self, environment: str) -> str:
        """The pseudonym key; outside development a missing key is an error."""
        if self.pseudonym_key is not None and self.pseudonym_key.get_secret_value():
            return self.pseudonym_key.get_secret_value()
        if environment != "development":
            raise ValueError("production needs MIMAMORI_RISK_PSEUDONYM_KEY")
        return DEVELOPMENT_PSEUDONYM_KEY
