"""Sets of visitors: a condition definition (pulse.conditions) over a range, as a roaring bitmap of
visitor numbers, and the numbers a set gives (its breakdown, its metrics).

Every condition becomes one bitmap; `all` intersects, `any` unions; the result is kept to the
range's active visitors (the union of the whole-site rollup bitmaps of its days: whoever viewed a
page or sent an event). A condition is answered the cheapest exact way:

- from the daily rollups' per-value visitor bitmaps, when it tests a value the rollups keep per
  visitor: a session's origin (source, channel, UTM, geo, browser, os, device; pageviews are
  credited to their session's origin), a pageview's path or hostname, whether an event happened.
  The dimension's values in the range are read (a few hundred rows), tested in Python with the
  language's own `test`, and the bitmaps of the values that pass are unioned;
- otherwise by one SQL statement over the raw table that holds the value (profile traits, event
  properties, a session's referrer or entry page, per-visitor metrics), returning visitor numbers;
  the jsonb tests below reproduce the language's rules (numbers exactly, strings exactly or without
  case for the text operators, a number never equal to a string).

`not_exists` is the range's visitors minus those for whom the value exists, so a visitor with no
row at all counts, as the language says. The in-memory `pulse.conditions.matches` is the
specification; tests/query/test_visitorsets.py checks the two agree on a known dataset.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from itertools import count
from typing import Any
from uuid import UUID

from pyroaring import BitMap
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from pulse import errors
from pulse.auth import ProjectAccess
from pulse.conditions import Condition, Definition, Group, test
from pulse.ingest.rollups import ORIGIN
from pulse.query.dates import DayRange
from pulse.query.rollups import load
from pulse.query.rounding import average, percent

SITE = ""
# Conditions the rollups answer: (source, field) -> the rollup dimension.
ROLLUP_FIELDS = {**{("session", f): f for f in ORIGIN}, ("pageview", "path"): "path",
                 ("pageview", "hostname"): "hostname"}
BREAKDOWNS = ("country", "device", "browser", "os", "path", "event")


class _Query:
    """One statement's text and its bound parameters."""

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}
        self._names = count()

    def bind(self, value: Any) -> str:
        name = f"v{next(self._names)}"
        self.params[name] = value
        return f":{name}"


def _exists(expr: str) -> str:
    return f"({expr} IS NOT NULL AND jsonb_typeof({expr}) <> 'null')"


def _number(expr: str) -> str:
    # CASE, not AND: PostgreSQL may evaluate an AND's sides in any order, and casting a string fails.
    return f"(CASE WHEN jsonb_typeof({expr}) = 'number' THEN CAST({expr} AS numeric) END)"


def _equal(q: _Query, expr: str, value: Any) -> str:
    if isinstance(value, bool):
        return f"({expr} = CAST({q.bind('true' if value else 'false')} AS jsonb))"
    if isinstance(value, int | float | Decimal):
        return f"({_number(expr)} = {q.bind(Decimal(repr(value)))})"
    return f"(jsonb_typeof({expr}) = 'string' AND ({expr} #>> '{{}}') = {q.bind(value)})"


def _sql_test(q: _Query, expr: str, c: Condition) -> str:
    """`expr` (jsonb) against the condition, as pulse.conditions._test decides; exists for not_exists
    (the caller takes the complement)."""
    op, value = c.op, c.value
    if op in ("exists", "not_exists"):
        return _exists(expr)
    if op == "eq":
        return _equal(q, expr, value)
    if op == "neq":
        return f"({_exists(expr)} AND NOT {_equal(q, expr, value)})"
    if op == "in":
        return "(" + " OR ".join(_equal(q, expr, v) for v in value) + ")"
    if op in ("contains", "starts_with", "ends_with"):
        string, wanted = f"lower({expr} #>> '{{}}')", f"lower({q.bind(value)})"
        test_ = {"contains": f"strpos({string}, {wanted}) > 0",
                 "starts_with": f"left({string}, length({wanted})) = {wanted}",
                 "ends_with": f"right({string}, length({wanted})) = {wanted}"}[op]
        return f"(jsonb_typeof({expr}) = 'string' AND {test_})"
    sign = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[op]
    return f"({_number(expr)} {sign} {q.bind(Decimal(repr(value)))})"


