"""Rollup rows with filters applied, for reports with filters; computed from the raw tables here.

Daily rollups cannot answer "pages, for visitors from Germany": a filter crosses dimensions.
This reader computes the very rows the rollups hold (day, value, counters, visitor bitmap) from
`pageviews`, `sessions` and `events`, with the filters applied, so every report works the same
with or without them. Semantics: a pageview passes when it and its session match; a session
(for sessions, bounces, duration) when it and one of its pageviews match; an event when its
session matches. Filters on `event` keep sessions in which such an event happened.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from itertools import count

from pyroaring import BitMap
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from pulse.auth import ProjectAccess
from pulse.ingest.rollups import ORIGIN
from pulse.query.dates import DayRange, zone_name
from pulse.query.filters import EVENT_DIMENSIONS, PAGE_DIMENSIONS, SEGMENT, Filter
from pulse.query.rollups import Reader, Row

SESSION_ONLY = ("entry_path", "exit_path")
# Which raw table holds each counter of a report dimension's rows ("" is the whole site).
FROM_PAGEVIEWS = ("", "path", "hostname", *ORIGIN)
FROM_SESSIONS = ("", *ORIGIN, *SESSION_ONLY)
FROM_EVENTS = ("", "event")


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


# A saved segment's visitor numbers over some days (pulse.reports resolves them, once per request).
Segments = Callable[[str, DayRange], Awaitable[BitMap]]


class _Visitors:
    """The segment filters of a report: conditions on a raw row's `visitor_no`."""

    def __init__(self, chosen: list[tuple[str, BitMap]]) -> None:
        self.chosen = chosen

    @classmethod
    async def of(cls, filters: list[Filter], segments: Segments | None, days: DayRange) -> _Visitors:
        wanted = [f for f in filters if f.dimension == SEGMENT]
        if wanted and segments is None:
            raise ValueError("segment filters need a segment resolver")
        return cls([(f.operator, await segments(f.value, days)) for f in wanted])

    def conditions(self, sql: _Sql, alias: str) -> list[str]:
        return [f"{'' if op == 'is' else 'NOT '}{alias}.visitor_no = ANY({sql.bind(list(members))})"
                for op, members in self.chosen]


def _without_segments(filters: list[Filter]) -> list[Filter]:
    return [f for f in filters if f.dimension != SEGMENT]


async def check_patterns(session: AsyncSession, filters: list[Filter]) -> None:
    """Compile every `matches` pattern in PostgreSQL before a report uses it: Python's `re`
    (which validated it) accepts some PostgreSQL refuses (`a{256}`, `(?P<x>a)`), and PostgreSQL
    would only notice once a row reached the pattern. The refusal becomes a 400 (pulse.db)."""
    patterns = [f.value for f in filters if f.operator == "matches"]
    if patterns:
        await session.execute(text("SELECT count('' ~ p) FROM unnest(CAST(:patterns AS text[])) AS p"),
                              {"patterns": patterns})


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


def _grouped(values: list[str]) -> tuple[str, str]:
    """Columns v0..vn and the GROUPING SETS that group the day by each of them: one scan of
    the rows answers every dimension asked (the dimension of a result row is the one column
    its GROUPING() bitmask leaves grouped)."""
    columns = ", ".join(f"{value} AS v{i}" for i, value in enumerate(values))
    names = [f"v{i}" for i in range(len(values))]
    sets = ", ".join(f"(1, {name})" for name in names)
    return columns, (f"{', '.join(names)}, GROUPING({', '.join(names)}) AS g", f"GROUPING SETS ({sets})")


def _grouped_rows(records, dimensions: list[str]):
    """(dimension, record, value) for each result row of a _grouped() statement."""
    last = len(dimensions) - 1
    for r in records:
        for i, dimension in enumerate(dimensions):
            if not (r.g >> (last - i)) & 1:
                value = r[i + 1]  # after `day`
                if value is not None:
                    yield dimension, r, value
                break


