"""Web vitals' collected table."""

from __future__ import annotations

from sqlalchemy import Column, Double, Text

from pulse.ingest.tables import collected

web_vitals = collected(
    "web_vitals",
    Column("name", Text, nullable=False), Column("value", Double, nullable=False), Column("rating", Text),
    Column("browser", Text), Column("device", Text), Column("country", Text),
)

TABLES = (web_vitals,)
