"""Segments on the GraphQL face: `Project.segments`, `segment` (with `evaluate` and `breakdown`),
`compareSegments`, and the mutations createSegment, updateSegment and deleteSegment, over the same
service and bodies as the REST routes (so the same answers and messages)."""

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
from pulse.modules.registry import Action
from pulse.modules.segments import service
from pulse.modules.segments.tables import Segment as SegmentRow
from pulse.reports import days_for, object_type

SEGMENTS = need("segments", "query")  # queries read the module, mutations write it
allowed = [allow(SEGMENTS)]
ProjectId = Annotated[strawberry.ID | None, strawberry.argument(
    name="projectId", description="With the admin token: the project; a key acts on its own.")]
RANGE = "Over the range (`startAt`, `endAt`: the project's days, both included; default the last 30 days)."
DEFINITION = "The condition language's `{match, conditions}` (docs/conditions.md), returned as sent."

SegmentEvaluation = object_type(service.SegmentEvaluation)
SegmentBreakdownRow = object_type(service.SegmentBreakdownRow)
SegmentComparison = object_type(service.SegmentComparison)
SegmentPreview = object_type(service.SegmentPreview)


async def _caller(info: Info, project_uuid: UUID):
    return await info.context.authorize(SEGMENTS, project_uuid, Action.READ)


@strawberry.type(description="A saved segment: the visitors a definition matches over a range.")
class Segment:
    project_uuid: strawberry.Private[UUID]
    id: strawberry.ID
    name: str
    description: str | None
    definition: JSON = strawberry.field(description=DEFINITION)
    is_active: bool = strawberry.field(description="Whether clients (a segment picker) offer it; an inactive "
                                                   "segment still evaluates.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: SegmentRow) -> Segment:
        return cls(project_uuid=row.project_id, id=strawberry.ID(service.SEGMENTS.public_id(row)), name=row.name,
                   description=row.description, definition=row.definition, is_active=row.is_active,
                   created_at=row.created_at, updated_at=row.updated_at)

    @strawberry.field(permission_classes=allowed, description="The range's visitors who match: how many, and the "
                      f"ids of `limit` (at most {service.MAX_EVALUATE_LIMIT}) of them after `offset`, by visitor "
                      f"number (the order Pulse first saw them). {RANGE}")
    async def evaluate(self, info: Info, start_at: str | None = None, end_at: str | None = None,
                       limit: int = service.DEFAULT_EVALUATE_LIMIT, offset: int = 0) -> SegmentEvaluation:
        caller = await _caller(info, self.project_uuid)
        return await service.evaluate(session=info.context.session, project=caller.project, segment_id=self.id,
                                      days=days_for(caller, start_at, end_at), limit=limit, offset=offset)

    @strawberry.field(permission_classes=allowed, description="The segment's visitors by `property` (country, "
                      f"device, browser, os, path, event or trait:NAME), most visitors first. {RANGE}")
    async def breakdown(self, info: Info, property: str, start_at: str | None = None, end_at: str | None = None,
                        limit: int = service.DEFAULT_BREAKDOWN_LIMIT) -> list[SegmentBreakdownRow]:
        caller = await _caller(info, self.project_uuid)
        return await service.breakdown(session=info.context.session, project=caller.project, segment_id=self.id,
                                       prop=property, days=days_for(caller, start_at, end_at), limit=limit)


@strawberry.type
class SegmentFields:
    project_uuid: strawberry.Private[UUID]

    @strawberry.field(permission_classes=allowed, description="Saved segments, newest first.")
    async def segments(self, info: Info, first: int = 100, after: str | None = None) -> Connection[Segment]:
        window = Window.of(first, after)
        caller = await _caller(info, self.project_uuid)
        rows, total = await service.list_segments(session=info.context.session, project_id=caller.project_id,
                                                  window=window)
        return connection(window, rows, total, Segment.of)

    @strawberry.field(permission_classes=allowed, description="One segment; an unknown id is NOT_FOUND.")
    async def segment(self, info: Info, id: strawberry.ID) -> Segment:
        caller = await _caller(info, self.project_uuid)
        return Segment.of(await service.get_segment(session=info.context.session, project_id=caller.project_id,
                                                    segment_id=id))

    @strawberry.field(permission_classes=allowed, description="What an unsaved definition matches: the segment "
                      f"builder's live count, and the first `limit` visitor ids. {RANGE}")
    async def preview_segment(self, info: Info, definition: JSON, start_at: str | None = None,
                              end_at: str | None = None, limit: int = 10) -> SegmentPreview:
        caller = await _caller(info, self.project_uuid)
        return await service.preview(session=info.context.session, project=caller.project, definition=definition,
                                     days=days_for(caller, start_at, end_at), limit=limit)

    @strawberry.field(permission_classes=allowed, description=f"1 to {service.MAX_COMPARE} segments side by side: "
                      "visitors, sessions, pageviews, events, bounce rate and mean session duration, in the order "
                      f"given. {RANGE}")
    async def compare_segments(self, info: Info, ids: list[strawberry.ID], start_at: str | None = None,
                               end_at: str | None = None) -> list[SegmentComparison]:
        caller = await _caller(info, self.project_uuid)
        return await service.compare(session=info.context.session, project=caller.project, ids=list(ids),
                                     days=days_for(caller, start_at, end_at))


@strawberry.input(description="A segment, as the REST body.")
class SegmentInput:
    name: str = strawberry.field(description=f"1 to {service.MAX_NAME} characters.")
    definition: JSON = strawberry.field(description=DEFINITION)
    description: str | None = strawberry.UNSET
    is_active: bool = True


@strawberry.input(description="Only the fields given change.")
class SegmentUpdateInput:
    name: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    definition: JSON | None = strawberry.field(default=strawberry.UNSET, description=DEFINITION)
    is_active: bool | None = strawberry.UNSET


async def _project(info: Info, project_id: strawberry.ID | None) -> UUID:
    """The project the field's permission check resolved (memoized: no second lookup)."""
    return (await info.context.authorize(SEGMENTS, project_id, Action.WRITE)).project_id


@strawberry.type
class Mutation:
    @strawberry.mutation(permission_classes=allowed, description="Save a segment.")
    async def create_segment(self, info: Info, input: SegmentInput, project_id: ProjectId = None) -> Segment:
        checked = await _project(info, project_id)
        async with info.context.transaction() as session:
            return Segment.of(await service.create_segment(session=session, project_id=checked, body=given(input)))

    @strawberry.mutation(permission_classes=allowed, description="Change a segment's name, description, "
                                                                 "definition or active state.")
    async def update_segment(self, info: Info, id: strawberry.ID, input: SegmentUpdateInput,
                             project_id: ProjectId = None) -> Segment:
        checked = await _project(info, project_id)
        async with info.context.transaction() as session:
            return Segment.of(await service.update_segment(session=session, project_id=checked, segment_id=id,
                                                           body=given(input)))

    @strawberry.mutation(permission_classes=allowed, description="Remove a segment.")
    async def delete_segment(self, info: Info, id: strawberry.ID, project_id: ProjectId = None) -> bool:
        checked = await _project(info, project_id)
        async with info.context.transaction() as session:
            await service.delete_segment(session=session, project_id=checked, segment_id=id)
        return True
