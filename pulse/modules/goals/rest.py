"""/api/v1/goals: saved conversion goals, as the API reference shows them, and their stats."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Response

from pulse.auth import Caller, need
from pulse.definitions import JsonObject, Paging, listing
from pulse.deps import SessionDep, requires
from pulse.modules.goals import service
from pulse.modules.goals.tables import Goal
from pulse.reports import EndAt, StartAt, days_for
from pulse.timestamps import iso_utc

router = APIRouter(prefix="/api/v1/goals", tags=["goals"])
# GET reads the module, POST, PUT and DELETE write it (the module's access level decides).
Goals = Annotated[Caller, requires(need("goals", "query"))]
RANGE = "Over the range (`start_at`, `end_at`: the project's days, both included; default the last 30 days)."


def goal_json(goal: Goal) -> dict:
    """A goal as the reference shows it."""
    return {"id": service.GOALS.public_id(goal), "name": goal.name, "goal_type": goal.goal_type,
            "config": goal.config, "created_at": iso_utc(goal.created_at)}


def stats_json(stats: service.GoalStats) -> dict:
    """The reference's stats, and `revenue_by_currency` only when the events carry several currencies."""
    shown = asdict(stats)
    if shown["revenue_by_currency"] is None:
        del shown["revenue_by_currency"]
    return shown


@router.get("", description="Saved goals, newest first.")
async def list_goals(caller: Goals, window: Paging, session: SessionDep) -> dict:
    return listing(*await service.list_goals(session=session, project_id=caller.project_id, window=window),
                   goal_json)


@router.post("", status_code=201, description="Save a goal: `name`, `goal_type` (pageview, event, duration or "
                                              "pages_per_session) and the type's `config`.")
async def create_goal(caller: Goals, body: JsonObject, session: SessionDep) -> dict:
    return goal_json(await service.create_goal(session=session, project_id=caller.project_id, body=body))


@router.get("/{goal_id}")
async def get_goal(goal_id: str, caller: Goals, session: SessionDep) -> dict:
    return goal_json(await service.get_goal(session=session, project_id=caller.project_id, goal_id=goal_id))


@router.put("/{goal_id}", description="Change only the fields given: name, goal_type, config (a new type needs a "
                                      "config that fits it).")
async def update_goal(goal_id: str, caller: Goals, body: JsonObject, session: SessionDep) -> dict:
    return goal_json(await service.update_goal(session=session, project_id=caller.project_id, goal_id=goal_id,
                                               body=body))


@router.delete("/{goal_id}", status_code=204)
async def delete_goal(goal_id: str, caller: Goals, session: SessionDep) -> Response:
    await service.delete_goal(session=session, project_id=caller.project_id, goal_id=goal_id)
    return Response(status_code=204)


@router.get("/{goal_id}/stats", description=f"Conversions, converting visitors, revenue and conversion rate. {RANGE}")
async def goal_stats(goal_id: str, caller: Goals, session: SessionDep, start_at: StartAt = None,
                     end_at: EndAt = None) -> dict:
    return stats_json(await service.stats(session=session, project=caller.project, goal_id=goal_id,
                                          days=days_for(caller, start_at, end_at)))
