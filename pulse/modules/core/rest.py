"""/api/v1 core analytics, shaped exactly as the API reference shows."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter

from pulse.auth import Caller, need
from pulse.deps import SessionDep, requires
from pulse.modules.core import service
from pulse.query.report import EndAt, Filters, Limit, Offset, StartAt, rest_report

router = APIRouter(prefix="/api/v1", tags=["core"])
CoreQuery = Annotated[Caller, requires(need("core", "query"))]


@router.get("/stats")
async def stats(caller: CoreQuery, session: SessionDep, start_at: StartAt = None, end_at: EndAt = None,
                filters: Filters = None) -> dict:
    report = rest_report(caller, session, start_at, end_at, filters)
    current, previous = await service.stats(**report.inputs)
    return {"current": asdict(current), "previous": asdict(previous)}


@router.get("/stats/timeseries")
async def timeseries(caller: CoreQuery, session: SessionDep, start_at: StartAt = None, end_at: EndAt = None,
                     filters: Filters = None, interval: str = "day") -> dict:
    report = rest_report(caller, session, start_at, end_at, filters)
    points = await service.timeseries(**report.inputs, interval=interval, hours=report.hours)
    return {"data": [asdict(p) for p in points]}


@router.get("/pages")
async def pages(caller: CoreQuery, session: SessionDep, start_at: StartAt = None, end_at: EndAt = None,
                filters: Filters = None, limit: Limit = 10, offset: Offset = 0) -> dict:
    report = rest_report(caller, session, start_at, end_at, filters)
    items, total = await service.pages(**report.inputs, limit=limit, offset=offset)
    return {"data": [asdict(p) for p in items], "total": total}


@router.get("/pages/entry")
async def entry_pages(caller: CoreQuery, session: SessionDep, start_at: StartAt = None, end_at: EndAt = None,
                      filters: Filters = None, limit: Limit = 10, offset: Offset = 0) -> dict:
    report = rest_report(caller, session, start_at, end_at, filters)
    items, total = await service.entry_pages(**report.inputs, limit=limit, offset=offset)
    return {"data": [asdict(p) for p in items], "total": total}


@router.get("/pages/exit")
async def exit_pages(caller: CoreQuery, session: SessionDep, start_at: StartAt = None, end_at: EndAt = None,
                     filters: Filters = None, limit: Limit = 10, offset: Offset = 0) -> dict:
    report = rest_report(caller, session, start_at, end_at, filters)
    items, total = await service.exit_pages(**report.inputs, limit=limit, offset=offset)
    return {"data": [asdict(p) for p in items], "total": total}


@router.get("/channels")
async def channels(caller: CoreQuery, session: SessionDep, start_at: StartAt = None, end_at: EndAt = None,
                   filters: Filters = None, limit: Limit = 10, offset: Offset = 0) -> dict:
    report = rest_report(caller, session, start_at, end_at, filters)
    items, total = await service.breakdown(**report.inputs, dimension="channel", limit=limit, offset=offset)
    return {"data": [{"channel": s.name, "visitors": s.visitors, "percentage": s.percentage} for s in items],
            "total": total}


@router.get("/referrers")
async def referrers(caller: CoreQuery, session: SessionDep, start_at: StartAt = None, end_at: EndAt = None,
                filters: Filters = None, limit: Limit = 10, offset: Offset = 0) -> dict:
    report = rest_report(caller, session, start_at, end_at, filters)
    items, total = await service.referrers(**report.inputs, limit=limit, offset=offset)
    return {"data": [asdict(s) for s in items], "total": total}


@router.get("/events")
async def events(caller: CoreQuery, session: SessionDep, start_at: StartAt = None, end_at: EndAt = None,
                filters: Filters = None, limit: Limit = 10, offset: Offset = 0) -> dict:
    report = rest_report(caller, session, start_at, end_at, filters)
    items, total = await service.events(**report.inputs, limit=limit, offset=offset)
    return {"data": [asdict(e) for e in items], "total": total}


@router.get("/devices")
async def devices(caller: CoreQuery, session: SessionDep, start_at: StartAt = None, end_at: EndAt = None,
                filters: Filters = None, limit: Limit = 10) -> dict:
    report = rest_report(caller, session, start_at, end_at, filters)
    groups = await service.devices(**report.inputs, limit=limit)
    return {name: [asdict(s) for s in shares] for name, shares in groups.items()}


@router.get("/geo")
async def geo(caller: CoreQuery, session: SessionDep, start_at: StartAt = None, end_at: EndAt = None,
                filters: Filters = None, limit: Limit = 10, offset: Offset = 0) -> dict:
    report = rest_report(caller, session, start_at, end_at, filters)
    items, total = await service.breakdown(**report.inputs, dimension="country", limit=limit, offset=offset)
    return {"data": [{"country": s.name, "visitors": s.visitors, "percentage": s.percentage} for s in items],
            "total": total}


@router.get("/realtime")
async def realtime(caller: CoreQuery, session: SessionDep) -> dict:
    active = await service.realtime(session=session, project_id=caller.project_id, now=datetime.now(UTC))
    return {"active_visitors": active}
