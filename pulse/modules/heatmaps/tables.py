"""Heatmaps' collected table."""

from __future__ import annotations

from sqlalchemy import Column, Double, Integer, Text

from pulse.ingest.tables import collected

click_events = collected(
    "click_events",
    Column("x", Double, nullable=False), Column("y", Double, nullable=False),
    Column("element_selector", Text), Column("element_text", Text),
    Column("viewport_width", Integer), Column("viewport_height", Integer),
    Column("page_width", Integer), Column("page_height", Integer),
)

TABLES = (click_events,)