def _json_path(q: _Query, column: str, path: tuple[str, ...]) -> str:
    return f"({column} #> CAST({q.bind(list(path))} AS text[]))"


# An `all` group's candidates are named to a profile or session condition (`visitor_no = ANY(...)`)
# up to this many; beyond, the condition reads every row it would and the sets are intersected after.
MAX_CANDIDATES = 50_000
_ORDER = {"event": 1, "session": 2, "pageview": 3, "metric": 4, "profile": 5}


def _cost(item: Condition | Group) -> int:
    """Evaluation order within an `all` group: what the rollup bitmaps answer (0), then raw rows by
    how many they read (a profile condition is not bounded by the range), groups last."""
    if isinstance(item, Group):
        return 9
    if item.source == "event" and item.field is None or ROLLUP_FIELDS.get((item.source, item.field)):
        return 0
    return _ORDER[item.source]


class _Evaluator:
    def __init__(self, session: AsyncSession, project: ProjectAccess, days: DayRange) -> None:
        self.session = session
        self.project = project
        self.days = days
        self.start, self.end = days.bounds(project.timezone)
        self._dimensions: dict[str, dict[str, BitMap]] = {}
        self.active: BitMap = BitMap()

    async def values(self, dimension: str) -> dict[str, BitMap]:
        """The dimension's values in the range and each one's visitors (read once per request)."""
        if dimension not in self._dimensions:
            rows = (await load(self.session, self.project.project_id,
                               [(dimension, self.days.first, self.days.last)]))[0]
            by_value: dict[str, list[BitMap]] = defaultdict(list)
            for row in rows:
                by_value[row.value].append(row.visitors)
            self._dimensions[dimension] = {v: BitMap.union(*maps) for v, maps in by_value.items()}
        return self._dimensions[dimension]

    async def numbers(self, q: _Query, sql: str) -> BitMap:
        """The visitor numbers `sql` selects, fetched as one array (a row per visitor costs more to
        decode than the query takes)."""
        q.params.setdefault("p", self.project.project_id)
        found = (await self.session.execute(text(f"SELECT array_agg(n) FROM ({sql}) AS found(n)"), q.params)).scalar()
        return BitMap(found or ())

    async def of(self, item: Condition | Group | Definition, within: BitMap | None = None) -> BitMap:
        """The visitors `item` keeps. `within`: only these matter (the candidates an `all` group left),
        so a condition read from raw rows may read only theirs."""
        if not isinstance(item, Group | Definition):
            return await self.condition(item, within)
        if item.match == "any":
            parts = [await self.of(child, within) for child in item.conditions]
            return BitMap.union(*parts) if parts else BitMap()
        # All: the conditions the rollups answer first, then those read from raw rows, each over the
        # candidates the others left (the widest, a profile's, last), stopping once none are left.
        candidates = BitMap(self.active) if within is None else within & self.active
        for child in sorted(item.conditions, key=_cost):
            if not candidates:
                break
            candidates &= await self.of(child, candidates)
        return candidates

    async def condition(self, c: Condition, within: BitMap | None = None) -> BitMap:
        if c.source == "metric":
            return await self.metric(c)
        dimension = ROLLUP_FIELDS.get((c.source, c.field))
        if c.source == "event" and c.field is None:
            passing = (await self.values("event")).get(c.event, BitMap())
            return passing if c.op == "exists" else self.active - passing
        if dimension is not None:
            values = await self.values(dimension)
            # Direct traffic is kept under "" (no source): not set, for the language.
            unset = "" if dimension == "source" else None
            if c.op == "not_exists":
                return self.active - BitMap.union(BitMap(), *(m for v, m in values.items() if v != unset))
            return BitMap.union(BitMap(), *(m for v, m in values.items() if v != unset and test(c, v)))
        found = await self.raw(c, within)
        return (self.active if within is None else within) - found if c.op == "not_exists" else found

    async def raw(self, c: Condition, within: BitMap | None = None) -> BitMap:
        """Visitors for whom the condition holds (for not_exists: the value exists), from raw rows;
        of `within` only, when there are few enough of those to name."""
        q = _Query()
        start, end = q.bind(self.start), q.bind(self.end)
        # Profiles, visitors and sessions have an index by visitor number, which `= ANY` walks for the
        # candidates; pageviews and events are read by time either way, and intersected after.
        only = ""
        if within is not None and len(within) <= MAX_CANDIDATES and c.source in ("profile", "session"):
            only = f" AND visitor_no = ANY(CAST({q.bind(list(within))} AS bigint[]))"
        if c.source == "profile":
            if c.field == "visitor_id":
                return await self.numbers(q, "SELECT visitor_no FROM visitors WHERE project_id = :p AND "
                                          + _sql_test(q, "to_jsonb(visitor_id)", c) + only)
            expr = "to_jsonb(user_id)" if c.field == "user_id" else _json_path(q, "traits", c.path[1:])
            return await self.numbers(q, "SELECT visitor_no FROM identity_profiles WHERE project_id = :p "
                                      f"AND visitor_no IS NOT NULL AND {_sql_test(q, expr, c)}{only}")
        if c.source == "session":
            return await self.numbers(q, "SELECT DISTINCT visitor_no FROM sessions WHERE project_id = :p "
                                      f"AND started_at < {end} AND ended_at >= {start} AND pageviews > 0 "
                                      f"AND {_sql_test(q, f'to_jsonb({c.field})', c)}{only}")
        if c.source == "pageview":
            return await self.numbers(q, "SELECT DISTINCT visitor_no FROM pageviews WHERE project_id = :p "
                                      f"AND ts >= {start} AND ts < {end} "
                                      f"AND {_sql_test(q, f'to_jsonb({c.field})', c)}{only}")
        # An event's property or revenue.
        expr = _json_path(q, "data", c.path[1:]) if c.path[0] == "event_data" else f"to_jsonb({c.field})"
        return await self.numbers(q, "SELECT DISTINCT visitor_no FROM events WHERE project_id = :p "
                                  f"AND ts >= {start} AND ts < {end} AND name = {q.bind(c.event)} "
                                  f"AND {_sql_test(q, expr, c)}{only}")

    async def metric(self, c: Condition) -> BitMap:
        """Visitors whose total over the range passes; a visitor with none has a total of 0."""
        q = _Query()
        start, end = q.bind(self.start), q.bind(self.end)
        if c.field in ("pageviews", "sessions", "duration"):
            total = {"pageviews": "sum(pageviews)", "sessions": "count(*)", "duration": "sum(duration)"}[c.field]
            sql = (f"SELECT visitor_no, {total} FROM sessions WHERE project_id = :p AND started_at >= {start} "
                   f"AND started_at < {end} AND pageviews > 0 GROUP BY visitor_no")
        else:
            total = "count(*)" if c.field == "events" else "coalesce(sum(revenue_amount), 0)"
            named = f" AND name = {q.bind(c.event)}" if c.event is not None else ""
            sql = (f"SELECT visitor_no, {total} FROM events WHERE project_id = :p AND ts >= {start} "
                   f"AND ts < {end}{named} GROUP BY visitor_no")
        q.params["p"] = self.project.project_id
        numbers, values = (await self.session.execute(
            text(f"SELECT array_agg(n), array_agg(v) FROM ({sql}) AS totals(n, v)"), q.params)).one()
        numbers, values = numbers or [], values or []
        passing = BitMap(no for no, value in zip(numbers, values, strict=True) if test(c, value))
        if test(c, 0):  # everyone without a row has 0
            passing |= self.active - BitMap(numbers)
        return passing


