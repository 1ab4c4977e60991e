"""Projects, keys and modules on the GraphQL face, over the same service as /api/admin."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from pulse.admin import service
from pulse.admin.service import ModuleChange
from pulse.admin.types import (
    ApiKey,
    CreatedApiKey,
    Module,
    ModuleAccess,
    ModuleSettingInput,
    ProjectModule,
    all_modules,
)
from pulse.auth import PLATFORM, PROJECT_ADMIN, Caller, need
from pulse.graphql.permissions import allow
from pulse.graphql.project import Project
from pulse.modules.registry import Action

PROJECT_READ = need("core", "query", "ingest")
ProjectId = Annotated[strawberry.ID, strawberry.argument(name="projectId")]


@strawberry.type
class Query:
    @strawberry.field(permission_classes=[allow(PLATFORM)], description="Every project (admin token).")
    async def projects(self, info: Info) -> list[Project]:
        return [Project.of(p) for p in await service.list_projects(session=info.context.session)]

    @strawberry.field(
        permission_classes=[allow(PROJECT_READ)],
        description="A project: the key's own, or any one by id with the admin token.")
    async def project(self, info: Info,
                      project_id: Annotated[strawberry.ID | None, strawberry.argument(name="id")] = None
                      ) -> Project:
        caller = await info.context.authorize(PROJECT_READ, project_id, Action.READ)
        return Project.of(await service.get_project(session=info.context.session, project_id=caller.project_id))

    @strawberry.field(description="The registry of modules (public).")
    def modules(self) -> list[Module]:
        return all_modules()


@strawberry.type
class Mutation:
    @strawberry.mutation(permission_classes=[allow(PLATFORM)], description="Register a project.")
    async def create_project(self, info: Info, name: str, domain: str, timezone: str = "UTC") -> Project:
        async with info.context.transaction() as session:
            return Project.of(await service.create_project(session=session, name=name, domain=domain,
                                                           timezone=timezone))

    @strawberry.mutation(permission_classes=[allow(PROJECT_ADMIN)],
                         description="Create an API key; the value is returned only here.")
    async def create_api_key(self, info: Info, project_id: ProjectId, name: str, scopes: list[str],
                             expires_at: datetime | None = None,
                             allowed_modules: list[str] | None = None) -> CreatedApiKey:
        caller = await _checked(info, project_id)
        async with info.context.transaction() as session:
            key, value = await service.create_key(session=session, project_id=caller.project_id, name=name,
                                                  scopes=scopes, expires_at=expires_at,
                                                  allowed_modules=allowed_modules, caller=caller)
            return CreatedApiKey(key=value, api_key=ApiKey.of(key))

    @strawberry.mutation(permission_classes=[allow(PROJECT_ADMIN)],
                         description="Revoke a key; it stops working at once.")
    async def revoke_api_key(self, info: Info, project_id: ProjectId, key_id: strawberry.ID) -> bool:
        caller = await _checked(info, project_id)
        async with info.context.transaction() as session:
            await service.revoke_key(session=session, project_id=caller.project_id, key_id=key_id, caller=caller)
        return True

    @strawberry.mutation(permission_classes=[allow(PROJECT_ADMIN)], description="Change several modules at once.")
    async def update_modules(self, info: Info, project_id: ProjectId,
                             modules: list[ModuleSettingInput]) -> list[ProjectModule]:
        changes = [ModuleChange(m.name, m.enabled, m.access.value if m.access else None) for m in modules]
        caller = await _checked(info, project_id)
        async with info.context.transaction() as session:
            settings = await service.update_modules(session=session, project_id=caller.project_id, changes=changes,
                                                    caller=caller)
        return [ProjectModule.of(m) for m in settings]

    @strawberry.mutation(permission_classes=[allow(PROJECT_ADMIN)])
    async def enable_module(self, info: Info, project_id: ProjectId, name: str) -> ProjectModule:
        return await _set(info, project_id, ModuleChange(name, enabled=True))

    @strawberry.mutation(permission_classes=[allow(PROJECT_ADMIN)], description="Disable a module; data is kept.")
    async def disable_module(self, info: Info, project_id: ProjectId, name: str) -> ProjectModule:
        return await _set(info, project_id, ModuleChange(name, enabled=False))

    @strawberry.mutation(permission_classes=[allow(PROJECT_ADMIN)])
    async def set_module_access(self, info: Info, project_id: ProjectId, name: str,
                                access: ModuleAccess) -> ProjectModule:
        return await _set(info, project_id, ModuleChange(name, access=access.value))


async def _checked(info: Info, project_id: strawberry.ID) -> Caller:
    """The caller the field's permission check resolved, on its project (memoized: no second lookup)."""
    return await info.context.authorize(PROJECT_ADMIN, project_id, Action.WRITE)


async def _set(info: Info, project_id: strawberry.ID, change: ModuleChange) -> ProjectModule:
    caller = await _checked(info, project_id)
    async with info.context.transaction() as session:
        return ProjectModule.of(await service.set_module(session=session, project_id=caller.project_id,
                                                         change=change, caller=caller))
