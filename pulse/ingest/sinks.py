"""Where each record type lands, and the writes every batch makes (sessions, rollups, bot hits).

A payload type declares its sink (pulse.modules.module.Payload.sink): a `Copy` of rows into its
table, built per record and written with one COPY per table and batch, or a `Write`, a function
that stores the type's records itself (identify: profiles, aliases, accounts). The sinks of the
installed payload types are gathered on first use (pulse.modules.installed.payloads).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache
from operator import attrgetter
from uuid import UUID

import asyncpg
import msgspec

from pulse.ingest.records import Record
from pulse.ingest.rollups import local_day
from pulse.ingest.sessionize import ATTRIBUTES, Session
from pulse.modules.installed import payloads
from pulse.timestamps import from_micros

PAGEVIEW_TYPES = frozenset({"pageview", "screen"})
_json = msgspec.json.encode

origin_of = attrgetter(*ATTRIBUTES)  # a record's session attributes, as a tuple


def json_text(value) -> str | None:
    """A JSONB column's value as text (None stays NULL)."""
    return None if value is None else _json(value).decode()


@dataclass(frozen=True, slots=True)
class Copy:
    """Rows COPYed into `table`: the SHARED columns, then `columns`, whose values
    `row(record, session_id)` gives (session_id: the session the record joined, if any)."""

    table: str
    columns: tuple[str, ...]
    row: Callable[[Record, UUID | None], tuple]


@dataclass(frozen=True, slots=True)
class Write:
    """Records a module stores itself, in the batch's transaction, after the rows, sessions and
    rollups: `write(conn, project_id, records)`, records in time order."""

    write: Callable[[asyncpg.Connection, UUID, list[Record]], Awaitable[None]]


@cache
def _installed() -> tuple[dict[str, Copy], dict[str, Write], frozenset[str]]:
    copies: dict[str, Copy] = {}
    writes: dict[str, Write] = {}
    for typ, (_, payload) in payloads().items():
        if isinstance(payload.sink, Copy):
            copies[typ] = payload.sink
        elif isinstance(payload.sink, Write):
            writes[typ] = payload.sink
        else:
            assert payload.sink is None, f"payload type {typ!r} has a sink of unknown kind"
    activity = frozenset(typ for typ, (_, payload) in payloads().items() if payload.activity)
    return copies, writes, activity


def copies() -> dict[str, Copy]:
    """The payload types stored by COPY, with their sinks."""
    return _installed()[0]


def writes() -> dict[str, Write]:
    """The payload types a module stores itself, with their sinks."""
    return _installed()[1]


def session_types() -> frozenset[str]:
    """Activity that joins and extends sessions (pageviews, events, engagement, replay chunks...)."""
    return _installed()[2]


SHARED = ("project_id", "ts", "id", "visitor_no", "session_id", "hostname", "path")


async def store(conn: asyncpg.Connection, project_id: UUID, records: list[Record], numbers: dict[str, int],
                session_of: dict[bytes, UUID]) -> None:
    """COPY each type's rows into its table; then each `Write` sink stores its own records."""
    table_of = copies()
    rows: dict[str, list[tuple]] = defaultdict(list)
    columns: dict[str, tuple[str, ...]] = {}
    for r in records:
        sink = table_of.get(r.type)
        if sink is None:
            continue
        session = session_of.get(r.id)
        columns[sink.table] = SHARED + sink.columns
        rows[sink.table].append((project_id, from_micros(r.ts), UUID(bytes=r.id), numbers[r.visitor_id],
                                 session, r.hostname, r.path, *sink.row(r, session)))
    for table, table_rows in rows.items():
        await conn.copy_records_to_table(table, records=table_rows, columns=list(columns[table]))


async def store_own(conn: asyncpg.Connection, project_id: UUID, records: list[Record]) -> None:
    """The types whose module stores them itself (`Write`), each type's records in time order."""
    own = writes()
    for typ, sink in own.items():
        mine = [r for r in records if r.type == typ]
        if mine:
            await sink.write(conn, project_id, mine)


_SESSION_COLUMNS = ("project_id", "id", "visitor_no", "started_at", "ended_at", "entry_path", "exit_path",
                    "pageviews", "events", "duration", "is_bounce", "session_no", *ATTRIBUTES)
_SESSION_STAGE = ("CREATE TEMP TABLE IF NOT EXISTS session_stage (LIKE sessions INCLUDING DEFAULTS) "
                  "ON COMMIT DELETE ROWS")
SESSION_UPSERT = (
    f"INSERT INTO sessions ({', '.join(_SESSION_COLUMNS)}) SELECT {', '.join(_SESSION_COLUMNS)} FROM session_stage "
    "ON CONFLICT (project_id, id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _SESSION_COLUMNS[3:])
)


async def upsert_sessions(conn: asyncpg.Connection, project_id: UUID, sessions: list[Session]) -> None:
    """COPY into a per-connection staging table, then one upsert: far cheaper than a row at a time."""
    if not sessions:
        return
    await conn.execute(_SESSION_STAGE)
    await conn.copy_records_to_table("session_stage", columns=list(_SESSION_COLUMNS), records=[
        (project_id, s.id, s.visitor_no, s.started_at, s.ended_at, s.entry_path, s.exit_path, s.pageviews,
         s.events, s.duration, s.is_bounce, s.no, *map(s.attrs.get, ATTRIBUTES)) for s in sessions])
    await conn.execute(SESSION_UPSERT)
    await conn.execute("DELETE FROM session_stage")  # a batch may hold several projects


def session_from_row(row: asyncpg.Record) -> Session:
    return Session(
        id=row["id"], visitor_no=row["visitor_no"], started_at=row["started_at"], ended_at=row["ended_at"],
        entry_path=row["entry_path"], exit_path=row["exit_path"], pageviews=row["pageviews"],
        events=row["events"], attrs={a: row[a] for a in ATTRIBUTES},
        # Approximations: the table keeps the session's bounds, not each pageview's time.
        last_page=(row["ended_at"], row["exit_path"]) if row["pageviews"] else None,
        first_page_ts=row["started_at"] if row["pageviews"] else None, no=row["session_no"] or 0)


ROLLUP_UPSERT = (
    "INSERT INTO daily_rollups (project_id, day, dimension, value, pageviews, sessions, bounces, duration, "
    "events, time_on_page, time_on_page_views, visitors) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, COALESCE($12, '\\x3a30000000000000'::bytea)) "
    "ON CONFLICT (project_id, day, dimension, value) DO UPDATE SET "
    "pageviews = daily_rollups.pageviews + excluded.pageviews, "
    "sessions = daily_rollups.sessions + excluded.sessions, "
    "bounces = daily_rollups.bounces + excluded.bounces, "
    "duration = daily_rollups.duration + excluded.duration, "
    "events = daily_rollups.events + excluded.events, "
    "time_on_page = daily_rollups.time_on_page + excluded.time_on_page, "
    "time_on_page_views = daily_rollups.time_on_page_views + excluded.time_on_page_views, "
    "visitors = COALESCE($12, daily_rollups.visitors)"
)


async def count_bots(conn: asyncpg.Connection, project_id: UUID, bots: list[Record], tz: str) -> None:
    per_day: dict = defaultdict(int)
    for r in bots:
        per_day[local_day(from_micros(r.ts), tz)] += 1
    await conn.executemany(
        "INSERT INTO bot_hits (project_id, day, hits) VALUES ($1, $2, $3) "
        "ON CONFLICT (project_id, day) DO UPDATE SET hits = bot_hits.hits + excluded.hits",
        [(project_id, day, hits) for day, hits in per_day.items()])
