"""Filtered rollup rows from session rollups (pulse.ingest.sessionsets): sets, not scans.

A filter becomes the set of sessions it keeps, read from the session rollups of its dimension
(the union of the rows whose value passes, in PostgreSQL's own comparison); a report's rows are
then the stored rows' counters summed over the intersection of those sets, and their visitors the
visitor numbers of the sessions left (a packed session -> visitor map). The semantics are
pulse.query.raw's, which stays the reference and the fallback:
- a pageview passes when it passes the page filters (path, hostname) and its session the others;
- a session (sessions, bounces, duration) when it passes every filter, a page or event filter
  meaning "one of its pageviews / events passes";
- an event when it passes the event filters and its session the others.
Session-level sets are read over the range and a day either side, so sessions that cross
midnight at its ends keep their pageviews and events.

`compute_many` returns None where it cannot answer exactly, and the caller reads the raw rows:
days before the project's session rollups began (`session_rollups_since`), a filter on a
dimension the rollups do not keep (referrer), or a page filter that would have to cut a page row
by another page dimension (pages by hostname, say: a session may view a path on two hosts).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

import numpy as np
from pyroaring import BitMap
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from pulse.auth import ProjectAccess
from pulse.ingest.rollups import ORIGIN
from pulse.ingest.sessionsets import CHUNK, SessionValues
from pulse.lru import LRU
from pulse.query.dates import DayRange
from pulse.query.filters import EVENT_DIMENSIONS, PAGE_DIMENSIONS, SEGMENT, Filter
from pulse.query.raw import FROM_EVENTS, FROM_PAGEVIEWS, FROM_SESSIONS, SESSION_ONLY, Segments, _Sql
from pulse.query.rollups import Row

SESSION_DIMENSIONS = (*ORIGIN, *SESSION_ONLY)
REPORTED = ("", "path", "hostname", "event", *SESSION_DIMENSIONS)
# The counters each report dimension's rows keep (pulse.ingest.rollups.Deltas).
_COUNTERS = {"": ("pageviews", "sessions", "bounces", "duration", "events"),
             "path": ("pageviews", "time_on_page", "time_on_page_views"), "hostname": ("pageviews",),
             "event": ("events",), **{d: ("pageviews", "sessions") for d in ORIGIN},
             **{d: ("sessions",) for d in SESSION_ONLY}}

_FULL_CHUNKS: LRU = LRU(4096)  # (project, chunk) -> packed visitors of a full chunk (never changes again)


def answerable(filters: list[Filter], dimensions: list[str]) -> bool:
    if any(d not in REPORTED for d in dimensions):
        return False
    if any(f.dimension not in (*SESSION_DIMENSIONS, *PAGE_DIMENSIONS, *EVENT_DIMENSIONS, SEGMENT) for f in filters):
        return False
    page = {f.dimension for f in filters if f.dimension in PAGE_DIMENSIONS}
    # A page row can be cut by its own dimension only; other pageview rows by one page dimension.
    return not page or (len(page) == 1 and not any(d in PAGE_DIMENSIONS and d not in page for d in dimensions))


class _Loaded:
    """Session rollup rows: (day, value) -> counter -> SessionValues, and whether the value passed."""

    def __init__(self) -> None:
        self.rows: dict[tuple, dict[str, SessionValues]] = {}
        self.passed: dict[tuple, bool] = {}

    def values(self, counter: str) -> Iterable[SessionValues]:
        return (r[counter] for r in self.rows.values() if counter in r)

    def union(self, *counters: str) -> BitMap:
        return BitMap.union(BitMap(), *(v.members for c in counters for v in self.values(c)))


class _Reader:
    def __init__(self, session: AsyncSession, project: ProjectAccess) -> None:
        self.session = session
        self.project = project
        self.visitor_map: np.ndarray | None = None
        self.map_base = 0

    async def rows(self, dimension: str, first, last, counters: Iterable[str], sql: _Sql | None = None,
                   passes: str = "true", only_passing: bool = False) -> _Loaded:
        """The session rollup rows of one dimension over [first, last]; `passes` is a condition on
        `value` (with `sql`'s parameters), kept per row or, `only_passing`, required."""
        sql = sql or _Sql()
        where = f" AND ({passes})" if only_passing else ""
        found = await self.session.execute(text(
            f"SELECT day, value, counter, bitmaps, ({passes}) AS passed FROM session_rollups "
            "WHERE project_id = :p AND dimension = :dimension AND day >= :first AND day <= :last "
            f"AND counter = ANY(:counters){where}"),
            {"p": self.project.project_id, "dimension": dimension, "first": first, "last": last,
             "counters": list(counters), **sql.params})
        loaded = _Loaded()
        for r in found:
            loaded.rows.setdefault((r.day, r.value), {})[r.counter] = SessionValues.load(r.bitmaps)
            loaded.passed[(r.day, r.value)] = bool(r.passed)
        return loaded

    async def ensure_map(self, sessions: BitMap) -> None:
        """Load the session -> visitor map over the numbers of `sessions`."""
        if not sessions:
            return
        lo, hi = sessions.min() // CHUNK, sessions.max() // CHUNK
        if self.visitor_map is not None and self.map_base <= lo * CHUNK and \
                hi * CHUNK + CHUNK <= self.map_base + len(self.visitor_map):
            return
        if self.visitor_map is not None:  # grow to cover both
            lo, hi = min(lo, self.map_base // CHUNK), max(hi, (self.map_base + len(self.visitor_map)) // CHUNK - 1)
        project_id = self.project.project_id
        packed = {c: _FULL_CHUNKS.get((project_id, c)) for c in range(lo, hi + 1)}
        missing = [c for c, v in packed.items() if v is None]
        if missing:
            found = await self.session.execute(text(
                "SELECT chunk, visitors FROM session_visitors WHERE project_id = :p AND chunk = ANY(:chunks)"),
                {"p": project_id, "chunks": missing})
            for chunk, visitors in found:
                packed[chunk] = visitors
                if len(visitors) == CHUNK * 4:
                    _FULL_CHUNKS.put((project_id, chunk), visitors)
        joined = b"".join((packed[c] or b"").ljust(CHUNK * 4, b"\0") for c in range(lo, hi + 1))
        self.visitor_map = np.frombuffer(joined, dtype=">u4").astype(np.uint32)
        self.map_base = lo * CHUNK

    def sessions_array(self, sessions: BitMap) -> np.ndarray:
        return np.frombuffer(sessions.to_array(), dtype=np.uint32)

    def visitors_of(self, sessions: BitMap) -> BitMap:
        if not sessions:
            return BitMap()
        numbers = np.unique(self.visitor_map[self.sessions_array(sessions) - self.map_base])
        found = BitMap(numbers)
        found.discard(0)  # a forgotten visitor's sessions map to 0
        return found

    def sessions_of(self, visitors: BitMap, among: BitMap) -> BitMap:
        """The sessions in `among` whose visitor is in `visitors`."""
        if not among or not visitors:
            return BitMap()
        sessions = self.sessions_array(among)
        wanted = np.frombuffer(visitors.to_array(), dtype=np.uint32)
        return BitMap(sessions[np.isin(self.visitor_map[sessions - self.map_base], wanted)])


def _intersect(sets: list[BitMap]) -> BitMap | None:
    """None: no restriction."""
    if not sets:
        return None
    return BitMap.intersection(*sets) if len(sets) > 1 else sets[0]


def _within(restriction: BitMap | None, members: BitMap) -> BitMap:
    return members & restriction if restriction is not None else members


async def since(session: AsyncSession, project: ProjectAccess):
    return (await session.execute(text("SELECT since FROM session_rollups_since WHERE project_id = :p"),
                                  {"p": project.project_id})).scalar()


async def compute_many(session: AsyncSession, project: ProjectAccess, filters: list[Filter],
                       dimensions: list[str], days: DayRange, segments: Segments | None = None
                       ) -> dict[str, list[Row]] | None:
    """pulse.query.raw.compute_many's rows from the session rollups, or None (see the docstring)."""
    if not answerable(filters, dimensions):
        return None
    first, last = days.first - timedelta(days=1), days.last + timedelta(days=1)  # the session window
    covered_from = await since(session, project)
    if covered_from is not None and first < covered_from:
        return None
    reader = _Reader(session, project)

    # Each filter's sessions over the window (session level), and the passing page and event rows.
    kept: dict[Filter, BitMap] = {}
    universe: BitMap | None = None

    async def everyone() -> BitMap:
        nonlocal universe
        if universe is None:
            universe = (await reader.rows("", first, last, ("pageviews", "sessions", "events"))).union(
                "pageviews", "sessions", "events")
        return universe

    # Row level: the (day, value) rows of the range each page (event) filter passes, by filter.
    row_level: dict[Filter, dict[tuple, SessionValues]] = {}
    for f in filters:
        if f.dimension == SEGMENT:
            continue
        sql = _Sql()
        negated = f.operator == "is_not" and f.dimension in SESSION_DIMENSIONS
        condition = sql.condition("value", Filter(f.dimension, "is", f.value) if negated else f)
        counter = {"path": "pageviews", "hostname": "pageviews", "event": "events"}.get(f.dimension)
        counters = (counter,) if counter else _COUNTERS[f.dimension]
        loaded = await reader.rows(f.dimension, first, last, counters, sql, condition, only_passing=True)
        found = loaded.union(*counters)
        kept[f] = await everyone() - found if negated else found
        if counter:
            row_level[f] = {key: row[counter] for key, row in loaded.rows.items()
                            if days.first <= key[0] <= days.last}
    segment_filters = [f for f in filters if f.dimension == SEGMENT]
    if segment_filters:
        among = await everyone()
        await reader.ensure_map(among)
        for f in segment_filters:
            members = reader.sessions_of(await segments(f.value, days), among)
            kept[f] = members if f.operator == "is" else among - members

    def restriction(skip: tuple[str, ...]) -> BitMap | None:
        return _intersect([s for f, s in kept.items() if f.dimension not in skip])

    pageview_sessions = restriction(PAGE_DIMENSIONS)
    session_sessions = restriction(())
    event_sessions = restriction(EVENT_DIMENSIONS)
    page_filters = [f for f in filters if f.dimension in PAGE_DIMENSIONS]
    event_filters = [f for f in filters if f.dimension in EVENT_DIMENSIONS]

    def passing(wanted: list[Filter]) -> dict:
        """day -> the rows every filter of `wanted` passes (all on one dimension)."""
        by_day: dict = {}
        if wanted:
            for key in set.intersection(*(set(row_level[f]) for f in wanted)):
                by_day.setdefault(key[0], []).append(row_level[wanted[0]][key])
        return by_day

    page_rows, event_rows = passing(page_filters), passing(event_filters)

    site = await reader.rows("", days.first, days.last, _COUNTERS[""])
    site_of = {day: counters for (day, _), counters in site.rows.items()}
    result: dict[str, list[Row]] = {}
    pending: list[tuple[Row, list[BitMap]]] = []
    for dimension in dimensions:
        if dimension == "":
            loaded = site
        else:
            sql = _Sql()
            own = [f for f in (*page_filters, *event_filters) if f.dimension == dimension]
            passes = " AND ".join(sql.condition("value", f) for f in own) or "true"
            loaded = await reader.rows(dimension, days.first, days.last, _COUNTERS[dimension], sql, passes)
        rows = []
        for (day, value), stored in loaded.rows.items():
            base = site_of.get(day, {})
            row = Row(day, value, 0, 0, 0, 0, 0, 0, 0, BitMap())
            seen: list[BitMap] = []
            passed = loaded.passed[(day, value)]
            if dimension in FROM_PAGEVIEWS and "pageviews" in stored:
                if dimension in PAGE_DIMENSIONS:
                    if passed:
                        counts = stored["pageviews"]
                        row.pageviews = counts.total(pageview_sessions)
                        seen.append(_within(pageview_sessions, counts.members))
                        if dimension == "path":
                            for name in ("time_on_page", "time_on_page_views"):
                                if name in stored:
                                    setattr(row, name, stored[name].total(pageview_sessions))
                else:
                    members = stored["pageviews"].members if dimension else None
                    within = _intersect([s for s in (members, pageview_sessions) if s is not None])
                    if page_filters:
                        pages = page_rows.get(day, [])
                        row.pageviews = sum(p.total(within) for p in pages)
                        seen.append(_within(within, BitMap.union(BitMap(), *(p.members for p in pages))))
                    elif "pageviews" in base:
                        row.pageviews = base["pageviews"].total(within)
                        seen.append(_within(within, base["pageviews"].members))
            if dimension in FROM_SESSIONS and "sessions" in stored:
                begun = _within(session_sessions, stored["sessions"].members)
                row.sessions = len(begun)
                if begun and "bounces" in base:
                    row.bounces = base["bounces"].members.intersection_cardinality(begun)
                if begun and "duration" in base:
                    row.duration = base["duration"].total(begun)
            if dimension in FROM_EVENTS and "events" in stored:
                if dimension == "event":
                    if passed:
                        row.events = stored["events"].total(event_sessions)
                        seen.append(_within(event_sessions, stored["events"].members))
                elif event_filters:
                    events = event_rows.get(day, [])
                    row.events = sum(e.total(event_sessions) for e in events)
                    seen.append(_within(event_sessions, BitMap.union(BitMap(), *(e.members for e in events))))
                else:
                    row.events = stored["events"].total(event_sessions)
                    seen.append(_within(event_sessions, stored["events"].members))
            seen = [s for s in seen if s]
            if seen or row.sessions or row.pageviews or row.events:
                rows.append(row)
                pending.append((row, seen))
        result[dimension] = rows
    await reader.ensure_map(BitMap.union(BitMap(), *(s for _, seen in pending for s in seen)))
    for row, seen in pending:
        row.packed = reader.visitors_of(BitMap.union(*seen) if len(seen) > 1 else seen[0]) if seen else BitMap()
    return result
