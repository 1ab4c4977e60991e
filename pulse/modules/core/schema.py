"""The field of `Project` that is not a report over days: realtime (the reports are in reports.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import strawberry
from strawberry.types import Info

from pulse.auth import need
from pulse.graphql.permissions import allow
from pulse.modules.core import service
from pulse.modules.registry import Action
from pulse.reports import object_type

CORE = need("core", "query")
Realtime = object_type(service.Realtime)


@strawberry.type
class CoreFields:
    project_uuid: strawberry.Private[UUID]

    @strawberry.field(permission_classes=[allow(CORE)],
                      description="Distinct visitors active in the last five minutes.")
    async def realtime(self, info: Info) -> Realtime:
        caller = await info.context.authorize(CORE, self.project_uuid, Action.READ)
        return await service.realtime(session=info.context.session, project_id=caller.project_id, now=datetime.now(UTC))
