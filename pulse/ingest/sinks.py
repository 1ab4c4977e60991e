"""Where each record type lands: one row builder per type, registered in a dict, written with COPY."""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from operator import attrgetter
from uuid import UUID

import asyncpg
import msgspec

from pulse.ingest.records import Record
from pulse.ingest.rollups import local_day
from pulse.ingest.sessionize import ATTRIBUTES, Session
from pulse.limits import MAX_TRAIT_BYTES, MAX_TRAIT_KEYS

PAGEVIEW_TYPES = frozenset({"pageview", "screen"})
# Activity that joins and extends sessions (a replay chunk is the visitor on the page, recording).
SESSION_TYPES = PAGEVIEW_TYPES | {"event", "engagement", "replay"}
_json = msgspec.json.encode


def ts_of(r: Record) -> datetime:
    return datetime.fromtimestamp(r.ts / 1_000_000, UTC)


origin_of = attrgetter(*ATTRIBUTES)  # a record's session attributes, as a tuple


def _json_text(value) -> str | None:
    return None if value is None else _json(value).decode()


_NUMBERS = re.compile(r"\d+")
_HEX = re.compile(r"0x[0-9a-f]+|[0-9a-f]{8,}", re.IGNORECASE)


def error_fingerprint(message: str, error_type: str | None, filename: str | None) -> str:
    """Group errors that differ only in numbers and ids (line numbers, object ids, counts)."""
    shape = _NUMBERS.sub("N", _HEX.sub("X", message))
    basis = "|".join((error_type or "", shape, (filename or "").split("?", 1)[0]))
    return hashlib.sha1(basis.encode()).hexdigest()[:16]


# (table, extra columns after the shared ones, builder of those extra values)
Builder = Callable[[Record], tuple]
SINKS: dict[str, tuple[str, tuple[str, ...], Builder]] = {
    "pageview": ("pageviews", ("title", "referrer", "source", "channel", "utm_source", "utm_medium",
                               "utm_campaign", "utm_content", "utm_term", "country", "region", "city",
                               "browser", "os", "device", "screen", "language"),
                 lambda r: (r.title, r.referrer, r.source, r.channel, r.utm_source, r.utm_medium, r.utm_campaign,
                            r.utm_content, r.utm_term, r.country, r.region, r.city, r.browser, r.os, r.device,
                            r.screen, r.language)),
    "event": ("events", ("name", "data", "revenue_amount", "revenue_currency"),
              lambda r: (r.data.name, _json_text(r.data.data or None), r.data.revenue_amount,
                         r.data.revenue_currency)),
    "web_vital": ("web_vitals", ("name", "value", "rating", "browser", "device", "country"),
                  lambda r: (r.data.name, r.data.value, r.data.rating, r.browser, r.device, r.country)),
    "scroll_depth": ("scroll_depths", ("max_depth",), lambda r: (r.data.max_depth,)),
    "search_query": ("search_queries", ("query", "results_count"), lambda r: (r.data.query, r.data.results_count)),
    "outlink": ("outlinks", ("url", "link_type"), lambda r: (r.data.url, r.data.link_type)),
    "js_error": ("js_errors", ("message", "error_type", "stack", "filename", "lineno", "colno", "fingerprint",
                               "release", "environment", "browser", "os"),
                 lambda r: (r.data.message, r.data.error_type, r.data.stack, r.data.filename, r.data.lineno,
                            r.data.colno, error_fingerprint(r.data.message, r.data.error_type, r.data.filename),
                            r.data.release, r.data.environment, r.browser, r.os)),
    "log": ("logs", ("level", "message", "body", "release", "environment"),
            lambda r: (r.data.level, r.data.message, _json_text(r.data.body or None), r.data.release,
                       r.data.environment)),
    "click_event": ("click_events", ("x", "y", "element_selector", "element_text", "viewport_width",
                                     "viewport_height", "page_width", "page_height"),
                    lambda r: (r.data.x, r.data.y, r.data.element_selector, r.data.element_text,
                               r.data.viewport_width, r.data.viewport_height, r.data.page_width,
                               r.data.page_height)),
    "survey_response": ("survey_responses", ("survey_id", "answers", "completed"),
                        lambda r: (UUID(r.data.survey_id), _json_text(r.data.answers), r.data.completed)),
    "replay": ("replay_events", ("recording_id", "seq", "events", "events_count", "first_ts", "last_ts"),
               lambda r: (r.data.recording_id, r.data.seq, _json_text(r.data.events), len(r.data.events),
                          _event_ts(r.data.events, min), _event_ts(r.data.events, max))),
}
SINKS["screen"] = SINKS["pageview"]  # a mobile screen view is a pageview of the screen's name

SHARED = ("project_id", "ts", "id", "visitor_no", "session_id", "hostname", "path")


def _event_ts(events: list[dict], pick) -> int | None:
    stamps = [e.get("timestamp") for e in events if isinstance(e.get("timestamp"), int | float)]
    return int(pick(stamps)) if stamps else None


