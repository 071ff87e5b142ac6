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
    db_pool_size: int = Field(default=10, ge=1)
    db_statement_timeout_ms: int = Field(default=30_000, ge=0)
    # Personal data lifetime (README, "Personal data").
    idempotency_hours: int = Field(
        default=24, ge=1, le=24 * 30, description="How long an Idempotency-Key answer is kept."
    )
    retention_child_years: int = Field(
        default=5,
        ge=1,
        le=30,
        description="Years a child's personal data is kept after the last mentorship ended "
        "or the child left (soft delete), whichever is later; then it is anonymised.",
    )
    retention_mentor_years: int = Field(
        default=5,
        ge=1,
        le=30,
        description="Years a mentor's personal data is kept after they left and their last "
        "mentorship ended; then it is anonymised.",
    )
    retention_audit_months: int = Field(
        default=12, ge=1, le=120, description="Months audit events are kept; then deleted."
    )


@lru_cache
def get_settings() -> Settings:
    return Settings()
