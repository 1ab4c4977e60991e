"""GET /api/v1/exports/{type}: a report as a CSV download (`text/csv`, Content-Disposition
`attachment; filename="<type>_<first day>_<last day>.csv"`).

The caller needs the exports module (declared on the route) and the module whose report it
exports: core for stats, pages, referrers, events, devices and geo; utm for campaigns. The
second is checked inside the route with the same `check` the declarations use, because it
depends on the path; so exporting campaigns with utm disabled answers 403 "Module 'utm' is not
enabled for this project.", exactly as /api/v1/campaigns does.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import StreamingResponse

from pulse.auth import Caller, need
from pulse.deps import RuntimeDep, SessionDep, requires
from pulse.modules.exports import service
from pulse.modules.registry import Action
from pulse.reports import EndAt, Filters, SegmentParam, StartAt, rest_context

router = APIRouter(prefix="/api/v1", tags=["exports"])
ExportsQuery = Annotated[Caller, requires(need("exports", "query"))]

Limit = Annotated[int, Query(ge=1, le=service.MAX_LIMIT, description="Rows of a list (each group of devices).")]


@router.get("/exports/{type}", response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {}}, "description": "The report as CSV."}})
async def export(kind: Annotated[str, Path(alias="type", description="A report's name: stats, pages, referrers, "
                                            "events, devices, geo, campaigns, ... (unknown: 404 listing them)")],
                 caller: ExportsQuery, runtime: RuntimeDep, session: SessionDep, start_at: StartAt = None,
                 end_at: EndAt = None, filters: Filters = None, segment: SegmentParam = None,
                 limit: Limit = service.DEFAULT_LIMIT) -> StreamingResponse:
    found = service.find(kind)
    runtime.access.check(caller, need(found.module, "query"), Action.READ)
    reading = await rest_context(caller, session, start_at, end_at, filters, segment)
    columns, rows = await service.rows(found, reading, limit=limit)
    return StreamingResponse(service.csv_chunks(columns, rows), media_type="text/csv",
                             headers={"Content-Disposition":
                                      f'attachment; filename="{service.filename(kind, reading.days)}"'})