async def store(conn: asyncpg.Connection, project_id: UUID, records: list[Record], numbers: dict[str, int],
                session_of: dict[bytes, UUID]) -> None:
    """COPY each type's rows into its table (identify has no table of its own: see identities)."""
    rows: dict[str, list[tuple]] = defaultdict(list)
    columns: dict[str, tuple[str, ...]] = {}
    for r in records:
        sink = SINKS.get(r.type)
        if sink is None:
            continue
        table, extra, build = sink
        if r.type == "replay" and r.data.recording_id is None:
            r.data.recording_id = str(session_of[r.id])  # no recording named: the visitor's current session
        columns[table] = SHARED + extra
        rows[table].append((project_id, ts_of(r), UUID(bytes=r.id), numbers[r.visitor_id],
                            session_of.get(r.id), r.hostname, r.path, *build(r)))
    for table, table_rows in rows.items():
        await conn.copy_records_to_table(table, records=table_rows, columns=list(columns[table]))


_SESSION_COLUMNS = ("project_id", "id", "visitor_no", "started_at", "ended_at", "entry_path", "exit_path",
                    "pageviews", "events", "duration", "is_bounce", *ATTRIBUTES)
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
         s.events, s.duration, s.is_bounce, *map(s.attrs.get, ATTRIBUTES)) for s in sessions])
    await conn.execute(SESSION_UPSERT)
    await conn.execute("DELETE FROM session_stage")  # a batch may hold several projects


def session_from_row(row: asyncpg.Record) -> Session:
    return Session(
        id=row["id"], visitor_no=row["visitor_no"], started_at=row["started_at"], ended_at=row["ended_at"],
        entry_path=row["entry_path"], exit_path=row["exit_path"], pageviews=row["pageviews"],
        events=row["events"], attrs={a: row[a] for a in ATTRIBUTES},
        # Approximations: the table keeps the session's bounds, not each pageview's time.
        last_page=(row["ended_at"], row["exit_path"]) if row["pageviews"] else None,
        first_page_ts=row["started_at"] if row["pageviews"] else None)


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
        per_day[local_day(ts_of(r), tz)] += 1
    await conn.executemany(
        "INSERT INTO bot_hits (project_id, day, hits) VALUES ($1, $2, $3) "
        "ON CONFLICT (project_id, day) DO UPDATE SET hits = bot_hits.hits + excluded.hits",
        [(project_id, day, hits) for day, hits in per_day.items()])


def _merged_traits(table: str) -> str:
    """Traits merged over `table`'s stored ones, within MAX_TRAIT_KEYS keys and MAX_TRAIT_BYTES:
    past either bound, known traits still update but new keys are dropped; an update that would
    still pass the byte bound leaves the stored traits as they are."""
    merged = f"{table}.traits || excluded.traits"
    known = (f"{table}.traits || COALESCE((SELECT jsonb_object_agg(k, v) FROM jsonb_each(excluded.traits) AS e(k, v) "
             f"WHERE {table}.traits ? k), '{{}}'::jsonb)")
    return (f"CASE WHEN (SELECT count(*) FROM jsonb_object_keys({merged})) <= {MAX_TRAIT_KEYS} "
            f"AND octet_length(({merged})::text) <= {MAX_TRAIT_BYTES} THEN {merged} "
            f"WHEN octet_length(({known})::text) <= {MAX_TRAIT_BYTES} THEN {known} "
            f"ELSE {table}.traits END")


async def identities(conn: asyncpg.Connection, project_id: UUID, records: list[Record]) -> None:
    """Merge traits into profiles (bounded: _merged_traits), record user aliases, attach visitors
    to accounts."""
    for r in records:
        when, data = ts_of(r), r.data
        await conn.execute(
            "INSERT INTO identity_profiles (project_id, visitor_id, user_id, traits, first_seen_at, last_seen_at) "
            "VALUES ($1, $2, $3, $4::jsonb, $5, $5) ON CONFLICT (project_id, visitor_id) DO UPDATE SET "
            "user_id = COALESCE(excluded.user_id, identity_profiles.user_id), "
            f"traits = {_merged_traits('identity_profiles')}, "
            "last_seen_at = GREATEST(identity_profiles.last_seen_at, excluded.last_seen_at), "
            "first_seen_at = LEAST(identity_profiles.first_seen_at, excluded.first_seen_at)",
            project_id, r.visitor_id, r.user_id, _json(data.traits).decode(), when)
        if r.user_id:
            await conn.execute(
                "INSERT INTO identity_aliases (project_id, user_id, visitor_id, created_at) VALUES ($1, $2, $3, $4) "
                "ON CONFLICT DO NOTHING", project_id, r.user_id, r.visitor_id, when)
        if data.account_id:
            await conn.execute(
                "INSERT INTO identity_accounts (project_id, account_id, traits, first_seen_at, last_seen_at) "
                "VALUES ($1, $2, $3::jsonb, $4, $4) ON CONFLICT (project_id, account_id) DO UPDATE SET "
                f"traits = {_merged_traits('identity_accounts')}, "
                "last_seen_at = GREATEST(identity_accounts.last_seen_at, excluded.last_seen_at)",
                project_id, data.account_id, _json(data.account_traits).decode(), when)
            await conn.execute(
                "INSERT INTO account_members (project_id, account_id, visitor_id, user_id, role, last_seen_at) "
                "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (project_id, account_id, visitor_id) DO UPDATE SET "
                "user_id = COALESCE(excluded.user_id, account_members.user_id), "
                "role = COALESCE(excluded.role, account_members.role), "
                "last_seen_at = GREATEST(account_members.last_seen_at, excluded.last_seen_at)",
                project_id, data.account_id, r.visitor_id, r.user_id, data.account_role, when)

