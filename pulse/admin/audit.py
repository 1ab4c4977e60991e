"""The audit log's two faces: `GET /api/v1/audit-logs` and `Project.auditLogs`, admin only (the admin
token naming the project, or an admin-scoped key of it), over pulse.audit. See docs/audit.md."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from fastapi import APIRouter
from strawberry.scalars import JSON

from pulse import audit
from pulse.auth import PROJECT_ADMIN, Caller
from pulse.definitions import Paging, listing
from pulse.deps import SessionDep, requires

# No prefix: its path is the reference's. pulse/admin/rest.py's router carries these routes, so the
# app serves them with the admin API's.
router = APIRouter(tags=["audit"])
ProjectAdmin = Annotated[Caller, requires(PROJECT_ADMIN)]


@router.get("/api/v1/audit-logs")
async def list_audit_logs(caller: ProjectAdmin, window: Paging, session: SessionDep) -> dict:
    """The project's audit trail, newest first."""
    return listing(*await audit.page(session=session, project_id=caller.project_id, window=window), audit.entry_json)


@strawberry.type(description="One audited action: who did what, when, to which object.")
class AuditLog:
    id: strawberry.ID
    action: str = strawberry.field(description="`<object_type>.<verb>`, e.g. `key.create`, `webhook.delete`.")
    actor_type: str = strawberry.field(description="admin_token, api_key or system.")
    actor_id: strawberry.ID | None = strawberry.field(description="The API key's id, for actor_type api_key.")
    object_type: str
    object_id: str = strawberry.field(description="The object's id as the API shows it.")
    details: JSON | None = strawberry.field(description="What changed; never a secret.")
    created_at: datetime

    @classmethod
    def of(cls, row: audit.AuditLog) -> AuditLog:
        return cls(id=strawberry.ID(str(row.id)), action=row.action, actor_type=row.actor_type,
                   actor_id=strawberry.ID(str(row.actor_id)) if row.actor_id else None,
                   object_type=row.object_type, object_id=row.object_id, details=row.details,
                   created_at=row.created_at)
