"""One typed Settings object, read once from the environment (see docs/configuration.md)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from pulse.limits import MIN_ADMIN_TOKEN_LENGTH


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class Settings(BaseSettings):
    # Environment names only (no bare field names such as PORT), so a host's own variables never leak in.
    # A refused value is never echoed: it may be a secret (a token, a URL with a password).
    model_config = SettingsConfigDict(extra="ignore", hide_input_in_errors=True)

    # Named exactly as the API reference lists them.
    database_url: str | None = Field(None, validation_alias=_env("DATABASE_URL"))
    redis_url: str | None = Field(None, validation_alias=_env("REDIS_URL"))
    admin_token: str | None = Field(None, validation_alias=_env("PULSE_ADMIN_TOKEN"))
    cookie_secret: str | None = Field(None, validation_alias=_env("PULSE_COOKIE_SECRET"))
    email_report_webhook_url: str | None = Field(None, validation_alias=_env("EMAIL_REPORT_WEBHOOK_URL"))
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias=_env("ALLOWED_ORIGINS")
    )

    # Pulse's own.
    data_dir: Path = Field(Path(".pulse"), validation_alias=_env("PULSE_DATA_DIR"))
    host: str = Field("127.0.0.1", validation_alias=_env("PULSE_HOST"))
    port: int = Field(8000, validation_alias=_env("PULSE_PORT"))
    workers: int = Field(1, ge=1, validation_alias=_env("PULSE_WORKERS"))
    log_level: str = Field("info", validation_alias=_env("PULSE_LOG_LEVEL"))
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["127.0.0.1"], validation_alias=_env("PULSE_TRUSTED_PROXIES")
    )
    db_pool_size: int = Field(20, ge=1, validation_alias=_env("PULSE_DB_POOL_SIZE"))
    # The ingest writers' own connections, so an expensive read can never starve ingestion.
    db_writer_pool_size: int = Field(4, ge=1, validation_alias=_env("PULSE_DB_WRITER_POOL_SIZE"))
    # statement_timeout of the request connections (reads and request writes), in milliseconds.
    query_timeout_ms: int = Field(30_000, ge=100, validation_alias=_env("PULSE_QUERY_TIMEOUT_MS"))
    # Session rollup rows kept in each process's memory for filtered reports (pulse.query.sessionsets),
    # in megabytes; each row is checked against the table's version of it on every read.
    session_cache_mb: int = Field(256, ge=0, validation_alias=_env("PULSE_SESSION_CACHE_MB"))
    # /metrics: open when unset; else `Authorization: Bearer <token>` (the admin token is accepted too).
    metrics_token: str | None = Field(None, validation_alias=_env("PULSE_METRICS_TOKEN"))
    # Outbound requests to user-supplied URLs may reach private and local addresses (pulse/outbound.py).
    allow_private_targets: bool = Field(False, validation_alias=_env("PULSE_ALLOW_PRIVATE_TARGETS"))

    # Rate limits, requests per second (the reference's table).
    rate_limit_ingest: int = Field(100, ge=1, validation_alias=_env("PULSE_RATE_LIMIT_INGEST"))
    rate_limit_query: int = Field(100, ge=1, validation_alias=_env("PULSE_RATE_LIMIT_QUERY"))
    rate_limit_admin: int = Field(20, ge=1, validation_alias=_env("PULSE_RATE_LIMIT_ADMIN"))

    # Ingestion.
    geoip_city_db: str | None = Field(None, validation_alias=_env("PULSE_GEOIP_CITY_DB"))
    # How long a DSAR delete waits for the writer to apply it before answering 202 (it is applied
    # anyway); at most 4 s, under the Redis client's socket timeout.
    dsar_wait_seconds: float = Field(4.0, ge=0, le=4, validation_alias=_env("PULSE_DSAR_WAIT_SECONDS"))
    ingest_shards: int = Field(2, ge=1, le=64, validation_alias=_env("PULSE_INGEST_SHARDS"))
    ingest_max_backlog: int = Field(200_000, ge=1, validation_alias=_env("PULSE_INGEST_MAX_BACKLOG"))
    ingest_batch_size: int = Field(200, ge=1, validation_alias=_env("PULSE_INGEST_BATCH_SIZE"))
    ingest_max_backlog_bytes: int = Field(256 * 1024 * 1024, ge=1024,
                                          validation_alias=_env("PULSE_INGEST_MAX_BACKLOG_BYTES"))
    # The embedded Redis only (an external one is configured by its operator: docs/configuration.md).
    embedded_redis_maxmemory: str = Field("1gb", validation_alias=_env("PULSE_EMBEDDED_REDIS_MAXMEMORY"))

    # GraphQL guards.
    graphql_max_depth: int = Field(12, ge=1, validation_alias=_env("PULSE_GRAPHQL_MAX_DEPTH"))
    graphql_max_tokens: int = Field(5000, ge=100, validation_alias=_env("PULSE_GRAPHQL_MAX_TOKENS"))
    graphql_max_aliases: int = Field(30, ge=1, validation_alias=_env("PULSE_GRAPHQL_MAX_ALIASES"))
    graphql_max_cost: int = Field(2000, ge=10, validation_alias=_env("PULSE_GRAPHQL_MAX_COST"))
    # Off: introspection needs a credential like every other operation (GraphiQL's page stays public).
    graphql_introspection: bool = Field(True, validation_alias=_env("PULSE_GRAPHQL_INTROSPECTION"))

    @field_validator("allowed_origins", "trusted_proxies", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("database_url")
    @classmethod
    def _asyncpg_driver(cls, value: str | None) -> str | None:
        """Accept the usual postgres:// and postgresql:// forms; SQLAlchemy needs the driver named."""
        if value is None:
            return None
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+asyncpg://" + value[len(prefix):]
        return value

    @field_validator("admin_token")
    @classmethod
    def _long_admin_token(cls, value: str | None) -> str | None:
        """Empty means unset; a set token must be long enough that guessing it is hopeless."""
        if not value:
            return None
        if len(value) < MIN_ADMIN_TOKEN_LENGTH:
            raise ValueError(f"PULSE_ADMIN_TOKEN must be at least {MIN_ADMIN_TOKEN_LENGTH} characters long "
                             f"(it has {len(value)}); generate one with "
                             "`python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`")
        return value

    @field_validator("allowed_origins")
    @classmethod
    def _no_wildcard_with_credentials(cls, value: list[str]) -> list[str]:
        """CORS is answered with credentials (keys, the dashboard cookie), so an origin list that
        lets any site in would let any site read what a logged-in user may read."""
        for origin in value:
            if origin in ("*", "null"):
                raise ValueError(f"ALLOWED_ORIGINS={origin} is refused: Pulse answers cross-origin requests "
                                 "with credentials, so every site could read a logged-in user's data. "
                                 "List the exact origins instead, e.g. ALLOWED_ORIGINS=https://dash.example.com")
        return value


@lru_cache
def get_settings() -> Settings:
    return Settings()
