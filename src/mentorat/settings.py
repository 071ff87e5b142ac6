"""Service settings, read from the environment with the MENTORAT_ prefix."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MENTORAT_", env_file=".env", extra="ignore")

    database_url: SecretStr | None = Field(
        default=None,
        description="PostgreSQL URL. Unset: an embedded PostgreSQL is started in data_dir.",
    )
    data_dir: Path = Field(
        default=Path(".mentorat-data"),
        description="Where the embedded PostgreSQL keeps its files.",
    )
    migrations_dir: Path | None = Field(
        default=None, description="Alembic scripts folder; defaults to the repository's."
    )
    log_level: str = "INFO"
    log_json: bool = True
    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    import_max_bytes: int = Field(default=20_000_000, ge=1024)
    import_max_rows: int = Field(default=50_000, ge=1)
    db_pool_size: int = Field(default=10, ge=1)
    db_statement_timeout_ms: int = Field(default=30_000, ge=0)


@lru_cache
def get_settings() -> Settings:
    return Settings()
