"""What every report route needs: the caller's project, the days, and a rollup reader (a Report).

Without filters the reader reads the daily rollups (GraphQL: one batched query per request);
with filters it computes the same rows from the raw tables (pulse.query.raw).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Query
from strawberry.types import Info

from pulse.auth import Caller, Need, ProjectAccess
from pulse.limits import MAX_OFFSET
from pulse.modules.registry import Action
from pulse.query.dates import DayRange, resolve
from pulse.query.filters import Filter
from pulse.query.filters import parse as parse_filters
from pulse.query.rollups import Reader, Row, direct_reader

# The query parameters every REST report takes.
StartAt = Annotated[str | None, Query()]
EndAt = Annotated[str | None, Query()]
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]
Filters = Annotated[list[str] | None, Query(alias="filter", description="dimension:operator:value, repeatable")]


def days_for(caller: Caller, start_at: str | None, end_at: str | None) -> DayRange:
    return resolve(start_at, end_at, tz=caller.project.timezone, now=datetime.now(UTC))


@dataclass(frozen=True, slots=True)
class Report:
    """What a report needs: the rows reader, the days, and the raw hourly series (with the same
    filters) for an `interval=hour` timeseries."""

    read: Reader
    days: DayRange
    hours: Callable[[DayRange], Awaitable[list[tuple[str, int, int, int]]]]

    @property
    def inputs(self) -> dict:
        """The keyword arguments every report service takes: `read` and `days`."""
        return {"read": self.read, "days": self.days}


def _report(session, project: ProjectAccess, days: DayRange, filters: list[Filter], read: Reader) -> Report:
    from pulse.query.raw import hourly

    return Report(read, days, lambda span: hourly(session, project, filters, span))


def rest_report(caller: Caller, session, start_at: str | None, end_at: str | None,
                raw_filters: list[str] | None) -> Report:
    """A REST report's context, from its `start_at`, `end_at` and `filter` parameters. Without
    filters it reads the daily rollups; with them it computes the same rows from the raw tables."""
    filters = parse_filters(raw_filters or [])
    days = days_for(caller, start_at, end_at)
    if filters:
        from pulse.query.raw import filtered_reader

        read = filtered_reader(session, caller.project, filters)
    else:
        read = direct_reader(session, caller.project_id)
    return _report(session, caller.project, days, filters, read)


async def graphql_context(project_uuid, info: Info, need: Need, start_at: str | None, end_at: str | None,
                          filters: list[Filter]) -> Report:
    """The same for a GraphQL field: every report of the request reads through the request's loaders
    (the rollups in one batch; filtered rows computed together, one statement per table and range)."""
    caller = await info.context.authorize(need, project_uuid, Action.READ)
    days = days_for(caller, start_at, end_at)
    # load() queues the key at once, so every report of the request lands in one batch.
    if filters:
        filtered = info.context.loaders.filtered_rollups(caller.project, tuple(filters))

        def read(dimension: str, span: DayRange) -> Awaitable[list[Row]]:
            return filtered.load((dimension, span.first, span.last))
    else:
        rollups = info.context.loaders.rollups

        def read(dimension: str, span: DayRange) -> Awaitable[list[Row]]:
            return rollups.load((caller.project_id, dimension, span.first, span.last))

    return _report(info.context.session, caller.project, days, filters, read)
