"""The tables ingestion shares: visitors, sessions, privacy settings, rollups, bot hits, the ledger.

Each collected type's table belongs to the module that owns the type (core's pageviews and
events, web_vitals in pulse.modules.webvitals...), made with `collected()` here: partitioned by
month on `ts` (see partitions.py), with `(project_id, ts, id)` as the primary key: `id` is the
event id given at the request, so a replayed batch inserts nothing twice. Visitors are numbered
densely per project (`visitor_no`), which keeps rows small and lets reports count distinct
visitors with bitmaps.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    SmallInteger,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID

from pulse.db import Base

metadata = Base.metadata

# Where a collected row happened: the columns every collected type shares, after the key.
CONTEXT = [
    ("visitor_no", BigInteger, False),
    ("session_id", UUID, True),
    ("hostname", Text, True),
    ("path", Text, True),
]


def collected(name: str, *columns: Column, activity: bool = False) -> Table:
    """A monthly-partitioned table of one collected type: list it in its module's `tables`
    (pulse.ingest.partitions finds the partitioned ones there).

    A visitor's rows must be found fast (pulse.privacy: export and delete). Rows of activity
    (`activity=True`: types that join sessions, pulse.modules.module.Payload.activity) always
    carry a session and are found through it; other tables get an index on the visitor."""
    by_visitor = () if activity else (Index(f"ix_{name}_project_id_visitor_no", "project_id", "visitor_no"),)
    return Table(
        name, metadata,
        Column("project_id", UUID, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
        Column("ts", DateTime(timezone=True), nullable=False),
        Column("id", UUID, nullable=False),
        *(Column(col, type_, nullable=nullable) for col, type_, nullable in CONTEXT),
        *columns,
        PrimaryKeyConstraint("project_id", "ts", "id"),
        Index(f"ix_{name}_project_id_session_id", "project_id", "session_id"),
        *by_visitor,
        postgresql_partition_by="RANGE (ts)",
    )


visitors = Table(
    "visitors", metadata,
    Column("project_id", UUID, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("visitor_id", Text, nullable=False),
    Column("visitor_no", BigInteger, nullable=False),
    Column("first_seen_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("project_id", "visitor_id"),
    Index("uq_visitors_project_id_visitor_no", "project_id", "visitor_no", unique=True),
)

# The next visitor number of each project; only the project's writer (one at a time) moves it.
visitor_counters = Table(
    "visitor_counters", metadata,
    Column("project_id", UUID, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("next_no", BigInteger, nullable=False),
    Column("next_session_no", BigInteger, nullable=False, server_default="1"),
)

sessions = Table(
    "sessions", metadata,
    Column("project_id", UUID, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("id", UUID, nullable=False),
    Column("visitor_no", BigInteger, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True), nullable=False),
    Column("entry_path", Text), Column("exit_path", Text),
    Column("pageviews", Integer, nullable=False), Column("events", Integer, nullable=False),
    Column("duration", Integer, nullable=False),  # seconds between first and last activity
    Column("is_bounce", Boolean, nullable=False),
    Column("hostname", Text), Column("referrer", Text), Column("source", Text), Column("channel", Text),
    Column("utm_source", Text), Column("utm_medium", Text), Column("utm_campaign", Text),
    Column("utm_content", Text), Column("utm_term", Text),
    Column("country", Text), Column("region", Text), Column("city", Text),
    Column("browser", Text), Column("os", Text), Column("device", Text),
    Column("session_no", BigInteger, nullable=False),  # dense per project (pulse.ingest.sessionsets)
    PrimaryKeyConstraint("project_id", "id"),
    Index("ix_sessions_project_id_started_at", "project_id", "started_at"),
    Index("ix_sessions_project_id_visitor_no_ended_at", "project_id", "visitor_no", "ended_at"),
)

privacy_settings = Table(
    "privacy_settings", metadata,
    Column("project_id", UUID, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("anonymize_ip", Boolean, nullable=False),
    Column("respect_dnt", Boolean, nullable=False),
    Column("bot_filtering", Boolean, nullable=False),
    Column("consent_required", Boolean, nullable=False),
    Column("allowed_consent_modes", ARRAY(Text), nullable=False),
    Column("blocked_user_agents", ARRAY(Text), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# Daily rollups in the project's days, per dimension value ("" dimension: the whole site).
# Counters are incremented by each written batch; `visitors` is a roaring bitmap of
# visitor numbers, so distinct visitors over any range of days is a union, exact.
daily_rollups = Table(
    "daily_rollups", metadata,
    Column("project_id", UUID, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("day", Date, nullable=False),
    Column("dimension", Text, nullable=False),
    Column("value", Text, nullable=False),
    Column("pageviews", BigInteger, nullable=False, server_default="0"),
    Column("sessions", BigInteger, nullable=False, server_default="0"),
    Column("bounces", BigInteger, nullable=False, server_default="0"),
    Column("duration", BigInteger, nullable=False, server_default="0"),  # session seconds
    Column("events", BigInteger, nullable=False, server_default="0"),
    Column("time_on_page", BigInteger, nullable=False, server_default="0"),  # seconds, paths only
    Column("time_on_page_views", BigInteger, nullable=False, server_default="0"),
    Column("visitors", LargeBinary, nullable=False),
    PrimaryKeyConstraint("project_id", "day", "dimension", "value"),
)

# Each rollup row's counters broken down by session (pulse.ingest.sessionsets): `bitmaps` is the
# members bitmap, then a counted pair's bit slices. Read by dimension and days for filtered reports.
session_rollups = Table(
    "session_rollups", metadata,
    Column("project_id", UUID, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("dimension", Text, nullable=False),
    Column("day", Date, nullable=False),
    Column("value", Text, nullable=False),
    Column("counter", Text, nullable=False),
    Column("bitmaps", ARRAY(LargeBinary), nullable=False),
    PrimaryKeyConstraint("project_id", "dimension", "day", "value", "counter"),
)

# Session number -> visitor number, CHUNK sessions a row: `visitors` packs 4-byte big-endian
# visitor numbers, the session numbered chunk * CHUNK + i at byte 4i (0 where none).
session_visitors = Table(
    "session_visitors", metadata,
    Column("project_id", UUID, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("chunk", BigInteger, nullable=False),
    Column("visitors", LargeBinary, nullable=False),
    PrimaryKeyConstraint("project_id", "chunk"),
    info={"dsar": "visitor numbers by session number; a forgotten visitor's entries are zeroed"},
)

# Projects whose data predates session rollups: filtered reports from `since` on read them, days
# before it are computed from the raw rows (pulse.query.raw). No row: every day is covered.
session_rollups_since = Table(
    "session_rollups_since", metadata,
    Column("project_id", UUID, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("since", Date, nullable=False),
)

# Requests from bots are counted, not stored as visitors.
bot_hits = Table(
    "bot_hits", metadata,
    Column("project_id", UUID, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("day", Date, nullable=False),
    Column("hits", BigInteger, nullable=False),
    PrimaryKeyConstraint("project_id", "day"),
)

# Stream entries already written, so a batch replayed after a crash is skipped (pruned after a week).
ingest_ledger = Table(
    "ingest_ledger", metadata,
    Column("shard", SmallInteger, nullable=False),
    Column("entry_id", Text, nullable=False),
    Column("project_id", UUID, nullable=False),
    Column("written_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("shard", "entry_id"),
    Index("ix_ingest_ledger_written_at", "written_at"),
)