async def active(session: AsyncSession, project: ProjectAccess, days: DayRange) -> BitMap:
    """The range's visitors: whoever viewed a page or sent an event."""
    rows = (await load(session, project.project_id, [(SITE, days.first, days.last)]))[0]
    return BitMap.union(BitMap(), *(row.visitors for row in rows))


async def visitors(session: AsyncSession, project: ProjectAccess, definition: Definition, days: DayRange) -> BitMap:
    """The visitor numbers of the range's visitors who match `definition`."""
    evaluator = _Evaluator(session, project, days)
    evaluator.active = await active(session, project, days)
    return await evaluator.of(definition) & evaluator.active


async def visitor_ids(session: AsyncSession, project_id: UUID, numbers: list[int]) -> list[str]:
    """The visitor ids of `numbers`, in their order."""
    if not numbers:
        return []
    rows = (await session.execute(text("SELECT visitor_no, visitor_id FROM visitors WHERE project_id = :p "
                                       "AND visitor_no = ANY(:numbers)"), {"p": project_id, "numbers": numbers})).all()
    ids = dict(rows)
    return [ids[n] for n in numbers if n in ids]


async def breakdown(session: AsyncSession, project: ProjectAccess, members: BitMap, prop: str, days: DayRange,
                    limit: int) -> list[tuple[str, int]]:
    """(value, visitors among `members`) of a property, most visitors first, then by value."""
    if prop.startswith("trait:") and len(prop) > 6:
        rows = (await session.execute(text(
            "SELECT visitor_no, traits #>> CAST(:path AS text[]) FROM identity_profiles WHERE project_id = :p "
            "AND visitor_no IS NOT NULL AND traits #>> CAST(:path AS text[]) IS NOT NULL"),
            {"p": project.project_id, "path": prop[6:].split(".")})).all()
        counts: dict[str, int] = defaultdict(int)
        for no, value in rows:
            if no in members:
                counts[value] += 1
        ranked = list(counts.items())
    elif prop in BREAKDOWNS:
        evaluator = _Evaluator(session, project, days)
        values = await evaluator.values(prop)
        ranked = [(value, members.intersection_cardinality(m)) for value, m in values.items()]
        ranked = [(value or "(direct)", n) for value, n in ranked if n]
    else:
        raise errors.BadRequest(f"Invalid parameter: unknown property '{prop}' "
                                f"(expected one of {', '.join(BREAKDOWNS)} or trait:NAME).")
    ranked.sort(key=lambda item: (-item[1], item[0]))
    return ranked[:limit]


