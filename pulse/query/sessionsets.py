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

Rows are read a day at a time and kept in a per-process cache while the table's version of the
day is unchanged (`_Reader.rows`); docs/filtered-reports.md has the design and its measurements.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from datetime import timedelta
from functools import partial

import numpy as np
from pyroaring import BitMap
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from pulse.auth import ProjectAccess
from pulse.config import get_settings
from pulse.ingest.rollups import ORIGIN
from pulse.ingest.sessionsets import CHUNK, SessionValues
from pulse.lru import LRU, WeighedLRU
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

_FULL_CHUNKS: LRU = LRU(4096)  # (project, chunk) -> packed visitors of a full chunk (never changes again): 64 MB
# (project, dimension, counters, value condition, its parameters, day) -> (the day's version, its rows)
_ROWS: WeighedLRU | None = None


def _cache() -> WeighedLRU:
    global _ROWS
    if _ROWS is None:
        _ROWS = WeighedLRU(get_settings().session_cache_mb << 20)
    return _ROWS


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

    def add(self, other: _Loaded) -> None:
        self.rows.update(other.rows)
        self.passed.update(other.passed)

    def union(self, *counters: str) -> BitMap:
        return BitMap.union(BitMap(), *(r[c].members for r in self.rows.values() for c in counters if c in r))


class _Reader:
    def __init__(self, session: AsyncSession, project: ProjectAccess) -> None:
        self.session = session
        self.project = project
        self.visitor_map: np.ndarray | None = None
        self.map_base = 0

    async def rows(self, dimension: str, first, last, counters: Iterable[str], sql: _Sql | None = None,
                   passes: str = "true", only_passing: bool = False) -> _Loaded:
        """The session rollup rows of one dimension over [first, last]; `passes` is a condition on
        `value` (with `sql`'s parameters), kept per row or, `only_passing`, required. A day's rows
        come from the process's cache while the table's version of them (their count, xmin and
        sizes) is the cached one: past days rarely change, so mostly only today's are read."""
        sql = sql or _Sql()
        counters = list(counters)
        where = (f"project_id = :p AND dimension = :dimension AND day >= :first AND day <= :last "
                 f"AND counter = ANY(:counters){f' AND ({passes})' if only_passing else ''}")
        params = {"p": self.project.project_id, "dimension": dimension, "first": first, "last": last,
                  "counters": counters, **sql.params}
        versions = await self.session.execute(text(
            "SELECT day, count(*) AS n, sum(xmin::text::bigint) AS x, sum(pg_column_size(bitmaps)) AS size "
            f"FROM session_rollups WHERE {where} GROUP BY day"), params)
        what = (self.project.project_id, dimension, tuple(counters), passes, only_passing,
                tuple(sorted(sql.params.items())))
        cache = _cache()
        loaded, stale = _Loaded(), []
        for day, n, x, size in versions:
            cached = cache.get((*what, day))
            if cached is not None and cached[0] == (n, x, size):
                loaded.add(cached[1])
            else:
                stale.append(day)
        if stale:
            found = await self.session.execute(text(
                f"SELECT day, value, counter, bitmaps, ({passes}) AS passed, xmin::text::bigint AS x, "
                f"pg_column_size(bitmaps) AS size FROM session_rollups WHERE {where} AND day = ANY(:stale)"),
                {**params, "stale": stale})
            days: dict = {}
            for r in found:
                day = days.setdefault(r.day, [_Loaded(), 0, 0, 0, 0])  # rows, count, xmin sum, size, bytes
                day[0].rows.setdefault((r.day, r.value), {})[r.counter] = SessionValues.load(r.bitmaps)
                day[0].passed[(r.day, r.value)] = bool(r.passed)
                day[1] += 1
                day[2] += r.x
                day[3] += r.size
                day[4] += sum(len(b) for b in r.bitmaps)
            for day, (group, n, x, size, weight) in days.items():
                loaded.add(group)
                cache.put((*what, day), ((n, x, size), group), weight)
        return loaded

    async def ensure_map(self, lowest: int, highest: int) -> None:
        """Load the session -> visitor map over session numbers [lowest, highest]."""
        lo, hi = lowest // CHUNK, highest // CHUNK
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

    def visitors_of(self, parts: list[tuple[BitMap, BitMap | None]]) -> BitMap:
        """The visitors of the sessions in the union of each (sessions & restriction)."""
        sessions = BitMap.union(BitMap(), *(a & b if b is not None else a for a, b in parts))
        if not sessions:
            return BitMap()
        numbers = np.sort(self.visitor_map[np.frombuffer(sessions.to_array(), dtype=np.uint32) - self.map_base])
        found = BitMap(array("I", numbers.tobytes()))  # sorted: pyroaring's fast path (duplicates are fine)
        found.discard(0)  # a forgotten visitor's sessions map to 0
        return found

    def sessions_of(self, visitors: BitMap, among: BitMap) -> BitMap:
        """The sessions in `among` whose visitor is in `visitors`."""
        if not among or not visitors:
            return BitMap()
        sessions = np.frombuffer(among.to_array(), dtype=np.uint32)
        wanted = np.frombuffer(visitors.to_array(), dtype=np.uint32)
        return BitMap(sessions[np.isin(self.visitor_map[sessions - self.map_base], wanted)])


