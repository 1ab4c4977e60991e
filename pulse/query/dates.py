"""Date ranges of reports: `start_at`/`end_at` as the API takes them, resolved to the project's days.

Reports read daily rollups, so a range covers whole days in the project's time zone: from the
day `start_at` falls on to the day `end_at` falls on, both included. The previous period is
the same number of days just before. Dates fall in MIN_REPORT_YEAR..MAX_REPORT_YEAR (pulse.limits),
so the previous period and the bounds in any zone stay representable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from pulse import errors
from pulse.limits import MAX_REPORT_YEAR, MIN_REPORT_YEAR
from pulse.timestamps import parse_iso

DEFAULT_DAYS = 30
MAX_DAYS = 3660
DEFAULT_ZONE = "UTC"


def zone_name(tz: str | None) -> str:
    """The zone whose days a project's reports count: its `timezone`, UTC when it has none (empty
    or missing). The writer's rollups (pulse.ingest.rollups.zone) make the same choice."""
    return tz or DEFAULT_ZONE


@lru_cache(maxsize=1024)
def zone(tz: str | None) -> ZoneInfo:
    return ZoneInfo(zone_name(tz))


@dataclass(frozen=True, slots=True)
class DayRange:
    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def previous(self) -> DayRange:
        return DayRange(self.first - timedelta(days=self.days), self.first - timedelta(days=1))

    def each(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range(self.days)]

    def bounds(self, tz: str | None) -> tuple[datetime, datetime]:
        """The range as instants: from the first day's midnight to the day after the last."""
        local = zone(tz)
        return (datetime.combine(self.first, time.min, local),
                datetime.combine(self.last + timedelta(days=1), time.min, local))


def _local_day(value: str, field: str, tz: str | None) -> date:
    if len(value) == 10:  # a plain date is already the project's day
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise errors.BadRequest(f"Invalid value for '{field}': expected an ISO-8601 date or datetime.") from None
    else:
        instant = parse_iso(value, field)
        _check_year(instant.year, field)  # before converting: 9999-12-31T23:59:59-12:00 overflows
        day = instant.astimezone(zone(tz)).date()
    _check_year(day.year, field)
    return day


def _check_year(year: int, field: str) -> None:
    if not MIN_REPORT_YEAR <= year <= MAX_REPORT_YEAR:
        raise errors.BadRequest(f"Invalid value for '{field}': dates from {MIN_REPORT_YEAR} "
                                f"through {MAX_REPORT_YEAR} are supported.")


def resolve(start_at: str | None, end_at: str | None, *, tz: str | None, now: datetime) -> DayRange:
    """The days a report covers; the default is the last 30 days, today included. Days are `tz`'s,
    UTC's when the project has no zone."""
    today = now.astimezone(zone(tz)).date()
    last = _local_day(end_at, "end_at", tz) if end_at else today
    first = _local_day(start_at, "start_at", tz) if start_at else last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise errors.BadRequest("Invalid parameters: 'start_at' must not be after 'end_at'.")
    if (last - first).days >= MAX_DAYS:
        raise errors.BadRequest(f"Invalid parameters: a range may span at most {MAX_DAYS} days.")
    return DayRange(first, last)
