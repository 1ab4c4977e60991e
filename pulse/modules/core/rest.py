"""/api/v1/realtime, the one core route that is not a report over days (those are declared in
reports.py)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter

from pulse.auth import Caller, need
from pulse.deps import SessionDep, requires
from pulse.modules.core import service
from pulse.reports import EndAt, StartAt, UnpagedLimit, UnpagedOffset

router = APIRouter(prefix="/api/v1", tags=["core"])
CoreQuery = Annotated[Caller, requires(need("core", "query"))]


# The reference gives every core endpoint start_at, end_at, limit and offset: realtime takes them and,
# answering for the last five minutes, has no use for them.
@router.get("/realtime")
async def realtime(caller: CoreQuery, session: SessionDep, start_at: StartAt = None, end_at: EndAt = None,
                   limit: UnpagedLimit = 10, offset: UnpagedOffset = 0) -> dict:
    return asdict(await service.realtime(session=session, project_id=caller.project_id, now=datetime.now(UTC)))
