"""/api/v1/funnels: saved funnels, as the API reference shows them, and their analysis."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query, Response

from pulse.auth import Caller, need
from pulse.definitions import JsonObject, Paging, listing
from pulse.deps import SessionDep, requires
from pulse.modules.funnels import service
from pulse.modules.funnels.tables import Funnel
from pulse.query.filters import parse as parse_filters
from pulse.reports import EndAt, Filters, SegmentParam, SegmentSets, StartAt, days_for, with_segment
from pulse.timestamps import iso_utc

router = APIRouter(prefix="/api/v1/funnels", tags=["funnels"])
# GET reads the module, POST, PUT and DELETE write it (the module's access level decides).
Funnels = Annotated[Caller, requires(need("funnels", "query"))]
RANGE = "Over the range (`start_at`, `end_at`: the project's days, both included; default the last 30 days)."
WindowParam = Annotated[str | None, Query(description="The conversion window from the step-1 occurrence: a "
                                                      "number and a unit (m, h, d, w), default 14d.")]
OrderParam = Annotated[str | None, Query(description="ordered (default), strict or unordered.")]
ExcludeParam = Annotated[list[str] | None, Query(description="pageview:/path or event:name, optionally @A-B "
                                                             "(between steps A and B); repeatable or a comma list.")]
BreakdownParam = Annotated[str | None, Query(description=f"{', '.join(service.BREAKDOWNS)} or trait:NAME, of the "
                                                         "session of the visitor's step-1 occurrence.")]


def funnel_json(funnel: Funnel) -> dict:
    """A funnel as the reference shows it, with its steps."""
    return {"id": service.FUNNELS.public_id(funnel), "name": funnel.name, "steps": funnel.steps,
            "created_at": iso_utc(funnel.created_at)}


def listed_json(funnel: Funnel) -> dict:
    """A funnel in the list, as the reference shows it: `steps` is how many there are."""
    return {**funnel_json(funnel), "steps": len(funnel.steps)}


def analysis_json(analysis: service.FunnelAnalysis) -> dict:
    """The reference's analysis (with each step's time to convert), and `breakdown` only when asked for."""
    shown = asdict(analysis)
    if shown["breakdown"] is None:
        del shown["breakdown"]
    return shown


@router.get("", description="Saved funnels, newest first; `steps` is the number of steps.")
async def list_funnels(caller: Funnels, window: Paging, session: SessionDep) -> dict:
    return listing(*await service.list_funnels(session=session, project_id=caller.project_id, window=window),
                   listed_json)


@router.post("", status_code=201, description="Save a funnel: `name` and 2 to 20 `steps`, each `{type: pageview "
                                              "| event, value, label?}`.")
async def create_funnel(caller: Funnels, body: JsonObject, session: SessionDep) -> dict:
    return funnel_json(await service.create_funnel(session=session, project_id=caller.project_id, body=body))


@router.get("/{funnel_id}")
async def get_funnel(funnel_id: str, caller: Funnels, session: SessionDep) -> dict:
    return funnel_json(await service.get_funnel(session=session, project_id=caller.project_id, funnel_id=funnel_id))


@router.put("/{funnel_id}", description="Change only the fields given: name, steps (replaced whole).")
async def update_funnel(funnel_id: str, caller: Funnels, body: JsonObject, session: SessionDep) -> dict:
    return funnel_json(await service.update_funnel(session=session, project_id=caller.project_id,
                                                   funnel_id=funnel_id, body=body))


@router.delete("/{funnel_id}", status_code=204)
async def delete_funnel(funnel_id: str, caller: Funnels, session: SessionDep) -> Response:
    await service.delete_funnel(session=session, project_id=caller.project_id, funnel_id=funnel_id)
    return Response(status_code=204)


@router.get("/{funnel_id}/analyze", description=f"Visitors, drop-off and conversion at each step. {RANGE}")
async def analyze_funnel(funnel_id: str, caller: Funnels, session: SessionDep, start_at: StartAt = None,
                         end_at: EndAt = None, window: WindowParam = None, order: OrderParam = None,
                         exclude: ExcludeParam = None, breakdown: BreakdownParam = None,
                         segment: SegmentParam = None, filters: Filters = None) -> dict:
    days = days_for(caller, start_at, end_at)
    chosen = with_segment(parse_filters(filters or []), segment)
    members = await service.members_of(SegmentSets(caller, session), chosen, days)
    return analysis_json(await service.analyze(session=session, project=caller.project, funnel_id=funnel_id,
                                               days=days, window=window, order=order, exclude=exclude,
                                               breakdown=breakdown, members=members))