class _Kept:
    """Stored per-session values (one or more rows' SessionValues) restricted once to the sessions a
    family of counters keeps, so each report row costs a few intersection counts with its own sessions."""

    __slots__ = ("members", "slices")

    def __init__(self, values: list[SessionValues], restriction: BitMap | None) -> None:
        members = BitMap.union(BitMap(), *(v.members for v in values))
        self.members = members & restriction if restriction is not None else members
        self.slices = [(k, bits & restriction if restriction is not None else bits)
                       for v in values for k, bits in enumerate(v.slices)]

    def total(self, within: BitMap | None = None) -> int:
        if within is None:
            return sum(len(bits) << k for k, bits in self.slices)
        return sum(bits.intersection_cardinality(within) << k for k, bits in self.slices)


def _intersect(sets: list[BitMap]) -> BitMap | None:
    """None: no restriction."""
    if not sets:
        return None
    return BitMap.intersection(*sets) if len(sets) > 1 else sets[0]


def _count(members: BitMap, restriction: BitMap | None) -> int:
    return members.intersection_cardinality(restriction) if restriction is not None else len(members)


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
    window = await reader.rows("", first, last, ("pageviews", "sessions", "events"))
    everyone = window.union("pageviews", "sessions", "events")
    if everyone:
        await reader.ensure_map(everyone.min(), everyone.max())

    # Session level: each filter's sessions over the window. Row level: the (day, value) rows of the
    # range each page (event) filter passes.
    kept: dict[Filter, BitMap] = {}
    row_level: dict[Filter, dict[tuple, SessionValues]] = {}
    for f in filters:
        if f.dimension == SEGMENT:
            members = reader.sessions_of(await segments(f.value, days), everyone)
            kept[f] = members if f.operator == "is" else everyone - members
            continue
        sql = _Sql()
        negated = f.operator == "is_not" and f.dimension in SESSION_DIMENSIONS
        condition = sql.condition("value", Filter(f.dimension, "is", f.value) if negated else f)
        counter = {"path": "pageviews", "hostname": "pageviews", "event": "events"}.get(f.dimension)
        counters = (counter,) if counter else _COUNTERS[f.dimension]
        loaded = await reader.rows(f.dimension, first, last, counters, sql, condition, only_passing=True)
        found = loaded.union(*counters)
        kept[f] = everyone - found if negated else found
        if counter:
            row_level[f] = {key: row[counter] for key, row in loaded.rows.items()
                            if days.first <= key[0] <= days.last}

    def restriction(skip: tuple[str, ...]) -> BitMap | None:
        return _intersect([s for f, s in kept.items() if f.dimension not in skip])

    def passing(dimensions_: tuple[str, ...]) -> dict | None:
        """day -> the rows every filter on these dimensions passes (None: no such filter)."""
        wanted = [f for f in filters if f.dimension in dimensions_]
        if not wanted:
            return None
        by_day: dict = {}
        for key in set.intersection(*(set(row_level[f]) for f in wanted)):
            by_day.setdefault(key[0], []).append(row_level[wanted[0]][key])
        return by_day

    pageview_sessions = restriction(PAGE_DIMENSIONS)
    session_sessions = restriction(())
    event_sessions = restriction(EVENT_DIMENSIONS)
    page_rows, event_rows = passing(PAGE_DIMENSIONS), passing(EVENT_DIMENSIONS)
    site = await reader.rows("", days.first, days.last, _COUNTERS[""])
    site_of = {day: counters for (day, _), counters in site.rows.items()}

    def stored(day, counter: str) -> list[SessionValues]:
        return [site_of[day][counter]] if counter in site_of.get(day, {}) else []

    # Per day, what each family counts, restricted once to its sessions: the passing page (event)
    # rows' values or the site row's; and the site row's bounces and durations of the sessions kept.
    pageviews = {d: _Kept(page_rows.get(d, []) if page_rows is not None else stored(d, "pageviews"),
                          pageview_sessions) for d in days.each()}
    events = {d: _Kept(event_rows.get(d, []) if event_rows is not None else stored(d, "events"), event_sessions)
              for d in days.each()}
    bounces = {d: _Kept(stored(d, "bounces"), session_sessions).members for d in days.each()}
    durations = {d: _Kept(stored(d, "duration"), session_sessions) for d in days.each()}

    result: dict[str, list[Row]] = {}
    for dimension in dimensions:
        if dimension == "":
            loaded = site
        else:
            sql = _Sql()
            own = [f for f in filters if f.dimension == dimension and f.dimension in (*PAGE_DIMENSIONS, "event")]
            passes = " AND ".join(sql.condition("value", f) for f in own) or "true"
            loaded = await reader.rows(dimension, days.first, days.last, _COUNTERS[dimension], sql, passes)
        rows = []
        for (day, value), values in loaded.rows.items():
            row = Row(day, value, 0, 0, 0, 0, 0, 0, 0, BitMap())
            seen: list[tuple[BitMap, BitMap | None]] = []  # (sessions, restriction) whose visitors count
            passed = loaded.passed[(day, value)]
            if dimension in FROM_PAGEVIEWS and "pageviews" in values:
                if dimension in PAGE_DIMENSIONS:  # the row's own pageviews, if its value passes
                    if passed:
                        row.pageviews = values["pageviews"].total(pageview_sessions)
                        seen.append((values["pageviews"].members, pageview_sessions))
                        for name in ("time_on_page", "time_on_page_views"):
                            if name in values:
                                setattr(row, name, values[name].total(pageview_sessions))
                elif dimension == "":
                    row.pageviews = pageviews[day].total()
                    seen.append((pageviews[day].members, None))
                elif not pageviews[day].members.isdisjoint(values["pageviews"].members):
                    # an origin row: its sessions' pageviews that day
                    row.pageviews = pageviews[day].total(values["pageviews"].members)
                    seen.append((pageviews[day].members, values["pageviews"].members))
            if dimension in FROM_SESSIONS and "sessions" in values:
                begun = values["sessions"].members
                row.sessions = _count(begun, session_sessions)
                if row.sessions:
                    row.bounces = bounces[day].intersection_cardinality(begun)
                    row.duration = durations[day].total(begun)
            if dimension in FROM_EVENTS and "events" in values:
                if dimension == "event":
                    if passed:
                        row.events = values["events"].total(event_sessions)
                        seen.append((values["events"].members, event_sessions))
                else:
                    row.events = events[day].total()
                    seen.append((events[day].members, None))
            if row.pageviews or row.sessions or row.events:
                row.packed = partial(reader.visitors_of, seen)  # mapped only if a report asks
                rows.append(row)
        result[dimension] = rows
    return result


async def sessions_reaching(session: AsyncSession, project: ProjectAccess, days: DayRange, counter: str,
                            threshold: int) -> tuple[int, BitMap] | None:
    """The sessions begun in the range (with a pageview) whose own `counter` (duration, or
    session_pageviews: all its pageviews) is at least `threshold`: how many, and their visitors.
    None where the session rollups do not cover the range."""
    covered_from = await since(session, project)
    if covered_from is not None and days.first < covered_from:
        return None
    reader = _Reader(session, project)
    site = await reader.rows("", days.first, days.last, ("sessions", counter))
    found = BitMap.union(BitMap(), *(values[counter].at_least(threshold) & values["sessions"].members
                                     for values in site.rows.values() if "sessions" in values and counter in values))
    if not found:
        return 0, BitMap()
    await reader.ensure_map(found.min(), found.max())
    return len(found), reader.visitors_of([(found, None)])
