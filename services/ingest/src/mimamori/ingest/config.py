"""ingest's settings (env MIMAMORI_INGEST_*); defaults are the embedded form."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class IngestSettings(BaseSettings):
    """ingest's own settings."""

    model_config = SettingsConfigDict(env_prefix="MIMAMORI_INGEST_", extra="ignore")

    port: int = 8001
    max_upload_bytes: int = Field(default=2 * 1024**3, gt=0, description="largest accepted file (413 beyond)")
    files_dir: Path | None = Field(
        default=None, description="where delivered bytes are kept; default <data_dir>/ingest/files"
    )
    batch_size: int = Field(default=5000, ge=1, le=20000, description="rows per transaction while loading")
    drop_dir: Path | None = Field(
        default=None, description="a folder to watch: files put there are loaded like uploads (processed/, rejected/)"
    )
    drop_poll_seconds: float = Field(default=5.0, gt=0, description="how often the drop folder is scanned")
    seed_demo: bool = Field(
        default=True, description="embedded mode only: load a synthetic town's jumin when no load has run yet"
    )
