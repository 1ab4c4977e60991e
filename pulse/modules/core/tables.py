"""Core's collected tables: pageviews (screen views too) and custom events, monthly partitions."""

from __future__ import annotations

from sqlalchemy import Column, Index, Numeric, Text
from sqlalchemy.dialects.postgresql import JSONB

from pulse.ingest.tables import collected

pageviews = collected(
    "pageviews",
    Column("title", Text), Column("referrer", Text), Column("source", Text), Column("channel", Text),
    Column("utm_source", Text), Column("utm_medium", Text), Column("utm_campaign", Text),
    Column("utm_content", Text), Column("utm_term", Text),
    Column("country", Text), Column("region", Text), Column("city", Text),
    Column("browser", Text), Column("os", Text), Column("device", Text),
    Column("screen", Text), Column("language", Text),
    activity=True,
)
events = collected(
    "events",
    Column("name", Text, nullable=False), Column("data", JSONB),
    Column("revenue_amount", Numeric(18, 4)), Column("revenue_currency", Text),
    activity=True,
)

# Event conditions (segments now, funnels next) read one name's events over a range.
Index("ix_events_project_id_name_ts", events.c.project_id, events.c.name, events.c.ts)

TABLES = (pageviews, events)
