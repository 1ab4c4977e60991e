"""Settings are read once from the environment, named as the reference names them."""

from __future__ import annotations

from pathlib import Path

from pulse.config import Settings


def test_reference_variables(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db:5432/pulse")
    monkeypatch.setenv("REDIS_URL", "redis://cache:6379/0")
    monkeypatch.setenv("PULSE_ADMIN_TOKEN", "t")
    monkeypatch.setenv("PULSE_COOKIE_SECRET", "c")
    monkeypatch.setenv("EMAIL_REPORT_WEBHOOK_URL", "https://hooks.example.com/email")
    monkeypatch.setenv("ALLOWED_ORIGINS", "https://a.example.com, https://b.example.com")
    settings = Settings()
    assert settings.database_url == "postgresql+asyncpg://u:p@db:5432/pulse"
    assert settings.redis_url == "redis://cache:6379/0"
    assert (settings.admin_token, settings.cookie_secret) == ("t", "c")
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
