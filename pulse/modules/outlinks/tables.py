"""Outbound links' collected table."""

from __future__ import annotations

from sqlalchemy import Column, Text

from pulse.ingest.tables import collected

outlinks = collected("outlinks", Column("url", Text, nullable=False), Column("link_type", Text, nullable=False))

TABLES = (outlinks,)