async def compute_many(session: AsyncSession, project: ProjectAccess, filters: list[Filter],
                       dimensions: list[str], days: DayRange, segments: Segments | None = None
                       ) -> dict[str, list[Row]]:
    """The rollup rows of several dimensions over the same days, with `filters` applied. Segment
    filters keep the rows of the segment's visitors over these days (`segments` gives them). From
    the session rollups where they answer (pulse.query.sessionsets), else from the raw rows."""
    from pulse.query import sessionsets

    await check_patterns(session, filters)
    answered = await sessionsets.compute_many(session, project, filters, dimensions, days, segments)
    if answered is not None:
        return answered
    return await from_raw_rows(session, project, filters, dimensions, days, segments)


async def from_raw_rows(session: AsyncSession, project: ProjectAccess, filters: list[Filter],
                        dimensions: list[str], days: DayRange, segments: Segments | None = None
                        ) -> dict[str, list[Row]]:
    """compute_many from the raw tables: one statement per raw table, however many dimensions."""
    await check_patterns(session, filters)
    visitors = await _Visitors.of(filters, segments, days)
    filters = _without_segments(filters)
    start, end = days.bounds(project.timezone)
    base = {"p": project.project_id, "start": start, "end": end, "after": end + timedelta(days=1),
            "tz": zone_name(project.timezone)}
    rows: dict[str, dict[tuple, Row]] = {dimension: {} for dimension in dimensions}

    async def run(statement: str, sql: _Sql, asked: list[str]) -> list[tuple[str, Row, object]]:
        """(dimension, the Row to add to, result row) for each result row of a _grouped() statement."""
        found = []
        records = await session.execute(text(statement), {**base, **sql.params})
        for dimension, r, value in _grouped_rows(records, asked):
            target = rows[dimension].get((r.day, value))
            if target is None:
                target = rows[dimension][(r.day, value)] = Row(r.day, value, 0, 0, 0, 0, 0, 0, 0, BitMap())
            found.append((dimension, target, r))
        return found

    asked = [d for d in dimensions if d in FROM_PAGEVIEWS]
    if asked:
        sql = _Sql()
        page_filters = [f for f in filters if f.dimension in PAGE_DIMENSIONS]
        session_conditions = _session_filters(sql, [f for f in filters if f.dimension not in PAGE_DIMENSIONS], "s")
        # A page's time is the gap to the session's next pageview, credited to the page's day as the
        # rollups do: that next pageview may lie past the range (`after`: a day later).
        timed = "path" in asked
        # The session row only when a filter or a reported value needs it: joining millions of
        # pageviews to their sessions is most of a filtered report's cost.
        needs_session = session_conditions or any(d in ORIGIN for d in asked)
        join = _session_join("p", session_conditions) if needs_session else ""
        next_ts = "lead(p.ts) OVER (PARTITION BY p.session_id ORDER BY p.ts)" if timed else "NULL::timestamptz"
        columns, (picked, sets) = _grouped([_value(d, "p", "s") for d in asked])
        statement = (
            f"SELECT (pv.ts AT TIME ZONE :tz)::date AS day, {picked}, count(*) AS pageviews, "
            "array_agg(DISTINCT pv.visitor_no) AS visitors, "
            "coalesce(sum(floor(extract(epoch FROM pv.next_ts - pv.ts))), 0)::bigint AS time_on_page, "
            "count(pv.next_ts) AS time_on_page_views "
            f"FROM (SELECT p.ts, p.visitor_no, p.path, p.hostname, {columns}, {next_ts} AS next_ts "
            f"FROM pageviews p{join} WHERE p.project_id = :p AND p.ts >= :start "
            f"AND p.ts < {':after' if timed else ':end'}"
            f"{_and(visitors.conditions(sql, 'p'))}) pv "
            f"WHERE pv.ts < :end{_and([sql.condition('pv.' + f.dimension, f) for f in page_filters])} "
            f"GROUP BY {sets}")
        for dimension, target, r in await run(statement, sql, asked):
            target.pageviews += r.pageviews
            target.visitors.update(r.visitors)
            if dimension == "path":  # time on page is kept for pages only, as in the rollups
                target.time_on_page += r.time_on_page
                target.time_on_page_views += r.time_on_page_views

    asked = [d for d in dimensions if d in FROM_SESSIONS]
    if asked:
        sql = _Sql()
        columns, (picked, sets) = _grouped([_value(d, "s", "s") for d in asked])
        statement = (
            f"SELECT s.day, {picked}, count(*) AS sessions, sum(s.is_bounce::int) AS bounces, "
            f"sum(s.duration) AS duration FROM (SELECT (s.started_at AT TIME ZONE :tz)::date AS day, "
            f"s.is_bounce, s.duration, {columns} FROM sessions s WHERE s.project_id = :p "
            "AND s.started_at >= :start AND s.started_at < :end "
            f"AND s.pageviews > 0{_and(_session_filters(sql, filters, 's', started=True))}"
            f"{_and(visitors.conditions(sql, 's'))}) s GROUP BY {sets}")
        for _, target, r in await run(statement, sql, asked):
            target.sessions += r.sessions
            target.bounces += r.bounces
            target.duration += r.duration

    asked = [d for d in dimensions if d in FROM_EVENTS]
    if asked:
        sql = _Sql()
        event_conditions = [sql.condition("e.name", f) for f in filters if f.dimension in EVENT_DIMENSIONS]
        event_conditions += visitors.conditions(sql, "e")
        other = [f for f in filters if f.dimension not in EVENT_DIMENSIONS]
        join = _session_join("e", _session_filters(sql, other, "s")) if other else ""
        columns, (picked, sets) = _grouped(["''" if d == "" else "e.name" for d in asked])
        statement = (
            f"SELECT e.day, {picked}, count(*) AS events, array_agg(DISTINCT e.visitor_no) AS visitors "
            f"FROM (SELECT (e.ts AT TIME ZONE :tz)::date AS day, e.visitor_no, {columns} FROM events e{join} "
            f"WHERE e.project_id = :p AND e.ts >= :start AND e.ts < :end{_and(event_conditions)}) e "
            f"GROUP BY {sets}")
        for _, target, r in await run(statement, sql, asked):
            target.events += r.events
            target.visitors.update(r.visitors)

    return {dimension: [r for r in found.values() if days.first <= r.day <= days.last]
            for dimension, found in rows.items()}


