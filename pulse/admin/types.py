"""GraphQL types for projects, keys and modules."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import strawberry
from strawberry.types import Info

from pulse import audit
from pulse.admin import service
from pulse.admin.audit import AuditLog
from pulse.admin.loaders import load_keys_by_project, load_modules_by_project
from pulse.admin.tables import ApiKey as ApiKeyRow
from pulse.admin.tables import Project as ProjectRow
from pulse.auth import PROJECT_ADMIN
from pulse.definitions import Connection, connection
from pulse.graphql.loaders import Loader
from pulse.graphql.paging import Window
from pulse.graphql.permissions import allow
from pulse.modules.registry import MODULES, Access, ModuleInfo


class KeysByProject(Loader):
    """Project id -> its active API keys."""

    async def batch(self, ids: list) -> list:
        return await load_keys_by_project(ids, session=self.context.session, redis=self.context.runtime.redis)


class ModulesByProject(Loader):
    """Project id -> its settings of all 33 modules."""

    async def batch(self, ids: list) -> list:
        return await load_modules_by_project(ids, session=self.context.session)


ModuleAccess = strawberry.enum(Access, name="ModuleAccess", description="read, write or all")


@strawberry.type(description="One of the 33 modules Pulse ships with.")
class Module:
    name: str
    category: str
    description: str
    default_enabled: bool

    @classmethod
    def of(cls, info: ModuleInfo) -> Module:
        return cls(name=info.name, category=info.category, description=info.description,
                   default_enabled=info.default_enabled)


@strawberry.type(description="A module's setting for one project.")
class ProjectModule:
    name: str
    category: str
    description: str
    enabled: bool
    access: ModuleAccess

    @classmethod
    def of(cls, m: service.ModuleSetting) -> ProjectModule:
        return cls(name=m.name, category=m.category, description=m.description,
                   enabled=m.enabled, access=m.access)


@strawberry.type(description="An API key; its value is shown only once, when created.")
class ApiKey:
    id: strawberry.ID
    name: str
    key_prefix: str
    scopes: list[str]
    allowed_modules: list[str] | None
    expires_at: datetime | None
    created_at: datetime
    last_used_at: datetime | None

    @classmethod
    def of(cls, k: ApiKeyRow) -> ApiKey:
        return cls(id=strawberry.ID(str(k.id)), name=k.name, key_prefix=k.key_prefix, scopes=list(k.scopes),
                   allowed_modules=list(k.allowed_modules) if k.allowed_modules else None,
                   expires_at=k.expires_at, created_at=k.created_at, last_used_at=k.last_used_at)


@strawberry.type
class CreatedApiKey:
    key: str = strawberry.field(description="The key value. Store it now: it cannot be retrieved later.")
    api_key: ApiKey


@strawberry.type
class ProjectFields:
    """`Project`'s own fields; pulse.graphql.project adds every installed module's."""

    id: strawberry.ID
    name: str
    domain: str
    timezone: str = strawberry.field(description="IANA zone whose days the reports use.")
    created_at: datetime
    project_uuid: strawberry.Private[UUID]

    @classmethod
    def of(cls, p: ProjectRow) -> ProjectFields:
        return cls(id=strawberry.ID(str(p.id)), name=p.name, domain=p.domain, timezone=p.timezone,
                   created_at=p.created_at,
                   project_uuid=p.id)

    @strawberry.field(permission_classes=[allow(PROJECT_ADMIN)], description="Active API keys.")
    async def keys(self, info: Info) -> list[ApiKey]:
        return [ApiKey.of(k) for k in await KeysByProject.of(info.context).load(self.project_uuid)]

    @strawberry.field(permission_classes=[allow(PROJECT_ADMIN)], description="All 33 modules' settings.")
    async def modules(self, info: Info) -> list[ProjectModule]:
        return [ProjectModule.of(m) for m in await ModulesByProject.of(info.context).load(self.project_uuid)]

    @strawberry.field(permission_classes=[allow(PROJECT_ADMIN)],
                      description="The audit trail: who did what, when, to which object; newest first.")
    async def audit_logs(self, info: Info, first: int = 100, after: str | None = None) -> Connection[AuditLog]:
        window = Window.of(first, after)
        rows, total = await audit.page(session=info.context.session, project_id=self.project_uuid, window=window)
        return connection(window, rows, total, AuditLog.of)


@strawberry.input
class ModuleSettingInput:
    name: str
    enabled: bool | None = None
    access: ModuleAccess | None = None


def all_modules() -> list[Module]:
    return [Module.of(m) for m in MODULES.values()]
