"""Core analytics over the daily rollups (and, for the last minutes, the raw rows).

Each report takes a `read` function (pulse.query.rollups.Reader) so the REST face can ask the
database directly while the GraphQL face batches every report of a request into one query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from pulse import errors
from pulse.query.dates import DayRange
from pulse.query.report import doc
from pulse.query.rollups import Reader, Row, Totals, by_value, by_visitors, in_days, page, total
from pulse.query.rounding import percent  # the one rounding rule (docs/metrics.md, Rounding)

SITE = ""
INTERVALS = ("hour", "day", "week", "month")
MAX_HOURLY_DAYS = 31
DEVICE_DIMENSIONS = {"browsers": "browser", "operating_systems": "os", "device_types": "device"}
REALTIME_WINDOW = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Summary:
    pageviews: int
    visitors: int
    sessions: int
    bounce_rate: float
    avg_duration: float = doc("Mean session duration, seconds.")
    events: int

    @classmethod
    def of(cls, t: Totals) -> Summary:
        return cls(t.pageviews, t.visitors, t.sessions, t.bounce_rate, t.avg_duration, t.events)


@dataclass(frozen=True, slots=True)
class StatsComparison:
    """A period and the previous period of equal length."""

    current: Summary
    previous: Summary


@dataclass(frozen=True, slots=True)
class TimePoint:
    date: str = doc("The bucket's first day, or hour (YYYY-MM-DDTHH:00), local time.")
    pageviews: int
    visitors: int
    sessions: int


@dataclass(frozen=True, slots=True)
class Page:
    path: str
    views: int
    unique_views: int
    avg_duration: float = doc("Mean time to the next pageview of the session, seconds.")


@dataclass(frozen=True, slots=True)
class EntryPage:
    path: str
    entrances: int = doc("Sessions that began on the page.")
    bounce_rate: float = doc("Percent of those sessions with one pageview.")
    avg_duration: float = doc("Mean duration of those sessions, in seconds.")


@dataclass(frozen=True, slots=True)
class ExitPage:
    path: str
    exits: int = doc("Sessions that ended on the page.")
    exit_rate: float = doc("Exits per 100 views of the page.")


@dataclass(frozen=True, slots=True)
class Source:
    source: str
    visitors: int
    pageviews: int


@dataclass(frozen=True, slots=True)
class EventCount:
    name: str
    count: int
    unique: int


@dataclass(frozen=True, slots=True)
class Share:
    name: str
    visitors: int
    percentage: float


@dataclass(frozen=True, slots=True)
class Devices:
    browsers: list[Share]
    operating_systems: list[Share]
    device_types: list[Share]


@dataclass(frozen=True, slots=True)
class Realtime:
    active_visitors: int


async def stats(*, read: Reader, days: DayRange) -> StatsComparison:
    """The period's overview and the previous period of equal length."""
    previous = days.previous()
    rows = await read(SITE, DayRange(previous.first, days.last))
    return StatsComparison(Summary.of(total(in_days(rows, days))), Summary.of(total(in_days(rows, previous))))


def bucket(day: date, interval: str) -> date:
    if interval == "week":
        return day - timedelta(days=day.weekday())  # weeks start on Monday
    if interval == "month":
        return day.replace(day=1)
    return day


async def timeseries(*, read: Reader, days: DayRange, interval: str = "day", hours=None) -> list[TimePoint]:
    """Pageviews, visitors and sessions per hour, day, week or month (every bucket, empty ones too).

    Hours come from the raw rows (`hours`: an async function of the range, see pulse.query.raw.hourly),
    so they are limited to ranges of MAX_HOURLY_DAYS days.
    """
    if interval not in INTERVALS:
        raise errors.BadRequest(f"Invalid parameter: 'interval' must be one of {', '.join(INTERVALS)}.")
    if interval == "hour":
        if days.days > MAX_HOURLY_DAYS:
            raise errors.BadRequest(f"Invalid parameters: hourly series cover at most {MAX_HOURLY_DAYS} days.")
        return [TimePoint(*values) for values in await hours(days)]
    groups: dict[date, Totals] = {bucket(day, interval): Totals() for day in days.each()}
    for row in await read(SITE, days):
        groups[bucket(row.day, interval)].add(row)
    return [TimePoint(when.isoformat(), t.pageviews, t.visitors, t.sessions) for when, t in groups.items()]


