"""Forgetting a visitor, as the stream writer does it: in the shard's order, in one transaction.

A DSAR delete (pulse.privacy.dsar) appends a `Forget` entry to the project's shard; the writer
(pulse.ingest.writer) applies it between the batches before and after it, so records accepted for
the visitor before the request are deleted with the rest and none reappear afterwards. The writer
is the project's only author of rows and rollups, and keeps caches of both; doing the delete
anywhere else would race with it.

In the transaction:
1. the visitor's number (`visitors`), then their sessions, pageviews and events are deleted,
   returning what the rollups need;
2. from those rows, the visitor's contribution to the rollups is rebuilt with the same `Deltas` the
   writer added it with (sessions, bounces and duration on each session's first day, pageviews
   under the page and the session's origin, time on page between a session's consecutive
   pageviews, events by name) and taken back; their number leaves every bitmap it was OR'ed into,
   and their sessions' numbers every session rollup (pulse.ingest.sessionsets) and the visitor map;
3. every other table of pulse.privacy.registry loses the visitor's rows;
4. a `dsar.delete` audit entry records who asked and what was deleted per table.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from uuid import UUID

import asyncpg

from pulse.ingest import sinks
from pulse.ingest.records import Forget
from pulse.ingest.rollups import Deltas
from pulse.ingest.sessionize import PageTime
from pulse.ingest.storage import Staged, Storage
from pulse.privacy.registry import locate, visitor_tables

ROLLUPS = "daily_rollups"  # the per-table counts name the rollup rows corrected under this key
SESSION_ROLLUPS = "session_rollups"  # and the session rollup rows (pulse.ingest.sessionsets) under this one


def _deleted(status: str) -> int:
    return int(status.rsplit(" ", 1)[-1])  # "DELETE 12"


async def forget(conn: asyncpg.Connection, storage: Storage, staged: Staged, project_id: UUID,
                 request: Forget) -> dict[str, int]:
    """Delete the visitor's rows and take them out of the rollups; return the count per table."""
    visitor, session_rows = await locate(conn, project_id, request.visitor_id)
    tables = visitor_tables()
    counts = dict.fromkeys([vt.name for vt in tables] + [ROLLUPS, SESSION_ROLLUPS], 0)
    returning = {sinks.copies()["pageview"].table: "ts, path, hostname, session_id",
                 sinks.copies()["event"].table: "ts, name, session_id"}
    returned: dict[str, list] = {}
    for vt in tables:
        where = vt.where(visitor)
        if where is None:
            continue
        sql, params = where
        if vt.name in returning:
            returned[vt.name] = await conn.fetch(
                f"DELETE FROM {vt.name} WHERE {sql} RETURNING {returning[vt.name]}", *params)
            counts[vt.name] = len(returned[vt.name])
        else:
            counts[vt.name] = _deleted(await conn.execute(f"DELETE FROM {vt.name} WHERE {sql}", *params))
    if visitor.visitor_no is not None:
        tz = storage.timezones.get(project_id) or await _timezone(conn, project_id)
        pages, events = (returned.get(table, []) for table in returning)
        sessions = [sinks.session_from_row(r) for r in session_rows]
        deltas = contribution(tz, visitor.visitor_no, sessions, pages, events)
        counts[ROLLUPS] = await storage.take_back(conn, project_id, visitor.visitor_no, deltas, staged)
        counts[SESSION_ROLLUPS] = await storage.take_back_sessions(conn, project_id, sessions, deltas, staged)
    staged.forgotten.append((project_id, visitor.visitor_id, visitor.visitor_no))
    await conn.execute(
        "INSERT INTO audit_logs (project_id, id, action, actor_type, actor_id, object_type, object_id, details) "
        "VALUES ($1, $2, 'dsar.delete', $3, $4, 'visitor', $5, $6::jsonb)",
        project_id, uuid.uuid4(), request.actor_type, UUID(request.actor_id) if request.actor_id else None,
        visitor.visitor_id, json.dumps({"request_id": request.request_id, "deleted": counts}))
    return counts


async def _timezone(conn: asyncpg.Connection, project_id: UUID) -> str:
    return await conn.fetchval("SELECT timezone FROM projects WHERE id = $1", project_id) or "UTC"


def contribution(tz: str, visitor_no: int, sessions: list, pages: list, events: list) -> Deltas:
    """What the visitor's sessions, pageviews and events added to the rollups, rebuilt the way the
    writer adds it (pulse.ingest.storage)."""
    deltas = Deltas(tz=tz)
    by_id = {s.id: s for s in sessions}
    for session in sessions:
        deltas.session(session, +1)
    in_session: dict[UUID, list] = defaultdict(list)
    for page in sorted(pages, key=lambda p: p["ts"]):
        session = by_id.get(page["session_id"])
        if session is None:
            continue
        deltas.pageview(page["ts"], visitor_no, page["path"], page["hostname"], session)
        previous = in_session[session.id]
        if previous:
            prev_ts, prev_path = previous[-1]
            deltas.page_time(PageTime(prev_ts, prev_path, int((page["ts"] - prev_ts).total_seconds())), session)
        previous.append((page["ts"], page["path"]))
    for event in events:
        session = by_id.get(event["session_id"])
        if session is not None:
            deltas.event(event["ts"], visitor_no, event["name"], session)
    return deltas
