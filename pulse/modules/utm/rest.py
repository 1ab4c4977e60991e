"""/api/v1/campaigns: UTM reports, shaped as the API reference shows them.

Lists add `total` (every value in the range, before `limit`/`offset`), as the core lists do. The
timeseries rows are the reference's `date`, `visitors` and `pageviews`.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query

from pulse.auth import Caller, need
from pulse.deps import SessionDep, requires
from pulse.modules.utm import service
from pulse.query.report import EndAt, Filters, Limit, Offset, StartAt, rest_report

router = APIRouter(prefix="/api/v1", tags=["utm"])
UtmQuery = Annotated[Caller, requires(need("utm", "query"))]


@router.get("/campaigns")
async def campaigns(caller: UtmQuery, session: SessionDep, start_at: StartAt = None, end_at: EndAt = None,
                    filters: Filters = None, limit: Limit = 10, offset: Offset = 0) -> dict:
    report = rest_report(caller, session, start_at, end_at, filters)
    items, total = await service.campaigns(**report.inputs, limit=limit, offset=offset)
    return {"data": [asdict(c) for c in items], "total": total}


@router.get("/campaigns/sources")
async def sources(caller: UtmQuery, session: SessionDep, start_at: StartAt = None, end_at: EndAt = None,
                  filters: Filters = None, limit: Limit = 10, offset: Offset = 0) -> dict:
    report = rest_report(caller, session, start_at, end_at, filters)
    items, total = await service.sources(**report.inputs, limit=limit, offset=offset)
    return {"data": [asdict(s) for s in items], "total": total}


@router.get("/campaigns/mediums")
async def mediums(caller: UtmQuery, session: SessionDep, start_at: StartAt = None, end_at: EndAt = None,
                  filters: Filters = None, limit: Limit = 10, offset: Offset = 0) -> dict:
    report = rest_report(caller, session, start_at, end_at, filters)
    items, total = await service.mediums(**report.inputs, limit=limit, offset=offset)
    return {"data": [asdict(m) for m in items], "total": total}


@router.get("/campaigns/timeseries")
async def timeseries(caller: UtmQuery, session: SessionDep, utm_source: Annotated[str | None, Query()] = None,
                     start_at: StartAt = None, end_at: EndAt = None, filters: Filters = None) -> dict:
    # utm_source is checked by the service (400), after the access check, as GraphQL's is.
    report = rest_report(caller, session, start_at, end_at, filters)
    points = await service.timeseries(**report.inputs, utm_source=utm_source)
    return {"data": [{"date": p.date.isoformat(), "visitors": p.visitors, "pageviews": p.pageviews}
                     for p in points]}
