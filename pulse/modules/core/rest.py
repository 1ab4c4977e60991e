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

router = APIRouter(prefix="/api/v1", tags=["core"])
CoreQuery = Annotated[Caller, requires(need("core", "query"))]


@router.get("/realtime")
async def realtime(caller: CoreQuery, session: SessionDep) -> dict:
    return asdict(await service.realtime(session=session, project_id=caller.project_id, now=datetime.now(UTC)))
