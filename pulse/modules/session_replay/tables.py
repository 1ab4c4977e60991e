"""Session replay's collected table: one row per chunk of recorder events."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, Text
from sqlalchemy.dialects.postgresql import JSONB

from pulse.ingest.tables import collected

replay_events = collected(
    "replay_events",
    Column("recording_id", Text, nullable=False), Column("seq", Integer, nullable=False),
    Column("events", JSONB, nullable=False), Column("events_count", Integer, nullable=False),
    Column("first_ts", BigInteger), Column("last_ts", BigInteger),
    activity=True,
)

TABLES = (replay_events,)
