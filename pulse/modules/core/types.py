"""GraphQL types of the core reports (the same numbers as the REST face)."""

from __future__ import annotations

import strawberry

from pulse.graphql.paging import Listing
from pulse.modules.core import service


@strawberry.type
class Summary:
    pageviews: int
    visitors: int
    sessions: int
    bounce_rate: float
    avg_duration: float = strawberry.field(description="Mean session duration, seconds.")
    events: int

    @classmethod
    def of(cls, s: service.Summary) -> Summary:
        return cls(pageviews=s.pageviews, visitors=s.visitors, sessions=s.sessions, bounce_rate=s.bounce_rate,
                   avg_duration=s.avg_duration, events=s.events)


@strawberry.type(description="A period and the previous period of equal length.")
class StatsComparison:
    current: Summary
    previous: Summary


@strawberry.type
class TimePoint:
    date: str = strawberry.field(description="The bucket's first day, or hour (YYYY-MM-DDTHH:00), local time.")
    pageviews: int
    visitors: int
    sessions: int


@strawberry.type
class Page:
    path: str
    views: int
    unique_views: int
    avg_duration: float = strawberry.field(description="Mean time to the next pageview of the session, seconds.")


@strawberry.type
class PageList(Listing):
    data: list[Page]


@strawberry.type
class EntryPage:
    path: str
    entrances: int = strawberry.field(description="Sessions that began on the page.")
    bounce_rate: float = strawberry.field(description="Percent of those sessions with one pageview.")
    avg_duration: float = strawberry.field(description="Mean duration of those sessions, in seconds.")


@strawberry.type
class EntryPageList(Listing):
    data: list[EntryPage]


@strawberry.type
class ExitPage:
    path: str
    exits: int = strawberry.field(description="Sessions that ended on the page.")
    exit_rate: float = strawberry.field(description="Exits per 100 views of the page.")


@strawberry.type
class ExitPageList(Listing):
    data: list[ExitPage]


@strawberry.type
class Source:
    source: str
    visitors: int
    pageviews: int


@strawberry.type
class SourceList(Listing):
    data: list[Source]


@strawberry.type
class EventCount:
    name: str
    count: int
    unique: int


@strawberry.type
class EventList(Listing):
    data: list[EventCount]


@strawberry.type
class Share:
    name: str
    visitors: int
    percentage: float


@strawberry.type
class Devices:
    browsers: list[Share]
    operating_systems: list[Share]
    device_types: list[Share]


@strawberry.type
class ShareList(Listing):
    data: list[Share]


@strawberry.type
class Realtime:
    active_visitors: int