async def compute(session: AsyncSession, project: ProjectAccess, filters: list[Filter], dimension: str,
                  days: DayRange, segments: Segments | None = None) -> list[Row]:
    return (await compute_many(session, project, filters, [dimension], days, segments))[dimension]


def filtered_reader(session: AsyncSession, project: ProjectAccess, filters: list[Filter],
                    segments: Segments | None = None) -> Reader:
    async def read(dimension: str, days: DayRange) -> list[Row]:
        return await compute(session, project, filters, dimension, days, segments)

    return read


async def hourly(session: AsyncSession, project: ProjectAccess, filters: list[Filter], days: DayRange,
                 segments: Segments | None = None) -> list[tuple[str, int, int, int]]:
    """(local hour, pageviews, visitors, sessions) for every hour of the range, empty ones too."""
    await check_patterns(session, filters)
    visitors = await _Visitors.of(filters, segments, days)
    filters = _without_segments(filters)
    start, end = days.bounds(project.timezone)
    sql = _Sql()
    page_conditions = [sql.condition(f"p.{f.dimension}", f) for f in filters if f.dimension in PAGE_DIMENSIONS]
    page_conditions += visitors.conditions(sql, "p")
    session_conditions = _session_filters(sql, [f for f in filters if f.dimension not in PAGE_DIMENSIONS], "s")
    join = _session_join("p", session_conditions) if session_conditions else ""
    statement = (
        "SELECT to_char(date_trunc('hour', p.ts AT TIME ZONE :tz), 'YYYY-MM-DD\"T\"HH24:00') AS hour, "
        "count(*) AS pageviews, count(DISTINCT p.visitor_no) AS visitors, count(DISTINCT p.session_id) AS sessions "
        f"FROM pageviews p{join} "
        f"WHERE p.project_id = :p AND p.ts >= :start AND p.ts < :end{_and(page_conditions)} GROUP BY 1")
    params = {"p": project.project_id, "start": start, "end": end, "tz": zone_name(project.timezone), **sql.params}
    found = {r.hour: (r.pageviews, r.visitors, r.sessions) for r in await session.execute(text(statement), params)}
    hours = [f"{day.isoformat()}T{h:02d}:00" for day in days.each() for h in range(24)]
    return [(h, *found.get(h, (0, 0, 0))) for h in hours]
