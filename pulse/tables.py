"""Every table module, imported so the metadata (and Alembic) see them all."""

from __future__ import annotations

import importlib

TABLE_MODULES = ["pulse.admin.tables", "pulse.ingest.tables"]


def import_all_tables() -> None:
    for name in TABLE_MODULES:
        importlib.import_module(name)
