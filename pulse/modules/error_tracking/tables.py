"""Error tracking's collected table."""

from __future__ import annotations

from sqlalchemy import Column, Integer, Text

from pulse.ingest.tables import collected

js_errors = collected(
    "js_errors",
    Column("message", Text, nullable=False), Column("error_type", Text), Column("stack", Text),
    Column("filename", Text), Column("lineno", Integer), Column("colno", Integer),
    Column("fingerprint", Text, nullable=False), Column("release", Text), Column("environment", Text),
    Column("browser", Text), Column("os", Text),
)

TABLES = (js_errors,)
