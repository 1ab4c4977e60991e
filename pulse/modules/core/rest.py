"""/api/v1 core analytics, shaped exactly as the API reference shows."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter

from pulse.auth import Caller, need
from pulse.deps import SessionDep, requires
from pulse.modules.core import service
from pulse.query.filters import parse as parse_filters
from pulse.query.raw import hourly
from pulse.query.report import EndAt, Filters, Limit, Offset, StartAt, rest_context, rest_report

router = APIRouter(prefix="/api/v1", tags=["core"])
CoreQuery = Annotated[Caller, requires(need("core", "query"))]


@router.get("/stats")
async def stats(caller: CoreQuery, session: SessionDep, start_at: StartAt = None, end_at: EndAt = None,
                filters: Filters = None) -> dict:
    read, days = rest_report(caller, session, start_at, end_at, filters)
    current, previous = await service.stats(read=read, days=days)
    return {"current": asdict(current), "previous": asdict(previous)}


@router.get("/stats/timeseries")
async def timeseries(caller: CoreQuery, session: SessionDep, start_at: StartAt = None, end_at: EndAt = None,
                     filters: Filters = None, interval: str = "day") -> dict:
    parsed = parse_filters(filters or [])
    read, days = rest_context(caller, session, start_at, end_at, parsed)
    points = await service.timeseries(read=read, days=days, interval=interval,
                                      hours=lambda span: hourly(session, caller.project, parsed, span))
    return {"data": [asdict(p) for p in points]}


@router.get("/pages")
async def pages(caller: CoreQuery, session: SessionDep, start_at: StartAt = None, end_at: EndAt = None,
                filters: Filters = None, limit: Limit = 10, offset: Offset = 0) -> dict:
    read, days = rest_report(caller, session, start_at, end_at, filters)
    items, total = await service.pages(read=read, days=days, limit=limit, offset=offset)
    return {"data": [asdict(p) for p in items], "total": total}


@router.get("/pages/entry")
async def entry_pages(caller: CoreQuery, session: SessionDep, start_at: StartAt = None, end_at: EndAt = None,
                      filters: Filters = None, limit: Limit = 10, offset: Offset = 0) -> dict:
    read, days = rest_report(caller, session, start_at, end_at, filters)
    items, total = await service.entry_pages(read=read, days=days, limit=limit, offset=offset)
    return {"data": [asdict(p) for p in items], "total": total}


@router.get("/pages/exit")
async def exit_pages(caller: CoreQuery, session: SessionDep, start_at: StartAt = None, end_at: EndAt = None,
                     filters: Filters = None, limit: Limit = 10, offset: Offset = 0) -> dict:
    read, days = rest_report(caller, session, start_at, end_at, filters)
    items, total = await service.exit_pages(read=read, days=days, limit=limit, offset=offset)
    return {"data": [asdict(p) for p in items], "total": total}


@router.get("/channels")
async def channels(caller: CoreQuery, session: SessionDep, start_at: StartAt = None, end_at: EndAt = None,
                   filters: Filters = None, limit: Limit = 10, offset: Offset = 0) -> dict:
    read, days = rest_report(caller, session, start_at, end_at, filters)
    items, total = await service.breakdown(read=read, days=days, dimension="channel", limit=limit, offset=offset)
    return {"data": [{"channel": s.name, "visitors": s.visitors, "percentage": s.percentage} for s in items],
            "total": total}


@router.get("/referrers")
async def referrers(caller: CoreQuery, session: SessionDep, start_at: StartAt = None, end_at: EndAt = None,
                filters: Filters = None, limit: Limit = 10, offset: Offset = 0) -> dict:
    read, days = rest_report(caller, session, start_at, end_at, filters)
    items, total = await service.referrers(read=read, days=days, limit=limit, offset=offset)
    return {"data": [asdict(s) for s in items], "total": total}


@router.get("/events")
async def events(caller: CoreQuery, session: SessionDep, start_at: StartAt = None, end_at: EndAt = None,
                filters: Filters = None, limit: Limit = 10, offset: Offset = 0) -> dict:
    read, days = rest_report(caller, session, start_at, end_at, filters)
    items, total = await service.events(read=read, days=days, limit=limit, offset=offset)
    return {"data": [asdict(e) for e in items], "total": total}


@router.get("/devices")
async def devices(caller: CoreQuery, session: SessionDep, start_at: StartAt = None, end_at: EndAt = None,
                filters: Filters = None, limit: Limit = 10) -> dict:
    read, days = rest_report(caller, session, start_at, end_at, filters)
    groups = await service.devices(read=read, days=days, limit=limit)
    return {name: [asdict(s) for s in shares] for name, shares in groups.items()}


@router.get("/geo")
async def geo(caller: CoreQuery, session: SessionDep, start_at: StartAt = None, end_at: EndAt = None,
                filters: Filters = None, limit: Limit = 10, offset: Offset = 0) -> dict:
    read, days = rest_report(caller, session, start_at, end_at, filters)
    items, total = await service.breakdown(read=read, days=days, dimension="country", limit=limit, offset=offset)
    return {"data": [{"country": s.name, "visitors": s.visitors, "percentage": s.percentage} for s in items],
            "total": total}


@router.get("/realtime")
async def realtime(caller: CoreQuery, session: SessionDep) -> dict:
    active = await service.realtime(session=session, project_id=caller.project_id, now=datetime.now(UTC))
    return {"active_visitors": active}