async def metrics(session: AsyncSession, project: ProjectAccess, members: BitMap, days: DayRange) -> dict:
    """The members' traffic over the range, as the stats report filtered to them counts it: visitors,
    sessions begun in the range (their bounce rate and mean duration), and the range's pageviews and
    events. From the session rollups (pulse.query.sessionsets) where they cover the range."""
    from pulse.query import sessionsets
    from pulse.query.filters import SEGMENT, Filter
    from pulse.query.rollups import total

    async def given(_segment: str, _days: DayRange) -> BitMap:
        return members

    rows = await sessionsets.compute_many(session, project, [Filter(SEGMENT, "is", "")], [SITE], days, given)
    if rows is not None:
        t = total(rows[SITE])
        sessions, pageviews, bounces, duration, events = t.sessions, t.pageviews, t.bounces, t.duration, t.events
    else:
        start, end = days.bounds(project.timezone)
        params = {"p": project.project_id, "start": start, "end": end, "numbers": list(members)}
        among = "ts >= :start AND ts < :end AND visitor_no IN (SELECT unnest(CAST(:numbers AS bigint[])))"
        sessions, bounces, duration = (await session.execute(text(
            "SELECT count(*), count(*) FILTER (WHERE pageviews <= 1), coalesce(sum(duration), 0) FROM sessions "
            "WHERE project_id = :p AND started_at >= :start AND started_at < :end AND pageviews > 0 "
            "AND visitor_no = ANY(:numbers)"), params)).one()
        pageviews, events = (await session.execute(text(
            f"SELECT (SELECT count(*) FROM pageviews WHERE project_id = :p AND {among}), "
            f"(SELECT count(*) FROM events WHERE project_id = :p AND {among})"),
            params)).one()
    return {"visitors": len(members), "sessions": sessions, "pageviews": int(pageviews), "events": events,
            "bounce_rate": percent(bounces, sessions), "avg_duration": average(int(duration), sessions)}
