"""Logs' collected table."""

from __future__ import annotations

from sqlalchemy import Column, Text
from sqlalchemy.dialects.postgresql import JSONB

from pulse.ingest.tables import collected

logs = collected(
    "logs",
    Column("level", Text, nullable=False), Column("message", Text, nullable=False), Column("body", JSONB),
    Column("release", Text), Column("environment", Text),
)

TABLES = (logs,)
