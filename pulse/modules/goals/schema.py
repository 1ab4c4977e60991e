"""Goals on the GraphQL face: `Project.goals`, `goal` (with `stats`), and the mutations createGoal,
updateGoal and deleteGoal, over the same service and bodies as the REST routes (so the same answers
and messages)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from pulse.auth import need
from pulse.definitions import Connection, connection, given
from pulse.graphql.paging import Window
from pulse.graphql.permissions import allow
from pulse.modules.goals import service
from pulse.modules.goals.tables import Goal as GoalRow
from pulse.modules.registry import Action
from pulse.reports import days_for

GOALS = need("goals", "query")  # queries read the module, mutations write it
allowed = [allow(GOALS)]
ProjectId = Annotated[strawberry.ID | None, strawberry.argument(
    name="projectId", description="With the admin token: the project; a key acts on its own.")]
RANGE = "Over the range (`startAt`, `endAt`: the project's days, both included; default the last 30 days)."
GOAL_TYPE = "pageview, event, duration or pages_per_session."
CONFIG = ("The type's settings (docs/goals.md), returned as sent: pageview `{path}`, event `{event_name, "
          "condition?}`, duration `{threshold_seconds}`, pages_per_session `{threshold}`.")


async def _caller(info: Info, project_uuid: UUID):
    return await info.context.authorize(GOALS, project_uuid, Action.READ)


def _doc(name: str) -> str:
    return service.GoalStats.__dataclass_fields__[name].metadata.get("doc", "")


@strawberry.type(description="A goal's conversions over a range, as `GET /api/v1/goals/{id}/stats`.")
class GoalStats:
    goal_id: strawberry.ID
    name: str
    conversions: int = strawberry.field(description=_doc("conversions"))
    unique_visitors: int = strawberry.field(description=_doc("unique_visitors"))
    total_revenue: float = strawberry.field(description=_doc("total_revenue"))
    conversion_rate: float = strawberry.field(description=_doc("conversion_rate"))
    revenue_by_currency: JSON | None = strawberry.field(description="`{\"USD\": 12.5, ...}`: the revenue by "
                                                        "currency, only when the counted events carry more than "
                                                        "one currency; else null.")

    @classmethod
    def of(cls, stats: service.GoalStats) -> GoalStats:
        return cls(goal_id=strawberry.ID(stats.goal_id), name=stats.name, conversions=stats.conversions,
                   unique_visitors=stats.unique_visitors, total_revenue=stats.total_revenue,
                   conversion_rate=stats.conversion_rate, revenue_by_currency=stats.revenue_by_currency)


@strawberry.type(description="A saved conversion goal.")
class Goal:
    project_uuid: strawberry.Private[UUID]
    id: strawberry.ID
    name: str
    goal_type: str = strawberry.field(description=GOAL_TYPE)
    config: JSON = strawberry.field(description=CONFIG)
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: GoalRow) -> Goal:
        return cls(project_uuid=row.project_id, id=strawberry.ID(service.GOALS.public_id(row)), name=row.name,
                   goal_type=row.goal_type, config=row.config, created_at=row.created_at, updated_at=row.updated_at)

    @strawberry.field(permission_classes=allowed, description=f"Conversions, converting visitors, revenue and "
                                                              f"conversion rate. {RANGE}")
    async def stats(self, info: Info, start_at: str | None = None, end_at: str | None = None) -> GoalStats:
        caller = await _caller(info, self.project_uuid)
        return GoalStats.of(await service.stats(session=info.context.session, project=caller.project,
                                                goal_id=self.id, days=days_for(caller, start_at, end_at)))


@strawberry.type
class GoalFields:
    project_uuid: strawberry.Private[UUID]

    @strawberry.field(permission_classes=allowed, description="Saved goals, newest first.")
    async def goals(self, info: Info, first: int = 100, after: str | None = None) -> Connection[Goal]:
        window = Window.of(first, after)
        caller = await _caller(info, self.project_uuid)
        rows, total = await service.list_goals(session=info.context.session, project_id=caller.project_id,
                                               window=window)
        return connection(window, rows, total, Goal.of)

    @strawberry.field(permission_classes=allowed, description="One goal; an unknown id is NOT_FOUND.")
    async def goal(self, info: Info, id: strawberry.ID) -> Goal:
        caller = await _caller(info, self.project_uuid)
        return Goal.of(await service.get_goal(session=info.context.session, project_id=caller.project_id,
                                              goal_id=id))


@strawberry.input(description="A goal, as the REST body.")
class GoalInput:
    name: str = strawberry.field(description=f"1 to {service.MAX_NAME} characters.")
    goal_type: str = strawberry.field(description=GOAL_TYPE)
    config: JSON = strawberry.field(description=CONFIG)


@strawberry.input(description="Only the fields given change; a new goalType needs a config that fits it.")
class GoalUpdateInput:
    name: str | None = strawberry.UNSET
    goal_type: str | None = strawberry.field(default=strawberry.UNSET, description=GOAL_TYPE)
    config: JSON | None = strawberry.field(default=strawberry.UNSET, description=CONFIG)


async def _project(info: Info, project_id: strawberry.ID | None) -> UUID:
    """The project the field's permission check resolved (memoized: no second lookup)."""
    return (await info.context.authorize(GOALS, project_id, Action.WRITE)).project_id


@strawberry.type
class Mutation:
    @strawberry.mutation(permission_classes=allowed, description="Save a goal.")
    async def create_goal(self, info: Info, input: GoalInput, project_id: ProjectId = None) -> Goal:
        checked = await _project(info, project_id)
        async with info.context.transaction() as session:
            return Goal.of(await service.create_goal(session=session, project_id=checked, body=given(input)))

    @strawberry.mutation(permission_classes=allowed, description="Change a goal's name, type or config.")
    async def update_goal(self, info: Info, id: strawberry.ID, input: GoalUpdateInput,
                          project_id: ProjectId = None) -> Goal:
        checked = await _project(info, project_id)
        async with info.context.transaction() as session:
            return Goal.of(await service.update_goal(session=session, project_id=checked, goal_id=id,
                                                     body=given(input)))

    @strawberry.mutation(permission_classes=allowed, description="Remove a goal.")
    async def delete_goal(self, info: Info, id: strawberry.ID, project_id: ProjectId = None) -> bool:
        checked = await _project(info, project_id)
        async with info.context.transaction() as session:
            await service.delete_goal(session=session, project_id=checked, goal_id=id)
        return True
