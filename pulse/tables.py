"""Every table: the platform's, and every installed module's (importing a module's package
defines its tables), so the metadata (and Alembic) see them all."""

from __future__ import annotations

import importlib

from pulse.modules.installed import installed

PLATFORM_TABLES = ["pulse.admin.tables", "pulse.ingest.tables", "pulse.audit"]


def import_all_tables() -> None:
    for name in PLATFORM_TABLES:
        importlib.import_module(name)
    installed()
