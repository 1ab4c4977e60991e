"""UTM reports as fields of `Project`; their rollup reads join the request's one batch."""

from __future__ import annotations

from uuid import UUID

import strawberry
from strawberry.types import Info

from pulse.auth import need
from pulse.graphql.filters import FilterInput, to_filters
from pulse.graphql.paging import Window
from pulse.graphql.permissions import allow
from pulse.modules.utm import service
from pulse.modules.utm import types as t
from pulse.query.report import Report, graphql_context

UTM = need("utm", "query")
utm = [allow(UTM)]


async def _context(root, info: Info, start_at: str | None, end_at: str | None,
                   filters: list[FilterInput] | None) -> Report:
    return await graphql_context(root.project_uuid, info, UTM, start_at, end_at, to_filters(filters))


@strawberry.type
class UtmReports:
    """Mixed into `Project`."""

    project_uuid: strawberry.Private[UUID]

    @strawberry.field(permission_classes=utm, description="Campaigns (utm_campaign) by visitors.")
    async def campaigns(self, info: Info, start_at: str | None = None, end_at: str | None = None,
                        filters: list[FilterInput] | None = None, first: int = 10,
                        after: str | None = None) -> t.CampaignList:
        report = await _context(self, info, start_at, end_at, filters)
        window = Window.of(first, after)
        items, total = await service.campaigns(**report.inputs, **window.bounds)
        return t.CampaignList(data=[t.Campaign(campaign=c.campaign, visitors=c.visitors, pageviews=c.pageviews,
                                               bounce_rate=c.bounce_rate, avg_duration=c.avg_duration)
                                    for c in items], **window.listing(len(items), total))

    @strawberry.field(permission_classes=utm, description="UTM sources by visitors.")
    async def campaign_sources(self, info: Info, start_at: str | None = None, end_at: str | None = None,
                               filters: list[FilterInput] | None = None, first: int = 10,
                               after: str | None = None) -> t.UtmSourceList:
        report = await _context(self, info, start_at, end_at, filters)
        window = Window.of(first, after)
        items, total = await service.sources(**report.inputs, **window.bounds)
        return t.UtmSourceList(data=[t.UtmSource(source=s.source, visitors=s.visitors, pageviews=s.pageviews)
                                     for s in items], **window.listing(len(items), total))

    @strawberry.field(permission_classes=utm, description="UTM mediums by visitors.")
    async def campaign_mediums(self, info: Info, start_at: str | None = None, end_at: str | None = None,
                               filters: list[FilterInput] | None = None, first: int = 10,
                               after: str | None = None) -> t.UtmMediumList:
        report = await _context(self, info, start_at, end_at, filters)
        window = Window.of(first, after)
        items, total = await service.mediums(**report.inputs, **window.bounds)
        return t.UtmMediumList(data=[t.UtmMedium(medium=m.medium, visitors=m.visitors, pageviews=m.pageviews)
                                     for m in items], **window.listing(len(items), total))

    @strawberry.field(permission_classes=utm, description="One utm_source per day, every day of the range.")
    async def campaign_timeseries(self, info: Info, utm_source: str, start_at: str | None = None,
                                  end_at: str | None = None,
                                  filters: list[FilterInput] | None = None) -> list[t.CampaignPoint]:
        report = await _context(self, info, start_at, end_at, filters)
        points = await service.timeseries(**report.inputs, utm_source=utm_source)
        return [t.CampaignPoint(date=p.date, visitors=p.visitors, pageviews=p.pageviews, sessions=p.sessions)
                for p in points]
