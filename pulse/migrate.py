"""Apply Alembic migrations from the repository's migrations/ directory."""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config

from pulse.config import Settings


def migrations_dir() -> Path:
    """migrations/ beside the package (a checkout or editable install), or PULSE_MIGRATIONS_DIR."""
    override = os.environ.get("PULSE_MIGRATIONS_DIR")
    path = Path(override) if override else Path(__file__).resolve().parent.parent / "migrations"
    if not (path / "env.py").exists():
        raise RuntimeError(f"migrations not found at {path}; set PULSE_MIGRATIONS_DIR")
    return path


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(settings: Settings, revision: str = "head") -> None:
    command.upgrade(alembic_config(settings.database_url), revision)
