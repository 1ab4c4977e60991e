"""Session rollups for days written before they existed (migration 0010), rebuilt from the raw rows.

Migration 0010 numbers existing sessions but cannot build bitmaps in SQL, so a project that had
data gets a `session_rollups_since` day and filtered reports over earlier days read the raw rows
(pulse.query.sessionsets). `pulse ingest rebuild-session-rollups` asks for those days, newest
first: one `Rebuild` entry per day on the project's ingest shard. The writer applies each in
stream order, in a transaction of its own, as it applies a DSAR delete: it is the only author of
a project's rollups and keeps them in its caches.

A day is rebuilt from the sessions active on it, with every pageview and event of those sessions,
through the same `Deltas` the writer adds them with (pulse.privacy.forget.contribution). The day's
session rollup rows are replaced by what that gives, and `since` moves back to the day; once the
project's first day is rebuilt, its `since` row goes and every day is read from session rollups.
"""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID

import asyncpg

from pulse.ingest import sinks
from pulse.ingest.records import Entry, Rebuild, encode_entry
from pulse.ingest.sessionsets import SessionValues, counted
from pulse.ingest.storage import Staged, Storage
from pulse.query.dates import DayRange


async def rebuild_day(conn: asyncpg.Connection, storage: Storage, staged: Staged, project_id: UUID,
                      day: date) -> int:
    """Replace the day's session rollup rows by those its raw rows give; returns how many rows it wrote."""
    from pulse.privacy.forget import contribution

    tz = await conn.fetchval("SELECT timezone FROM projects WHERE id = $1", project_id) or "UTC"
    start, end = DayRange(day, day).bounds(tz)
    sessions = [sinks.session_from_row(r) for r in await conn.fetch(
        "SELECT * FROM sessions s WHERE s.project_id = $1 AND s.started_at < $3 AND s.ended_at >= $2 "
        "AND (s.started_at >= $2 OR EXISTS (SELECT 1 FROM pageviews p WHERE p.project_id = $1 "
        "AND p.session_id = s.id AND p.ts >= $2 AND p.ts < $3) OR EXISTS (SELECT 1 FROM events e "
        "WHERE e.project_id = $1 AND e.session_id = s.id AND e.ts >= $2 AND e.ts < $3))",
        project_id, start, end)]
    changes: dict = {}
    if sessions:
        ids = [s.id for s in sessions]
        low, high = min(s.started_at for s in sessions), max(s.ended_at for s in sessions)
        within = "project_id = $1 AND session_id = ANY($2::uuid[]) AND ts >= $3 AND ts <= $4"
        pages = await conn.fetch(f"SELECT ts, path, hostname, session_id FROM pageviews WHERE {within}",
                                 project_id, ids, low, high)
        events = await conn.fetch(f"SELECT ts, name, session_id FROM events WHERE {within}", project_id, ids, low, high)
        deltas = contribution(tz, 0, sessions, pages, events)
        changes = {target: c for target, c in deltas.session_values().items() if target[0][0] == day}
    values: dict = {}
    for target, per_session in changes.items():
        values[target] = SessionValues()
        values[target].apply(per_session, counted(target[0][1], target[1]))
    # Rows the rebuild does not give go too: written empty, they are deleted and dropped from the cache.
    for r in await conn.fetch("SELECT dimension, value, counter FROM session_rollups WHERE project_id = $1 "
                              "AND day = $2", project_id, day):
        values.setdefault(((day, r["dimension"], r["value"]), r["counter"]), SessionValues())
    await storage.write_session_values(conn, project_id, values, staged)
    first = await conn.fetchval("SELECT min(started_at) FROM sessions WHERE project_id = $1", project_id)
    if first is None or DayRange(day, day).bounds(tz)[0] <= first:
        await conn.execute("DELETE FROM session_rollups_since WHERE project_id = $1", project_id)
    else:
        await conn.execute("UPDATE session_rollups_since SET since = $2 WHERE project_id = $1 AND since > $2",
                           project_id, day)
    return sum(1 for v in values.values() if v.members)


async def request(runtime, project_id: UUID) -> list[date]:
    """Queue a rebuild of every day before the project's `since`, newest first; the days queued."""
    project_id = UUID(str(project_id))
    async with runtime.engine.connect() as sa_conn:
        raw = await sa_conn.get_raw_connection()
        conn: asyncpg.Connection = raw.driver_connection
        since = await conn.fetchval("SELECT since FROM session_rollups_since WHERE project_id = $1", project_id)
        if since is None:
            return []
        first = await conn.fetchval(
            "SELECT (min(s.started_at) AT TIME ZONE coalesce(p.timezone, 'UTC'))::date FROM sessions s "
            "JOIN projects p ON p.id = s.project_id WHERE s.project_id = $1 GROUP BY p.timezone", project_id)
    days = [since - timedelta(days=n) for n in range(1, (since - first).days + 1)] if first else [since - timedelta(1)]
    for day in days:
        entry = encode_entry(Entry(project_id=project_id.bytes, records=[], rebuild=Rebuild(day.isoformat())))
        await runtime.ingestor.buffer.append(project_id, entry, bounded=False)
    return days
