"""What every report reads with: the days and a rollup reader (a `Reading`), and `doc` for the
descriptions of a report's output fields.

Without filters the reader reads the daily rollups (GraphQL: one batched query per request);
with filters it computes the same rows from the raw tables (pulse.query.raw). The faces that
build a Reading from a request live in pulse.reports; this layer knows neither FastAPI nor
Strawberry.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pulse.auth import ProjectAccess
from pulse.query.dates import DayRange
from pulse.query.filters import Filter
from pulse.query.rollups import Reader

HourlyRows = Callable[[DayRange], Awaitable[list[tuple[str, int, int, int]]]]


@dataclass(frozen=True, slots=True)
class Reading:
    """The rows reader, the days, and the raw hourly series (with the same filters) for an
    `interval=hour` timeseries."""

    read: Reader
    days: DayRange
    hours: HourlyRows


def reading(session, project: ProjectAccess, days: DayRange, filters: list[Filter], read: Reader,
            segments=None) -> Reading:
    """`segments`: how the filters' segments become visitor sets (pulse.query.raw.Segments)."""
    from pulse.query.raw import hourly

    return Reading(read, days, lambda span: hourly(session, project, filters, span, segments))


def doc(description: str) -> Any:
    """A dataclass field with a description (the GraphQL field's, pulse.reports.object_type)."""
    return field(metadata={"doc": description})
