"""/api/v1/privacy (admin-key): settings, and the visitor's rights (DSAR export and delete)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body
from fastapi.responses import JSONResponse, StreamingResponse

from pulse.auth import PROJECT_ADMIN, Caller
from pulse.deps import RuntimeDep, SessionDep, requires
from pulse.privacy import dsar, service

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


@router.get("/visitors/{visitor_id}/export")
async def export_visitor(visitor_id: str, caller: ProjectAdmin, runtime: RuntimeDep,
                         session: SessionDep) -> StreamingResponse:
    """Everything Pulse holds about the visitor, as one JSON document (streamed)."""
    visitor_id = dsar.visitor_id_of(visitor_id)
    chunks = await dsar.export(runtime.engine, caller.project_id, visitor_id)
    await dsar.audit_export(session, caller, visitor_id)
    return StreamingResponse(chunks, media_type="application/json",
                             headers={"Content-Disposition": 'attachment; filename="visitor-export.json"'})


@router.delete("/visitors/{visitor_id}")
async def delete_visitor(visitor_id: str, caller: ProjectAdmin, runtime: RuntimeDep) -> JSONResponse:
    """Delete the visitor's rows everywhere and take them out of every report: 200 with the rows
    deleted per table, or 202 while the writer has yet to reach the request."""
    done, answer = await dsar.delete(runtime, caller, dsar.visitor_id_of(visitor_id))
    return JSONResponse(answer, status_code=200 if done else 202)
