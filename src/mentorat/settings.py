"""Service settings, read from the environment with the MENTORAT_ prefix."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

_ORIGIN = re.compile(r"^https?://[^/\s?#]+$")


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
    # Snapshots of a département's mentors kept per process for candidates (~3 MiB for
    # 20,000 mentors); 0 loads the mentors from PostgreSQL on every request.
    mentor_snapshots: int = Field(default=32, ge=0)
    db_statement_timeout_ms: int = Field(default=30_000, ge=0)
    oidc_issuer: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s?#]+$",
        description="OpenID Connect issuer: JWT bearers it signs for oidc_audience are accepted.",
    )
    oidc_audience: str | None = Field(
        default=None, min_length=1, description="Our client id: the `aud` the JWTs must carry."
    )
    oidc_leeway_seconds: int = Field(
        default=60, ge=0, le=600, description="Clock skew allowed on exp, nbf and iat."
    )
    oidc_jwks_ttl_seconds: int = Field(
        default=3600, ge=0, description="How long the provider's keys are kept before a refetch."
    )
    oidc_jwks_min_refetch_seconds: int = Field(
        default=30,
        ge=0,
        description="At most one refetch of the keys per this many seconds (unknown `kid`s).",
    )

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_audience)

    @model_validator(mode="after")
    def _oidc_issuer_and_audience_together(self) -> Self:
        if (self.oidc_issuer is None) != (self.oidc_audience is None):
            raise ValueError("MENTORAT_OIDC_ISSUER and MENTORAT_OIDC_AUDIENCE go together")
        return self

    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Origins whose browsers may call the API: a JSON list or comma-separated.",
    )
    metrics_enabled: bool = Field(default=True, description="Serve /metrics (Prometheus).")
    auth_failure_limit: int = Field(
        default=10, ge=0, description="Failed authentications per client address; 0: no limit."
    )
    auth_failure_window_seconds: int = Field(default=60, ge=1)

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins_from_text(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]

    @field_validator("cors_origins")
    @classmethod
    def _origins_are_origins(cls, origins: list[str]) -> list[str]:
        cleaned = [origin.strip().rstrip("/") for origin in origins]
        for origin in cleaned:
            if origin != "*" and not _ORIGIN.match(origin):
                raise ValueError(
                    f"{origin!r} is not an origin: scheme://host[:port], without a path"
                )
        return cleaned

    db_unavailable_retry_after_s: int = Field(
        default=5, ge=1, description="Retry-After of the 503 sent while PostgreSQL is away."
    )
    cursor_secret: SecretStr | None = Field(
        default=None,
        description="Key that signs list cursors (every API process must share it). Unset: a "
        "key generated once and kept in PostgreSQL.",
    )

    # Workers (README, "Workers").
    worker_concurrency: int = Field(
        default=1, ge=1, le=100, description="Jobs a worker runs at the same time."
    )
    worker_heartbeat_seconds: float = Field(
        default=10, gt=0, le=300, description="A worker says it is alive this often."
    )
    worker_stalled_after_seconds: float = Field(
        default=30,
        gt=0,
        le=3600,
        description="A worker silent for this long is taken for dead: the sweep (every "
        "minute) gives its jobs to other workers.",
    )
    job_max_attempts: int = Field(
        default=3,
        ge=1,
        le=20,
        description="Attempts at a job whose workers died before it is failed (a run: "
        "`abandoned`).",
    )

    @model_validator(mode="after")
    def _heartbeat_within_stall(self) -> Self:
        if self.worker_heartbeat_seconds >= self.worker_stalled_after_seconds:
            raise ValueError(
                "MENTORAT_WORKER_HEARTBEAT_SECONDS must be below "
                "MENTORAT_WORKER_STALLED_AFTER_SECONDS"
            )
        return self

    webhook_allow_http: bool = Field(
        default=False,
        description="Accept plain http:// webhook URLs on any host (otherwise https only, "
        "http for loopback hosts).",
    )

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
