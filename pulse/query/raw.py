"""Rollup rows computed from the raw tables, for reports with filters.

Daily rollups cannot answer "pages, for visitors from Germany": a filter crosses dimensions.
This reader computes the very rows the rollups hold (day, value, counters, visitor bitmap) from
`pageviews`, `sessions` and `events`, with the filters applied, so every report works the same
with or without them. Semantics: a pageview passes when it and its session match; a session
(for sessions, bounces, duration) when it and one of its pageviews match; an event when its
session matches. Filters on `event` keep sessions in which such an event happened.
"""

from __future__ import annotations

from itertools import count

from pyroaring import BitMap
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from pulse.auth import ProjectAccess
from pulse.ingest.rollups import ORIGIN
from pulse.query.dates import DayRange
from pulse.query.filters import EVENT_DIMENSIONS, PAGE_DIMENSIONS, Filter
from pulse.query.rollups import Reader, Row

SESSION_ONLY = ("entry_path", "exit_path")


class _Sql:
    """Conditions with their own bound parameters."""

    def __init__(self) -> None:
        self.params: dict[str, object] = {}
        self._names = count()

    def bind(self, value: object) -> str:
        name = f"v{next(self._names)}"
        self.params[name] = value
        return f":{name}"

    def condition(self, column: str, f: Filter) -> str:
        value = f.value
        if f.dimension == "source":
            column = f"coalesce({column}, '')"
            value = "" if value == "(direct)" else value
        if f.operator == "is":
            return f"{column} = {self.bind(value)}"
        if f.operator == "is_not":
            return f"{column} IS DISTINCT FROM {self.bind(value)}"
        if f.operator == "contains":
            escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            return f"{column} ILIKE {self.bind('%' + escaped + '%')} ESCAPE '\\'"
        return f"{column} ~ {self.bind(value)}"


def _session_filters(sql: _Sql, filters: list[Filter], session: str, *, started: bool = False) -> list[str]:
    """Conditions on a session row (aliased `session`), including those reached through it.
    `started`: the sessions all began in the range, so their pageviews and events cannot be
    older than its start (which prunes older partitions from the lookups)."""
    since = " AND {alias}.ts >= :start" if started else ""
    conditions = []
    for f in filters:
        if f.dimension in PAGE_DIMENSIONS:
            conditions.append(
                f"EXISTS (SELECT 1 FROM pageviews fp WHERE fp.project_id = :p AND fp.session_id = {session}.id"
                f"{since.format(alias='fp')} AND {sql.condition('fp.' + f.dimension, f)})")
        elif f.dimension in EVENT_DIMENSIONS:
            conditions.append(
                f"EXISTS (SELECT 1 FROM events fe WHERE fe.project_id = :p AND fe.session_id = {session}.id"
                f"{since.format(alias='fe')} AND {sql.condition('fe.name', f)})")
        else:
            conditions.append(sql.condition(f"{session}.{f.dimension}", f))
    return conditions


def _session_join(activity: str, conditions: list[str]) -> str:
    """Join the sessions of `activity` rows (pageviews or events of the range). The bounds are
    implied (such a session began before the range ended and ended after it began) but they
    keep the planner from probing the index once per session of all time."""
    return (f" JOIN sessions s ON s.project_id = :p AND s.id = {activity}.session_id AND s.started_at < :end "
            f"AND s.ended_at >= :start{_and(conditions)}")


def _value(dimension: str, page: str, session: str) -> str:
    if dimension == "":
        return "''"
    if dimension in PAGE_DIMENSIONS:
        return f"{page}.{dimension}"
    if dimension == "source":
        return f"coalesce({session}.source, '')"
    return f"{session}.{dimension}"


def _and(conditions: list[str]) -> str:
    return "".join(f" AND {c}" for c in conditions)


