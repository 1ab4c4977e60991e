"""Scroll depth's collected table."""

from __future__ import annotations

from sqlalchemy import Column, SmallInteger

from pulse.ingest.tables import collected

scroll_depths = collected("scroll_depths", Column("max_depth", SmallInteger, nullable=False))

TABLES = (scroll_depths,)
