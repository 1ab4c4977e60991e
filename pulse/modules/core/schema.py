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
from pulse.query.report import Report, graphql_context

CORE = need("core", "query")
core = [allow(CORE)]


async def _context(root, info: Info, start_at: str | None, end_at: str | None,
                   filters: list[FilterInput] | None) -> Report:
    return await graphql_context(root.project_uuid, info, CORE, start_at, end_at, to_filters(filters))


def _shares(items: list[service.Share]) -> list[t.Share]:
    return [t.Share(name=s.name, visitors=s.visitors, percentage=s.percentage) for s in items]


async def _breakdown(root, info: Info, dimension: str, start_at: str | None, end_at: str | None,
                     filters: list[FilterInput] | None, first: int, after: str | None) -> t.ShareList:
    report = await _context(root, info, start_at, end_at, filters)
    window = Window.of(first, after)
    items, total = await service.breakdown(**report.inputs, dimension=dimension, **window.bounds)
    return t.ShareList(data=_shares(items), **window.listing(len(items), total))


@strawberry.type
class CoreReports:
    """Mixed into `Project`."""

    project_uuid: strawberry.Private[UUID]

    @strawberry.field(permission_classes=core, description="Overview with the previous period's numbers.")
    async def stats(self, info: Info, start_at: str | None = None, end_at: str | None = None,
                    filters: list[FilterInput] | None = None) -> t.StatsComparison:
        report = await _context(self, info, start_at, end_at, filters)
        current, previous = await service.stats(**report.inputs)
        return t.StatsComparison(current=t.Summary.of(current), previous=t.Summary.of(previous))

    @strawberry.field(permission_classes=core, description="interval: hour, day, week or month.")
    async def timeseries(self, info: Info, start_at: str | None = None, end_at: str | None = None,
                         filters: list[FilterInput] | None = None, interval: str = "day") -> list[t.TimePoint]:
        report = await _context(self, info, start_at, end_at, filters)
        points = await service.timeseries(**report.inputs, interval=interval, hours=report.hours)
        return [t.TimePoint(date=p.date, pageviews=p.pageviews, visitors=p.visitors, sessions=p.sessions)
                for p in points]

    @strawberry.field(permission_classes=core)
    async def pages(self, info: Info, start_at: str | None = None, end_at: str | None = None,
                    filters: list[FilterInput] | None = None, first: int = 10,
                    after: str | None = None) -> t.PageList:
        report = await _context(self, info, start_at, end_at, filters)
        window = Window.of(first, after)
        items, total = await service.pages(**report.inputs, **window.bounds)
        data = [t.Page(path=p.path, views=p.views, unique_views=p.unique_views, avg_duration=p.avg_duration)
                for p in items]
        return t.PageList(data=data, **window.listing(len(data), total))

    @strawberry.field(permission_classes=core, description="Pages sessions began on.")
    async def entry_pages(self, info: Info, start_at: str | None = None, end_at: str | None = None,
                          filters: list[FilterInput] | None = None, first: int = 10,
                          after: str | None = None) -> t.EntryPageList:
        report = await _context(self, info, start_at, end_at, filters)
        window = Window.of(first, after)
        items, total = await service.entry_pages(**report.inputs, **window.bounds)
        data = [t.EntryPage(path=p.path, entrances=p.entrances, bounce_rate=p.bounce_rate,
                            avg_duration=p.avg_duration) for p in items]
        return t.EntryPageList(data=data, **window.listing(len(data), total))

    @strawberry.field(permission_classes=core, description="Pages sessions ended on.")
    async def exit_pages(self, info: Info, start_at: str | None = None, end_at: str | None = None,
                         filters: list[FilterInput] | None = None, first: int = 10,
                         after: str | None = None) -> t.ExitPageList:
        report = await _context(self, info, start_at, end_at, filters)
        window = Window.of(first, after)
        items, total = await service.exit_pages(**report.inputs, **window.bounds)
        data = [t.ExitPage(path=p.path, exits=p.exits, exit_rate=p.exit_rate) for p in items]
        return t.ExitPageList(data=data, **window.listing(len(data), total))

    @strawberry.field(permission_classes=core)
    async def referrers(self, info: Info, start_at: str | None = None, end_at: str | None = None,
                        filters: list[FilterInput] | None = None, first: int = 10,
                        after: str | None = None) -> t.SourceList:
        report = await _context(self, info, start_at, end_at, filters)
        window = Window.of(first, after)
        items, total = await service.referrers(**report.inputs, **window.bounds)
        data = [t.Source(source=s.source, visitors=s.visitors, pageviews=s.pageviews) for s in items]
        return t.SourceList(data=data, **window.listing(len(data), total))

    @strawberry.field(permission_classes=core)
    async def events(self, info: Info, start_at: str | None = None, end_at: str | None = None,
                     filters: list[FilterInput] | None = None, first: int = 10,
                     after: str | None = None) -> t.EventList:
        report = await _context(self, info, start_at, end_at, filters)
        window = Window.of(first, after)
        items, total = await service.events(**report.inputs, **window.bounds)
        data = [t.EventCount(name=e.name, count=e.count, unique=e.unique) for e in items]
        return t.EventList(data=data, **window.listing(len(data), total))

    @strawberry.field(permission_classes=core, description="The `first` browsers, systems and device types.")
    async def devices(self, info: Info, start_at: str | None = None, end_at: str | None = None,
                      filters: list[FilterInput] | None = None, first: int = 10) -> t.Devices:
        report = await _context(self, info, start_at, end_at, filters)
        groups = await service.devices(**report.inputs, limit=Window.of(first, None).limit)
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