async def compute(session: AsyncSession, project: ProjectAccess, filters: list[Filter], dimension: str,
                  days: DayRange) -> list[Row]:
    start, end = days.bounds(project.timezone)
    base = {"p": project.project_id, "start": start, "end": end, "tz": project.timezone}
    rows: dict[tuple, Row] = {}

    def row(day, value) -> Row:
        key = (day, value)
        if key not in rows:
            rows[key] = Row(day, value, 0, 0, 0, 0, 0, 0, 0, BitMap())
        return rows[key]

    if dimension in ("", "path", "hostname", *ORIGIN):
        sql = _Sql()
        page_filters = [f for f in filters if f.dimension in PAGE_DIMENSIONS]
        session_conditions = _session_filters(sql, [f for f in filters if f.dimension not in PAGE_DIMENSIONS], "s")
        timed = dimension == "path"  # a page's time is the gap to the session's next pageview
        # The session row only when a filter or the reported value needs it: joining millions of
        # pageviews to their sessions is most of a filtered report's cost.
        join = _session_join("p", session_conditions) if session_conditions or dimension in ORIGIN else ""
        next_ts = "lead(p.ts) OVER (PARTITION BY p.session_id ORDER BY p.ts)" if timed else "NULL::timestamptz"
        statement = (
            f"SELECT (pv.ts AT TIME ZONE :tz)::date AS day, pv.value, count(*) AS pageviews, "
            "array_agg(DISTINCT pv.visitor_no) AS visitors, "
            "coalesce(sum(floor(extract(epoch FROM pv.next_ts - pv.ts))), 0)::bigint AS time_on_page, "
            "count(pv.next_ts) AS time_on_page_views "
            f"FROM (SELECT p.ts, p.visitor_no, p.path, p.hostname, {_value(dimension, 'p', 's')} AS value, "
            f"{next_ts} AS next_ts FROM pageviews p{join} "
            "WHERE p.project_id = :p AND p.ts >= :start AND p.ts < :end) pv "
            f"WHERE true{_and([sql.condition('pv.' + f.dimension, f) for f in page_filters])} GROUP BY 1, 2")
        for r in await session.execute(text(statement), {**base, **sql.params}):
            if r.value is None:
                continue
            target = row(r.day, r.value)
            target.pageviews += r.pageviews
            target.time_on_page += r.time_on_page
            target.time_on_page_views += r.time_on_page_views
            target.visitors.update(r.visitors)

    if dimension in ("", *ORIGIN, *SESSION_ONLY):
        sql = _Sql()
        statement = (
            f"SELECT (s.started_at AT TIME ZONE :tz)::date AS day, {_value(dimension, 's', 's')} AS value, "
            "count(*) AS sessions, sum(s.is_bounce::int) AS bounces, sum(s.duration) AS duration "
            "FROM sessions s WHERE s.project_id = :p AND s.started_at >= :start AND s.started_at < :end "
            f"AND s.pageviews > 0{_and(_session_filters(sql, filters, 's', started=True))} GROUP BY 1, 2")
        for r in await session.execute(text(statement), {**base, **sql.params}):
            if r.value is None:
                continue
            target = row(r.day, r.value)
            target.sessions += r.sessions
            target.bounces += r.bounces
            target.duration += r.duration

    if dimension in ("", "event"):
        sql = _Sql()
        event_conditions = [sql.condition("e.name", f) for f in filters if f.dimension in EVENT_DIMENSIONS]
        other = [f for f in filters if f.dimension not in EVENT_DIMENSIONS]
        join = _session_join("e", _session_filters(sql, other, "s")) if other else ""
        value = "''" if dimension == "" else "e.name"
        statement = (
            f"SELECT (e.ts AT TIME ZONE :tz)::date AS day, {value} AS value, count(*) AS events, "
            f"array_agg(DISTINCT e.visitor_no) AS visitors FROM events e{join} "
            f"WHERE e.project_id = :p AND e.ts >= :start AND e.ts < :end{_and(event_conditions)} GROUP BY 1, 2")
        for r in await session.execute(text(statement), {**base, **sql.params}):
            target = row(r.day, r.value)
            target.events += r.events
            target.visitors.update(r.visitors)

    return [r for r in rows.values() if days.first <= r.day <= days.last]


def filtered_reader(session: AsyncSession, project: ProjectAccess, filters: list[Filter]) -> Reader:
    async def read(dimension: str, days: DayRange) -> list[Row]:
        return await compute(session, project, filters, dimension, days)

    return read


async def hourly(session: AsyncSession, project: ProjectAccess, filters: list[Filter], days: DayRange
                 ) -> list[tuple[str, int, int, int]]:
    """(local hour, pageviews, visitors, sessions) for every hour of the range, empty ones too."""
    start, end = days.bounds(project.timezone)
    sql = _Sql()
    page_conditions = [sql.condition(f"p.{f.dimension}", f) for f in filters if f.dimension in PAGE_DIMENSIONS]
    session_conditions = _session_filters(sql, [f for f in filters if f.dimension not in PAGE_DIMENSIONS], "s")
    join = _session_join("p", session_conditions) if session_conditions else ""
    statement = (
        "SELECT to_char(date_trunc('hour', p.ts AT TIME ZONE :tz), 'YYYY-MM-DD\"T\"HH24:00') AS hour, "
        "count(*) AS pageviews, count(DISTINCT p.visitor_no) AS visitors, count(DISTINCT p.session_id) AS sessions "
        f"FROM pageviews p{join} "
        f"WHERE p.project_id = :p AND p.ts >= :start AND p.ts < :end{_and(page_conditions)} GROUP BY 1")
    found = {r.hour: (r.pageviews, r.visitors, r.sessions) for r in await session.execute(
        text(statement), {"p": project.project_id, "start": start, "end": end, "tz": project.timezone, **sql.params})}
    hours = [f"{day.isoformat()}T{h:02d}:00" for day in days.each() for h in range(24)]
    return [(h, *found.get(h, (0, 0, 0))) for h in hours]
