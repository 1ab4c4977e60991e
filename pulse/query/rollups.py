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
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pulse.ingest.tables import daily_rollups as r
from pulse.query.dates import DayRange


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
    visitors: BitMap


@dataclass(slots=True)
class Totals:
    pageviews: int = 0
    sessions: int = 0
    bounces: int = 0
    duration: int = 0
    events: int = 0
    time_on_page: int = 0
    time_on_page_views: int = 0
    bitmaps: list[BitMap] = field(default_factory=list)

    def add(self, row: Row) -> None:
        self.pageviews += row.pageviews
        self.sessions += row.sessions
        self.bounces += row.bounces
        self.duration += row.duration
        self.events += row.events
        self.time_on_page += row.time_on_page
        self.time_on_page_views += row.time_on_page_views
        self.bitmaps.append(row.visitors)

    @property
    def visitors(self) -> int:
        return len(BitMap.union(*self.bitmaps)) if self.bitmaps else 0

    @property
    def bounce_rate(self) -> float:
        return round(100 * self.bounces / self.sessions, 1) if self.sessions else 0.0

    @property
    def avg_duration(self) -> float:
        return round(self.duration / self.sessions, 1) if self.sessions else 0.0

    @property
    def avg_time_on_page(self) -> float:
        return round(self.time_on_page / self.time_on_page_views, 1) if self.time_on_page_views else 0.0


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


def in_days(rows: Iterable[Row], days: DayRange) -> list[Row]:
    return [row for row in rows if days.first <= row.day <= days.last]


# What a report asks for: one dimension's rows over some days.
Request = tuple[str, date, date]
# Returns an awaitable at once (a batching reader queues the request when called).
Reader = Callable[[str, DayRange], Awaitable[list[Row]]]


def _row(record) -> Row:
    return Row(record.day, record.value, record.pageviews, record.sessions, record.bounces, record.duration,
               record.events, record.time_on_page, record.time_on_page_views, BitMap.deserialize(record.visitors))


async def load(session: AsyncSession, project_id: UUID, requests: list[Request]) -> list[list[Row]]:
    """Rows for several (dimension, first day, last day) requests, in one query."""
    dimensions = sorted({dim for dim, _, _ in requests})
    first = min(f for _, f, _ in requests)
    last = max(la for _, _, la in requests)
    stmt = (select(r.c.day, r.c.dimension, r.c.value, r.c.pageviews, r.c.sessions, r.c.bounces, r.c.duration,
                   r.c.events, r.c.time_on_page, r.c.time_on_page_views, r.c.visitors)
            .where(r.c.project_id == project_id, r.c.dimension.in_(dimensions), r.c.day.between(first, last)))
    rows_by_dim: dict[str, list[Row]] = defaultdict(list)
    for record in await session.execute(stmt):
        rows_by_dim[record.dimension].append(_row(record))
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
