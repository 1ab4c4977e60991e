"""Core reports as fields of `Project`: a dashboard is one request, its rollup reads one batch."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import strawberry
from strawberry.types import Info

from pulse.auth import need
from pulse.graphql.filters import FilterInput, to_filters
from pulse.graphql.paging import Window
from pulse.graphql.permissions import allow
from pulse.modules.core import service
from pulse.modules.core import types as t
from pulse.modules.registry import Action
from pulse.query.dates import DayRange
from pulse.query.raw import hourly
from pulse.query.report import graphql_context
from pulse.query.rollups import Reader

CORE = need("core", "query")
core = [allow(CORE)]


async def _context(root, info: Info, start_at: str | None, end_at: str | None,
                   filters: list[FilterInput] | None) -> tuple[Reader, DayRange]:
    return await graphql_context(root.project_uuid, info, CORE, start_at, end_at, to_filters(filters))


def _shares(items: list[service.Share]) -> list[t.Share]:
    return [t.Share(name=s.name, visitors=s.visitors, percentage=s.percentage) for s in items]


async def _breakdown(root, info: Info, dimension: str, start_at: str | None, end_at: str | None,
                     filters: list[FilterInput] | None, first: int, after: str | None) -> t.ShareList:
    read, days = await _context(root, info, start_at, end_at, filters)
    window = Window.of(first, after)
    items, total = await service.breakdown(read=read, days=days, dimension=dimension, **window.bounds)
    return t.ShareList(data=_shares(items), **window.listing(len(items), total))


@strawberry.type
class CoreReports:
    """Mixed into `Project`."""

    project_uuid: strawberry.Private[UUID]

    @strawberry.field(permission_classes=core, description="Overview with the previous period's numbers.")
    async def stats(self, info: Info, start_at: str | None = None, end_at: str | None = None,
                    filters: list[FilterInput] | None = None) -> t.StatsComparison:
        read, days = await _context(self, info, start_at, end_at, filters)
        current, previous = await service.stats(read=read, days=days)
        return t.StatsComparison(current=t.Summary.of(current), previous=t.Summary.of(previous))

    @strawberry.field(permission_classes=core, description="interval: hour, day, week or month.")
    async def timeseries(self, info: Info, start_at: str | None = None, end_at: str | None = None,
                         filters: list[FilterInput] | None = None, interval: str = "day") -> list[t.TimePoint]:
        read, days = await _context(self, info, start_at, end_at, filters)
        caller = await info.context.authorize(CORE, self.project_uuid, Action.READ)
        parsed = to_filters(filters)
        points = await service.timeseries(
            read=read, days=days, interval=interval,
            hours=lambda span: hourly(info.context.session, caller.project, parsed, span))
        return [t.TimePoint(date=p.date, pageviews=p.pageviews, visitors=p.visitors, sessions=p.sessions)
                for p in points]

    @strawberry.field(permission_classes=core)
    async def pages(self, info: Info, start_at: str | None = None, end_at: str | None = None,
                    filters: list[FilterInput] | None = None, first: int = 10,
                    after: str | None = None) -> t.PageList:
        read, days = await _context(self, info, start_at, end_at, filters)
        window = Window.of(first, after)
        items, total = await service.pages(read=read, days=days, **window.bounds)
        data = [t.Page(path=p.path, views=p.views, unique_views=p.unique_views, avg_duration=p.avg_duration)
                for p in items]
        return t.PageList(data=data, **window.listing(len(data), total))

    @strawberry.field(permission_classes=core, description="Pages sessions began on.")
    async def entry_pages(self, info: Info, start_at: str | None = None, end_at: str | None = None,
                          filters: list[FilterInput] | None = None, first: int = 10,
                          after: str | None = None) -> t.EntryPageList:
        read, days = await _context(self, info, start_at, end_at, filters)
        window = Window.of(first, after)
        items, total = await service.entry_pages(read=read, days=days, **window.bounds)
        data = [t.EntryPage(path=p.path, entrances=p.entrances, bounce_rate=p.bounce_rate,
                            avg_duration=p.avg_duration) for p in items]
        return t.EntryPageList(data=data, **window.listing(len(data), total))

    @strawberry.field(permission_classes=core, description="Pages sessions ended on.")
    async def exit_pages(self, info: Info, start_at: str | None = None, end_at: str | None = None,
                         filters: list[FilterInput] | None = None, first: int = 10,
                         after: str | None = None) -> t.ExitPageList:
        read, days = await _context(self, info, start_at, end_at, filters)
        window = Window.of(first, after)
        items, total = await service.exit_pages(read=read, days=days, **window.bounds)
        data = [t.ExitPage(path=p.path, exits=p.exits, exit_rate=p.exit_rate) for p in items]
        return t.ExitPageList(data=data, **window.listing(len(data), total))

    @strawberry.field(permission_classes=core)
    async def referrers(self, info: Info, start_at: str | None = None, end_at: str | None = None,
                        filters: list[FilterInput] | None = None, first: int = 10,
                        after: str | None = None) -> t.SourceList:
        read, days = await _context(self, info, start_at, end_at, filters)
        window = Window.of(first, after)
        items, total = await service.referrers(read=read, days=days, **window.bounds)
        data = [t.Source(source=s.source, visitors=s.visitors, pageviews=s.pageviews) for s in items]
        return t.SourceList(data=data, **window.listing(len(data), total))

    @strawberry.field(permission_classes=core)
    async def events(self, info: Info, start_at: str | None = None, end_at: str | None = None,
                     filters: list[FilterInput] | None = None, first: int = 10,
                     after: str | None = None) -> t.EventList:
        read, days = await _context(self, info, start_at, end_at, filters)
        window = Window.of(first, after)
        items, total = await service.events(read=read, days=days, **window.bounds)
        data = [t.EventCount(name=e.name, count=e.count, unique=e.unique) for e in items]
        return t.EventList(data=data, **window.listing(len(data), total))

    @strawberry.field(permission_classes=core, description="The `first` browsers, systems and device types.")
    async def devices(self, info: Info, start_at: str | None = None, end_at: str | None = None,
                      filters: list[FilterInput] | None = None, first: int = 10) -> t.Devices:
        read, days = await _context(self, info, start_at, end_at, filters)
        groups = await service.devices(read=read, days=days, limit=Window.of(first, None).limit)
        return t.Devices(browsers=_shares(groups["browsers"]),
                         operating_systems=_shares(groups["operating_systems"]),
                         device_types=_shares(groups["device_types"]))

    @strawberry.field(permission_classes=core, description="Visitors by country (ISO 3166 alpha-2).")
    async def geo(self, info: Info, start_at: str | None = None, end_at: str | None = None,
                  filters: list[FilterInput] | None = None, first: int = 10,
                  after: str | None = None) -> t.ShareList:
        return await _breakdown(self, info, "country", start_at, end_at, filters, first, after)

    @strawberry.field(permission_classes=core,
                      description="Visitors by channel (Direct, Organic Search, Organic Social, Referral, ...).")
    async def channels(self, info: Info, start_at: str | None = None, end_at: str | None = None,
                       filters: list[FilterInput] | None = None, first: int = 10,
                       after: str | None = None) -> t.ShareList:
        return await _breakdown(self, info, "channel", start_at, end_at, filters, first, after)

    @strawberry.field(permission_classes=core, description="Distinct visitors active in the last five minutes.")
    async def realtime(self, info: Info) -> t.Realtime:
        caller = await info.context.authorize(CORE, self.project_uuid, Action.READ)
        active = await service.realtime(session=info.context.session, project_id=caller.project_id,
                                        now=datetime.now(UTC))
        return t.Realtime(active_visitors=active)
