"""GET/PUT /api/v1/privacy/settings (admin-key)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from pulse.auth import PROJECT_ADMIN, Caller
from pulse.deps import SessionDep, requires
from pulse.privacy import service

router = APIRouter(prefix="/api/v1/privacy", tags=["privacy"])
ProjectAdmin = Annotated[Caller, requires(PROJECT_ADMIN)]


@router.get("/settings")
async def get_settings(caller: ProjectAdmin, session: SessionDep) -> dict:
    return (await service.get_settings(session=session, project_id=caller.project_id)).as_dict()


@router.put("/settings")
async def update_settings(caller: ProjectAdmin, session: SessionDep, body: dict[str, Any] = Body(...)) -> dict:
    updated = await service.update_settings(session=session, project_id=caller.project_id, changes=body,
                                           caller=caller)
    return updated.as_dict()
