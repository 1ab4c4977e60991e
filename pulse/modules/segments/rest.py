"""/api/v1/segments: saved segments, as the API reference shows them, and what they answer."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query, Response

from pulse.auth import Caller, need
from pulse.definitions import JsonObject, Paging, listing
from pulse.deps import SessionDep, requires
from pulse.modules.segments import service
from pulse.modules.segments.tables import Segment
from pulse.reports import EndAt, StartAt, days_for

router = APIRouter(prefix="/api/v1/segments", tags=["segments"])
# GET reads the module, POST, PUT and DELETE write it (the module's access level decides).
Segments = Annotated[Caller, requires(need("segments", "query"))]
RANGE = "Over the range (`start_at`, `end_at`: the project's days, both included; default the last 30 days)."


def segment_json(segment: Segment) -> dict:
    """A segment as the reference shows it."""
    return {"id": service.SEGMENTS.public_id(segment), "name": segment.name, "description": segment.description,
            "definition": segment.definition, "is_active": segment.is_active}


@router.get("", description="Saved segments, newest first.")
async def list_segments(caller: Segments, window: Paging, session: SessionDep) -> dict:
    return listing(*await service.list_segments(session=session, project_id=caller.project_id, window=window),
                   segment_json)


@router.post("", status_code=201, description="Save a segment: `name` and `definition` required, `description` "
                                              "and `is_active` (default true) optional.")
async def create_segment(caller: Segments, body: JsonObject, session: SessionDep) -> dict:
    return segment_json(await service.create_segment(session=session, project_id=caller.project_id, body=body))


@router.get("/compare", description="Each segment's visitors, sessions, pageviews, events, bounce rate and mean "
                                    f"session duration. {RANGE}")
async def compare_segments(caller: Segments, session: SessionDep, segment_ids: Annotated[str | None, Query(
        description=f"Comma-separated segment ids, 1 to {service.MAX_COMPARE}.")] = None,
        start_at: StartAt = None, end_at: EndAt = None) -> dict:
    days = days_for(caller, start_at, end_at)
    rows = await service.compare(session=session, project=caller.project, ids=service.segment_ids(segment_ids),
                                 days=days)
    return {"data": [asdict(row) for row in rows]}


@router.get("/{segment_id}")
async def get_segment(segment_id: str, caller: Segments, session: SessionDep) -> dict:
    return segment_json(await service.get_segment(session=session, project_id=caller.project_id,
                                                  segment_id=segment_id))


@router.put("/{segment_id}", description="Change only the fields given: name, description, definition, is_active.")
async def update_segment(segment_id: str, caller: Segments, body: JsonObject, session: SessionDep) -> dict:
    return segment_json(await service.update_segment(session=session, project_id=caller.project_id,
                                                     segment_id=segment_id, body=body))


@router.delete("/{segment_id}", status_code=204)
async def delete_segment(segment_id: str, caller: Segments, session: SessionDep) -> Response:
    await service.delete_segment(session=session, project_id=caller.project_id, segment_id=segment_id)
    return Response(status_code=204)


@router.get("/{segment_id}/evaluate", description="The range's visitors who match: how many, and their ids by "
                                                  f"visitor number (the order Pulse first saw them). {RANGE}")
async def evaluate_segment(
        segment_id: str, caller: Segments, session: SessionDep, start_at: StartAt = None, end_at: EndAt = None,
        limit: Annotated[int, Query(description=f"Visitor ids to return (at most {service.MAX_EVALUATE_LIMIT}).")]
        = service.DEFAULT_EVALUATE_LIMIT,
        offset: Annotated[int, Query(description="Visitor ids to skip.")] = 0) -> dict:
    return asdict(await service.evaluate(session=session, project=caller.project, segment_id=segment_id,
                                         days=days_for(caller, start_at, end_at), limit=limit, offset=offset))


@router.get("/{segment_id}/breakdown", description="The segment's visitors by one property, most visitors first. "
                                                   f"{RANGE}")
async def breakdown_segment(
        segment_id: str, caller: Segments, session: SessionDep,
        prop: Annotated[str, Query(alias="property", description="country, device, browser, os, path, event, or "
                                                                 "trait:NAME (an identity trait).")],
        start_at: StartAt = None, end_at: EndAt = None,
        limit: Annotated[int, Query(description=f"Values to return (at most {service.MAX_BREAKDOWN_LIMIT}).")]
        = service.DEFAULT_BREAKDOWN_LIMIT) -> dict:
    rows = await service.breakdown(session=session, project=caller.project, segment_id=segment_id, prop=prop,
                                   days=days_for(caller, start_at, end_at), limit=limit)
    return {"data": [asdict(row) for row in rows]}
