"""Campaign reports over the daily rollups of the session's UTM tags.

A session takes its tags from its first pageview, and every pageview of the session is credited
to them (pulse.ingest.rollups), so a campaign's pageviews include the pages seen after landing.
Sessions without a tag are not counted here at all. Sources and mediums are stored lowercased
(pulse.ingest.campaigns); campaign names keep their case.

Each report takes a `read` function (pulse.query.rollups.Reader), as the core reports do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pulse import errors
from pulse.ingest.campaigns import MAX_UTM_LENGTH
from pulse.modules.core.service import Source  # the same row as the referrers report
from pulse.query.dates import DayRange
from pulse.query.report import doc
from pulse.query.rollups import Reader, Totals, by_visitors, page


@dataclass(frozen=True, slots=True)
class Campaign:
    campaign: str
    visitors: int
    pageviews: int
    bounce_rate: float
    avg_duration: float = doc("Mean session duration, seconds.")


@dataclass(frozen=True, slots=True)
class UtmMedium:
    medium: str
    visitors: int
    pageviews: int


@dataclass(frozen=True, slots=True)
class CampaignPoint:
    date: date
    visitors: int
    pageviews: int
    sessions: int = doc("Sessions that started that day.")


async def campaigns(*, read: Reader, days: DayRange, limit: int, offset: int) -> tuple[list[Campaign], int]:
    """Campaigns (utm_campaign) by visitors, with the bounce rate and mean duration of their sessions."""
    items = [Campaign(value, visitors, t.pageviews, t.bounce_rate, t.avg_duration)
             for value, t, visitors in by_visitors(await read("utm_campaign", days))]
    return page(items, limit, offset)


async def sources(*, read: Reader, days: DayRange, limit: int, offset: int) -> tuple[list[Source], int]:
    """UTM sources by visitors."""
    items = [Source(value, visitors, t.pageviews) for value, t, visitors in by_visitors(await read("utm_source", days))]
    return page(items, limit, offset)


async def mediums(*, read: Reader, days: DayRange, limit: int, offset: int) -> tuple[list[UtmMedium], int]:
    """UTM mediums by visitors."""
    rows = await read("utm_medium", days)
    items = [UtmMedium(value, visitors, t.pageviews) for value, t, visitors in by_visitors(rows)]
    return page(items, limit, offset)


def source_value(utm_source: str | None) -> str:
    """The stored form of a utm_source (trimmed, lowercased), or 400 when there is none."""
    value = (utm_source or "").strip().lower()[:MAX_UTM_LENGTH].rstrip()
    if not value:
        raise errors.BadRequest("Invalid parameter: missing required field 'utm_source'.")
    return value


async def timeseries(*, read: Reader, days: DayRange, utm_source: str | None) -> list[CampaignPoint]:
    """Visitors, pageviews and sessions per day of one utm_source; every day of the range, empty ones too."""
    value = source_value(utm_source)
    per_day: dict[date, Totals] = {day: Totals() for day in days.each()}
    for row in await read("utm_source", days):
        bucket = per_day.get(row.day) if row.value == value else None
        if bucket is not None:
            bucket.add(row)
    return [CampaignPoint(day, t.visitors, t.pageviews, t.sessions) for day, t in per_day.items()]
