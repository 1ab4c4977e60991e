"""Funnels on the GraphQL face: `Project.funnels`, `funnel` (with `analyze`), and the mutations
createFunnel, updateFunnel and deleteFunnel, over the same service and bodies as the REST routes (so
the same answers and messages)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import strawberry
from strawberry.types import Info

from pulse.auth import need
from pulse.definitions import Connection, connection, given
from pulse.graphql.filters import FilterInput, to_filters
from pulse.graphql.paging import Window
from pulse.graphql.permissions import allow
from pulse.modules.funnels import service
from pulse.modules.funnels.tables import Funnel as FunnelRow
from pulse.modules.registry import Action
from pulse.reports import SegmentSets, days_for, with_segment

FUNNELS = need("funnels", "query")  # queries read the module, mutations write it
allowed = [allow(FUNNELS)]
ProjectId = Annotated[strawberry.ID | None, strawberry.argument(
    name="projectId", description="With the admin token: the project; a key acts on its own.")]
RANGE = "Over the range (`startAt`, `endAt`: the project's days, both included; default the last 30 days)."
STEP_TYPE = "pageview or event."
WindowArg = Annotated[str | None, strawberry.argument(description="A number and a unit (m, h, d, w); default 14d.")]
OrderArg = Annotated[str | None, strawberry.argument(description="ordered (default), strict or unordered.")]
ExcludeArg = Annotated[list[str] | None, strawberry.argument(description="pageview:/path or event:name, optionally "
                                                                         "@A-B (between steps A and B).")]
BreakdownArg = Annotated[str | None, strawberry.argument(description=f"{', '.join(service.BREAKDOWNS)} or "
                                                                     "trait:NAME.")]
STEP_VALUE = "A pageview's path (ending in `*`: every path starting with what precedes it) or an event's name."


def _doc(cls: type, name: str) -> str:
    return cls.__dataclass_fields__[name].metadata.get("doc", "")


@strawberry.type(description="One step of a saved funnel.")
class FunnelStep:
    type: str = strawberry.field(description=STEP_TYPE)
    value: str = strawberry.field(description=STEP_VALUE)
    label: str = strawberry.field(description="As sent, or the value.")


@strawberry.type(description="How many visitors reached one step, and how fast.")
class FunnelStepResult:
    label: str
    visitors: int = strawberry.field(description=_doc(service.FunnelStepResult, "visitors"))
    drop_off: int = strawberry.field(description=_doc(service.FunnelStepResult, "drop_off"))
    conversion_rate: float = strawberry.field(description=_doc(service.FunnelStepResult, "conversion_rate"))
    median_seconds: float | None = strawberry.field(description=_doc(service.FunnelStepResult, "median_seconds"))
    p90_seconds: float | None = strawberry.field(description=_doc(service.FunnelStepResult, "p90_seconds"))

    @classmethod
    def of(cls, step: service.FunnelStepResult) -> FunnelStepResult:
        return cls(label=step.label, visitors=step.visitors, drop_off=step.drop_off,
                   conversion_rate=step.conversion_rate, median_seconds=step.median_seconds,
                   p90_seconds=step.p90_seconds)


@strawberry.type(description="The funnel of the visitors whose step-1 session (or trait) has one value.")
class FunnelBreakdown:
    value: str
    steps: list[FunnelStepResult]
    overall_conversion: float


@strawberry.type(description="A funnel over a range, as `GET /api/v1/funnels/{id}/analyze`.")
class FunnelAnalysis:
    funnel_id: strawberry.ID
    name: str
    steps: list[FunnelStepResult]
    overall_conversion: float = strawberry.field(description=_doc(service.FunnelAnalysis, "overall_conversion"))
    breakdown: list[FunnelBreakdown] | None = strawberry.field(
        description="With `breakdown`: the same by value, most entering visitors first, top 20; else null.")

    @classmethod
    def of(cls, analysis: service.FunnelAnalysis) -> FunnelAnalysis:
        groups = None if analysis.breakdown is None else [
            FunnelBreakdown(value=g.value, steps=[FunnelStepResult.of(s) for s in g.steps],
                            overall_conversion=g.overall_conversion) for g in analysis.breakdown]
        return cls(funnel_id=strawberry.ID(analysis.funnel_id), name=analysis.name,
                   steps=[FunnelStepResult.of(s) for s in analysis.steps],
                   overall_conversion=analysis.overall_conversion, breakdown=groups)


@strawberry.type(description="A saved multi-step conversion funnel.")
class Funnel:
    project_uuid: strawberry.Private[UUID]
    id: strawberry.ID
    name: str
    steps: list[FunnelStep]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: FunnelRow) -> Funnel:
        return cls(project_uuid=row.project_id, id=strawberry.ID(service.FUNNELS.public_id(row)), name=row.name,
                   steps=[FunnelStep(**step) for step in row.steps], created_at=row.created_at,
                   updated_at=row.updated_at)

    @strawberry.field(permission_classes=allowed, description=f"Visitors, drop-off, conversion and time to "
                                                              f"convert at each step (docs/funnels.md). {RANGE}")
    async def analyze(self, info: Info, start_at: str | None = None, end_at: str | None = None,
                      window: WindowArg = None, order: OrderArg = None, exclude: ExcludeArg = None,
                      breakdown: BreakdownArg = None, segment: strawberry.ID | None = None,
                      filters: list[FilterInput] | None = None) -> FunnelAnalysis:
        caller = await info.context.authorize(FUNNELS, self.project_uuid, Action.READ)
        days = days_for(caller, start_at, end_at)
        segments = info.context.segment_sets.get(caller.project_id)  # each segment evaluated once per request
        if segments is None:
            segments = info.context.segment_sets[caller.project_id] = SegmentSets(caller, info.context.session)
        members = await service.members_of(segments, with_segment(to_filters(filters), segment), days)
        return FunnelAnalysis.of(await service.analyze(
            session=info.context.session, project=caller.project, funnel_id=self.id, days=days, window=window,
            order=order, exclude=exclude, breakdown=breakdown, members=members))


@strawberry.type
class FunnelFields:
    project_uuid: strawberry.Private[UUID]

    @strawberry.field(permission_classes=allowed, description="Saved funnels, newest first.")
    async def funnels(self, info: Info, first: int = 100, after: str | None = None) -> Connection[Funnel]:
        window = Window.of(first, after)
        caller = await info.context.authorize(FUNNELS, self.project_uuid, Action.READ)
        rows, total = await service.list_funnels(session=info.context.session, project_id=caller.project_id,
                                                 window=window)
        return connection(window, rows, total, Funnel.of)

    @strawberry.field(permission_classes=allowed, description="One funnel; an unknown id is NOT_FOUND.")
    async def funnel(self, info: Info, id: strawberry.ID) -> Funnel:
        caller = await info.context.authorize(FUNNELS, self.project_uuid, Action.READ)
        return Funnel.of(await service.get_funnel(session=info.context.session, project_id=caller.project_id,
                                                  funnel_id=id))


@strawberry.input(description="A funnel step, as the REST body's.")
class FunnelStepInput:
    type: str = strawberry.field(description=STEP_TYPE)
    value: str = strawberry.field(description=STEP_VALUE)
    label: str | None = strawberry.field(default=strawberry.UNSET, description="Default: the value.")


@strawberry.input(description="A funnel, as the REST body.")
class FunnelInput:
    name: str = strawberry.field(description=f"1 to {service.MAX_NAME} characters.")
    steps: list[FunnelStepInput] = strawberry.field(description="2 to 20 steps, in order.")


@strawberry.input(description="Only the fields given change; new steps replace the old ones whole.")
class FunnelUpdateInput:
    name: str | None = strawberry.UNSET
    steps: list[FunnelStepInput] | None = strawberry.UNSET


async def _project(info: Info, project_id: strawberry.ID | None) -> UUID:
    """The project the field's permission check resolved (memoized: no second lookup)."""
    return (await info.context.authorize(FUNNELS, project_id, Action.WRITE)).project_id


@strawberry.type
class Mutation:
    @strawberry.mutation(permission_classes=allowed, description="Save a funnel.")
    async def create_funnel(self, info: Info, input: FunnelInput, project_id: ProjectId = None) -> Funnel:
        checked = await _project(info, project_id)
        async with info.context.transaction() as session:
            return Funnel.of(await service.create_funnel(session=session, project_id=checked, body=given(input)))

    @strawberry.mutation(permission_classes=allowed, description="Change a funnel's name or steps.")
    async def update_funnel(self, info: Info, id: strawberry.ID, input: FunnelUpdateInput,
                            project_id: ProjectId = None) -> Funnel:
        checked = await _project(info, project_id)
        async with info.context.transaction() as session:
            return Funnel.of(await service.update_funnel(session=session, project_id=checked, funnel_id=id,
                                                         body=given(input)))

    @strawberry.mutation(permission_classes=allowed, description="Remove a funnel.")
    async def delete_funnel(self, info: Info, id: strawberry.ID, project_id: ProjectId = None) -> bool:
        checked = await _project(info, project_id)
        async with info.context.transaction() as session:
            await service.delete_funnel(session=session, project_id=checked, funnel_id=id)
        return True
