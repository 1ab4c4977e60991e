"""Reading daily rollups: rows per dimension and day range, and their totals.

Counters add up; visitors are roaring bitmaps of visitor numbers, so the distinct visitors of
any set of rows is the size of their union, exact.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from uuid import UUID

from pyroaring import BitMap
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from pulse.query.dates import DayRange
from pulse.query.rounding import average, percent


@dataclass(slots=True)
class Row:
    day: date
    value: str
    pageviews: int
    sessions: int
    bounces: int
    duration: int
    events: int
    time_on_page: int
    time_on_page_views: int
    # The visitor bitmap: serialized as stored, or a function that computes it, until first needed.
    packed: bytes | BitMap | Callable[[], BitMap]

    @property
    def visitors(self) -> BitMap:
        # Made on first use: a ranked list needs the bitmaps of the rows it shows, not all.
        if not isinstance(self.packed, BitMap):
            self.packed = self.packed() if callable(self.packed) else BitMap.deserialize(self.packed)
        return self.packed


@dataclass(slots=True)
class Totals:
    pageviews: int = 0
    sessions: int = 0
    bounces: int = 0
    duration: int = 0
    events: int = 0
    time_on_page: int = 0
    time_on_page_views: int = 0
    rows: list[Row] = field(default_factory=list)

    def add(self, row: Row) -> None:
        self.pageviews += row.pageviews
        self.sessions += row.sessions
        self.bounces += row.bounces
        self.duration += row.duration
        self.events += row.events
        self.time_on_page += row.time_on_page
        self.time_on_page_views += row.time_on_page_views
        self.rows.append(row)

    @property
    def visitors(self) -> int:
        """Distinct visitors: the size of the rows' union (computed on each access: keep the result)."""
        if len(self.rows) == 1:
            return len(self.rows[0].visitors)
        return len(BitMap.union(*(row.visitors for row in self.rows))) if self.rows else 0

    @property
    def bounce_rate(self) -> float:
        return percent(self.bounces, self.sessions)

    @property
    def avg_duration(self) -> float:
        return average(self.duration, self.sessions)

    @property
    def avg_time_on_page(self) -> float:
        return average(self.time_on_page, self.time_on_page_views)


def page(items: list, limit: int, offset: int) -> tuple[list, int]:
    """One page of a ranked list, and the list's length (a report's `total`)."""
    return items[offset:offset + limit], len(items)


def total(rows: Iterable[Row]) -> Totals:
    result = Totals()
    for row in rows:
        result.add(row)
    return result


def by_value(rows: Iterable[Row]) -> dict[str, Totals]:
    groups: dict[str, Totals] = defaultdict(Totals)
    for row in rows:
        groups[row.value].add(row)
    return groups


def by_visitors(rows: Iterable[Row]) -> list[tuple[str, Totals, int]]:
    """(value, totals, distinct visitors) of each value with pageviews, by visitors, then
    pageviews, then value; each union is computed once."""
    ranked = [(value, t, t.visitors) for value, t in by_value(rows).items() if t.pageviews]
    ranked.sort(key=lambda item: (-item[2], -item[1].pageviews, item[0]))
    return ranked


def in_days(rows: Iterable[Row], days: DayRange) -> list[Row]:
    return [row for row in rows if days.first <= row.day <= days.last]


# What a report asks for: one dimension's rows over some days.
Request = tuple[str, date, date]
# Returns an awaitable at once (a batching reader queues the request when called).
Reader = Callable[[str, DayRange], Awaitable[list[Row]]]


# Plain SQL, rows unpacked by position: a dashboard reads thousands of rows (megabytes of
# bitmaps), and a Core select's per-row result processing was a third of the request.
_LOAD = text(
    "SELECT day, dimension, value, pageviews, sessions, bounces, duration, events, time_on_page, "
    "time_on_page_views, visitors FROM daily_rollups "
    "WHERE project_id = :p AND dimension = ANY(:dimensions) AND day BETWEEN :first AND :last")


async def load(session: AsyncSession, project_id: UUID, requests: list[Request]) -> list[list[Row]]:
    """Rows for several (dimension, first day, last day) requests, in one query."""
    dimensions = sorted({dim for dim, _, _ in requests})
    first = min(f for _, f, _ in requests)
    last = max(la for _, _, la in requests)
    records = (await session.execute(_LOAD, {"p": project_id, "dimensions": dimensions, "first": first,
                                             "last": last})).all()
    rows_by_dim: dict[str, list[Row]] = defaultdict(list)
    for day, dimension, *values in records:
        rows_by_dim[dimension].append(Row(day, *values))
    return [[row for row in rows_by_dim[dim] if f <= row.day <= la] for dim, f, la in requests]


def direct_reader(session: AsyncSession, project_id: UUID) -> Reader:
    """A reader that asks the database each time (REST: one report per request)."""

    async def read(dimension: str, days: DayRange) -> list[Row]:
        return (await load(session, project_id, [(dimension, days.first, days.last)]))[0]

    return read




async def load_batch(session: AsyncSession, keys: list[tuple[UUID, str, date, date]]) -> list[list[Row]]:
    """A dataloader's batch: every (project, dimension, first day, last day) asked in one request,
    one query per project."""
    by_project: dict[UUID, list[int]] = defaultdict(list)
    for index, (project_id, *_) in enumerate(keys):
        by_project[project_id].append(index)
    results: list[list[Row]] = [[] for _ in keys]
    for project_id, indexes in by_project.items():
        loaded = await load(session, project_id, [keys[i][1:] for i in indexes])
        for index, rows in zip(indexes, loaded, strict=True):
            results[index] = rows
    return results
