"""Settings are read once from the environment, named as the reference names them."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from pulse.config import Settings
from tests.helpers import ADMIN_TOKEN

LONG_TOKEN = "t" * 32


def test_reference_variables(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db:5432/pulse")
    monkeypatch.setenv("REDIS_URL", "redis://cache:6379/0")
    monkeypatch.setenv("PULSE_ADMIN_TOKEN", LONG_TOKEN)
    monkeypatch.setenv("PULSE_COOKIE_SECRET", "c")
    monkeypatch.setenv("EMAIL_REPORT_WEBHOOK_URL", "https://hooks.example.com/email")
    monkeypatch.setenv("ALLOWED_ORIGINS", "https://a.example.com, https://b.example.com")
    settings = Settings()
    assert settings.database_url == "postgresql+asyncpg://u:p@db:5432/pulse"
    assert settings.redis_url == "redis://cache:6379/0"
    assert (settings.admin_token, settings.cookie_secret) == (LONG_TOKEN, "c")
    assert settings.email_report_webhook_url == "https://hooks.example.com/email"
    assert settings.allowed_origins == ["https://a.example.com", "https://b.example.com"]


def test_pulse_variables_and_defaults(monkeypatch):
    for name in ("DATABASE_URL", "REDIS_URL", "PULSE_DATA_DIR", "PULSE_PORT", "PULSE_TRUSTED_PROXIES"):
        monkeypatch.delenv(name, raising=False)
    defaults = Settings()
    assert defaults.database_url is None and defaults.redis_url is None
    assert defaults.data_dir == Path(".pulse") and defaults.port == 8000
    assert (defaults.rate_limit_ingest, defaults.rate_limit_query, defaults.rate_limit_admin) == (100, 100, 20)
    monkeypatch.setenv("PULSE_DATA_DIR", "/var/lib/pulse")
    monkeypatch.setenv("PULSE_PORT", "9000")
    monkeypatch.setenv("PULSE_TRUSTED_PROXIES", "10.0.0.1,10.0.0.2")
    settings = Settings()
    assert settings.data_dir == Path("/var/lib/pulse") and settings.port == 9000
    assert settings.trusted_proxies == ["10.0.0.1", "10.0.0.2"]


@pytest.mark.parametrize("token", ["t" * 31, "short", "x"])
def test_a_short_admin_token_is_refused_at_start(monkeypatch, token):
    monkeypatch.setenv("PULSE_ADMIN_TOKEN", token)
    with pytest.raises(ValidationError) as refused:
        Settings()
    message = str(refused.value)
    assert "PULSE_ADMIN_TOKEN must be at least 32 characters" in message
    assert repr(token) not in message and f"input_value='{token}'" not in message  # never echoed


def test_admin_tokens_that_are_accepted(monkeypatch):
    assert len(ADMIN_TOKEN) >= 32 and Settings(PULSE_ADMIN_TOKEN=ADMIN_TOKEN).admin_token == ADMIN_TOKEN
    assert Settings(PULSE_ADMIN_TOKEN="t" * 32).admin_token == "t" * 32
    monkeypatch.setenv("PULSE_ADMIN_TOKEN", "")
    assert Settings().admin_token is None  # empty is unset: pulse serve generates one


@pytest.mark.parametrize("origins", ["*", "https://a.example.com,*", " * ", "null"])
def test_a_wildcard_origin_with_credentials_is_refused_at_start(monkeypatch, origins):
    monkeypatch.setenv("ALLOWED_ORIGINS", origins)
    with pytest.raises(ValidationError) as refused:
        Settings()
    message = str(refused.value)
    assert "ALLOWED_ORIGINS" in message and "is refused" in message and "credentials" in message
