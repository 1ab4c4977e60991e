"""What every report route needs: the caller's project, the days, and a rollup reader.

Without filters the reader reads the daily rollups (GraphQL: one batched query per request);
with filters it computes the same rows from the raw tables (pulse.query.raw).
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Query
from strawberry.types import Info

from pulse.auth import Caller, Need
from pulse.modules.registry import Action
from pulse.query.dates import DayRange, resolve
from pulse.query.filters import Filter
from pulse.query.filters import parse as parse_filters
from pulse.query.rollups import Reader, Row, direct_reader

# The query parameters every REST report takes.
StartAt = Annotated[str | None, Query()]
EndAt = Annotated[str | None, Query()]
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0)]
Filters = Annotated[list[str] | None, Query(alias="filter", description="dimension:operator:value, repeatable")]


def days_for(caller: Caller, start_at: str | None, end_at: str | None) -> DayRange:
    return resolve(start_at, end_at, tz=caller.project.timezone, now=datetime.now(UTC))


def rest_report(caller: Caller, session, start_at: str | None, end_at: str | None,
                raw_filters: list[str] | None) -> tuple[Reader, DayRange]:
    """A REST report's reader and days, from its `start_at`, `end_at` and `filter` parameters."""
    return rest_context(caller, session, start_at, end_at, parse_filters(raw_filters or []))


def rest_context(caller: Caller, session, start_at: str | None, end_at: str | None,
                 filters: list[Filter]) -> tuple[Reader, DayRange]:
    days = days_for(caller, start_at, end_at)
    if filters:
        from pulse.query.raw import filtered_reader

        return filtered_reader(session, caller.project, filters), days
    return direct_reader(session, caller.project_id), days


async def graphql_context(project_uuid, info: Info, need: Need, start_at: str | None, end_at: str | None,
                          filters: list[Filter]) -> tuple[Reader, DayRange]:
    caller = await info.context.authorize(need, project_uuid, Action.READ)
    days = days_for(caller, start_at, end_at)
    if filters:
        filtered = info.context.loaders.filtered_rollups(caller.project, tuple(filters))

        def read(dimension: str, span: DayRange) -> Awaitable[list[Row]]:
            return filtered.load((dimension, span.first, span.last))

        return read, days
    loader = info.context.loaders.rollups
    project_id = caller.project_id

    def read(dimension: str, span: DayRange) -> Awaitable[list[Row]]:
        # load() queues the key at once: every report of the request lands in one batch.
        return loader.load((project_id, dimension, span.first, span.last))

    return read, days