async def pages(*, read: Reader, days: DayRange, limit: int, offset: int) -> tuple[list[Page], int]:
    """Pages by views; a page's average duration is the time to the next pageview of its session."""
    ranked = sorted(((path, t) for path, t in by_value(await read("path", days)).items() if t.pageviews),
                    key=lambda item: (-item[1].pageviews, item[0]))
    shown, count = page(ranked, limit, offset)  # distinct visitors only for the pages shown
    return [Page(path, t.pageviews, t.visitors, t.avg_time_on_page) for path, t in shown], count


async def entry_pages(*, read: Reader, days: DayRange, limit: int, offset: int) -> tuple[list[EntryPage], int]:
    """Pages sessions began on, by sessions, with those sessions' bounce rate and mean duration."""
    items = [EntryPage(path, t.sessions, t.bounce_rate, t.avg_duration)
             for path, t in by_value(await read("entry_path", days)).items() if t.sessions]
    items.sort(key=lambda p: (-p.entrances, p.path))
    return page(items, limit, offset)


async def exit_pages(*, read: Reader, days: DayRange, limit: int, offset: int) -> tuple[list[ExitPage], int]:
    """Pages sessions ended on, by sessions, with the share of the page's views that ended one."""
    exits, views = read("exit_path", days), read("path", days)
    views_by_path = {path: t.pageviews for path, t in by_value(await views).items()}
    items = [ExitPage(path, t.sessions, percent(t.sessions, views_by_path.get(path, 0)))
             for path, t in by_value(await exits).items() if t.sessions]
    items.sort(key=lambda p: (-p.exits, p.path))
    return page(items, limit, offset)


async def referrers(*, read: Reader, days: DayRange, limit: int, offset: int) -> tuple[list[Source], int]:
    """Sources by visitors; sessions without a referrer are "(direct)"."""
    items = [Source(value or "(direct)", visitors, t.pageviews)
             for value, t, visitors in by_visitors(await read("source", days))]
    return page(items, limit, offset)


async def events(*, read: Reader, days: DayRange, limit: int, offset: int) -> tuple[list[EventCount], int]:
    """Custom events by count, with the number of distinct visitors who sent each."""
    ranked = sorted(((name, t) for name, t in by_value(await read("event", days)).items() if t.events),
                    key=lambda item: (-item[1].events, item[0]))
    shown, count = page(ranked, limit, offset)
    return [EventCount(name, t.events, t.visitors) for name, t in shown], count


def _shares(everyone: int, rows: list[Row], limit: int, offset: int) -> tuple[list[Share], int]:
    items = [Share(value, t.visitors, percent(t.visitors, everyone))
             for value, t in by_value(rows).items() if t.pageviews]
    items.sort(key=lambda s: (-s.visitors, s.name))
    return page(items, limit, offset)


async def breakdown(*, read: Reader, days: DayRange, dimension: str, limit: int, offset: int
                    ) -> tuple[list[Share], int]:
    """Visitors per value of a dimension, with each value's share of all visitors."""
    # Ask for both before awaiting either, so a batching reader serves them (and the other
    # reports of the request) together.
    site, rows = read(SITE, days), read(dimension, days)
    return _shares(total(await site).visitors, await rows, limit, offset)


async def devices(*, read: Reader, days: DayRange, limit: int) -> Devices:
    """The `limit` top browsers, operating systems and device types."""
    site = read(SITE, days)
    pending = {name: read(dim, days) for name, dim in DEVICE_DIMENSIONS.items()}
    everyone = total(await site).visitors  # one union for the three breakdowns
    return Devices(**{name: _shares(everyone, await rows, limit, 0)[0] for name, rows in pending.items()})


async def realtime(*, session: AsyncSession, project_id: UUID, now: datetime) -> Realtime:
    """Distinct visitors with a pageview or event in the last five minutes."""
    since = now - REALTIME_WINDOW
    return Realtime((await session.execute(text(
        "SELECT count(DISTINCT visitor_no) FROM ("
        " SELECT visitor_no FROM pageviews WHERE project_id = :p AND ts > :since"
        " UNION ALL SELECT visitor_no FROM events WHERE project_id = :p AND ts > :since) recent"),
        {"p": project_id, "since": since})).scalar_one())


