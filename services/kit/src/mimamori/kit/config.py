"""Settings shared by every module of one process; each service adds its own class (env MIMAMORI_<NAME>_)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_SECRET = "development-only-not-a-secret"


class PlatformSettings(BaseSettings):
    """What every module of one process shares. Defaults are the embedded (development) form."""

    model_config = SettingsConfigDict(env_prefix="MIMAMORI_", extra="ignore")

    environment: Literal["development", "production"] = "development"
    data_dir: Path = Path(".mimamori")
    municipality_code: str = Field(default="143669", description="全国地方公共団体コード (開成町)")
    database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL (postgresql+asyncpg://...) for distributed mode; None = SQLite per service",
    )
    kafka_bootstrap: str | None = Field(default=None, description="Kafka bootstrap servers; None = in-process bus")
    kafka_namespace: str = Field(default="", description="prefix of every topic and consumer group (shared clusters)")
    context_public_key: str | None = Field(default=None, description="PEM of the gateway's context-signing key")
    context_private_key: str | None = Field(default=None, description="PEM; only the gateway holds it")
    context_public_key_file: Path | None = Field(default=None, description="file holding context_public_key")
    context_private_key_file: Path | None = Field(default=None, description="file holding context_private_key")
    trace_ratio: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="share of new traces sampled; None = all in the embedded form, 10% otherwise (a span costs "
        "tens of microseconds in the Python SDK)",
    )
    otlp_endpoint: str | None = None
    log_level: str = "INFO"
    outbox_poll_seconds: float = 1.0
    outbox_linger_seconds: float | None = Field(
        default=None,
        ge=0.0,
        description="how long a relay waits after a commit to take more rows at once; None = each module's default",
    )
    consumer_retries: int = 3

    @model_validator(mode="after")
    def _read_key_files(self) -> PlatformSettings:
        if self.context_public_key is None and self.context_public_key_file is not None:
            self.context_public_key = self.context_public_key_file.read_text()
        if self.context_private_key is None and self.context_private_key_file is not None:
            self.context_private_key = self.context_private_key_file.read_text()
        return self

    @model_validator(mode="after")
    def _refuse_development_defaults_in_production(self) -> PlatformSettings:
        if self.environment == "production":
            missing = [
                name
                for name in ("database_url", "kafka_bootstrap", "context_public_key")
                if getattr(self, name) in (None, "", DEVELOPMENT_SECRET)
            ]
            if missing:
                raise ValueError(f"production needs explicit settings: {', '.join(missing)}")
        return self

    def sqlite_url(self, service: str) -> str:
        """The embedded database of one service."""
        return f"sqlite+aiosqlite:///{(self.data_dir / f'{service}.db').resolve()}"
