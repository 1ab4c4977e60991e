"""/api/admin: projects, keys and modules, as the API reference shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict

from pulse.admin import service
from pulse.admin.service import ModuleChange, ModuleSetting
from pulse.admin.tables import ApiKey, Project
from pulse.auth import PLATFORM, PROJECT_ADMIN, Caller
from pulse.definitions import Slice
from pulse.deps import RuntimeDep, SessionDep, requires
from pulse.timestamps import iso_utc

router = APIRouter(prefix="/api/admin/projects", tags=["admin"])
platform = [requires(PLATFORM)]
# The admin token, or an admin-scoped key of this very project; the caller carries the project.
ProjectAdmin = Annotated[Caller, requires(PROJECT_ADMIN)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProjectIn(_Body):
    name: str
    domain: str
    timezone: str = "UTC"  # IANA zone whose days the reports use


class KeyIn(_Body):
    name: str
    scopes: list[str]
    expires_at: datetime | None = None
    allowed_modules: list[str] | None = None


class ModuleIn(_Body):
    name: str
    enabled: bool | None = None
    access: str | None = None


class ModulesIn(_Body):
    modules: list[ModuleIn]


class AccessIn(_Body):
    access: str


def project_json(p: Project) -> dict:
    return {"id": str(p.id), "name": p.name, "domain": p.domain, "created_at": iso_utc(p.created_at)}


def key_json(k: ApiKey) -> dict:
    return {"id": str(k.id), "name": k.name, "key_prefix": k.key_prefix, "scopes": k.scopes,
            "allowed_modules": k.allowed_modules, "expires_at": iso_utc(k.expires_at),
            "created_at": iso_utc(k.created_at), "last_used_at": iso_utc(k.last_used_at)}


def module_json(m: ModuleSetting) -> dict:
    return {"name": m.name, "enabled": m.enabled, "access": m.access.value}


@router.post("", status_code=201, dependencies=platform)
async def create_project(body: ProjectIn, session: SessionDep) -> dict:
    return project_json(await service.create_project(session=session, name=body.name, domain=body.domain,
                                                     timezone=body.timezone))


@router.get("", dependencies=platform)
async def list_projects(session: SessionDep, window: Slice) -> dict:
    projects = await service.list_projects(session=session)
    return {"data": [project_json(p) for p in projects[window]], "total": len(projects)}


@router.get("/{project_id}")
async def get_project(caller: ProjectAdmin, session: SessionDep) -> dict:
    return project_json(await service.get_project(session=session, project_id=caller.project_id))


@router.post("/{project_id}/keys", status_code=201)
async def create_key(caller: ProjectAdmin, body: KeyIn, session: SessionDep) -> dict:
    key, value = await service.create_key(
        session=session, project_id=caller.project_id, name=body.name, scopes=body.scopes,
        expires_at=body.expires_at, allowed_modules=body.allowed_modules, caller=caller)
    created = key_json(key)
    return {"id": created["id"], "key": value, "name": key.name, "scopes": key.scopes,
            "allowed_modules": key.allowed_modules, "expires_at": created["expires_at"],
            "created_at": created["created_at"]}


@router.get("/{project_id}/keys")
async def list_keys(caller: ProjectAdmin, session: SessionDep, runtime: RuntimeDep, window: Slice) -> dict:
    keys = await service.list_keys(session=session, redis=runtime.redis, project_id=caller.project_id)
    return {"data": [key_json(k) for k in keys[window]], "total": len(keys)}


@router.delete("/{project_id}/keys/{key_id}", status_code=204)
async def revoke_key(caller: ProjectAdmin, key_id: str, session: SessionDep) -> Response:
    await service.revoke_key(session=session, project_id=caller.project_id, key_id=key_id, caller=caller)
    return Response(status_code=204)


@router.get("/{project_id}/modules")
async def list_modules(caller: ProjectAdmin, session: SessionDep, window: Slice) -> dict:
    modules = await service.list_modules(session=session, project_id=caller.project_id)
    return {"modules": [module_json(m) for m in modules[window]]}


@router.put("/{project_id}/modules")
async def update_modules(caller: ProjectAdmin, body: ModulesIn, session: SessionDep) -> dict:
    changes = [ModuleChange(m.name, m.enabled, m.access) for m in body.modules]
    settings = await service.update_modules(session=session, project_id=caller.project_id, changes=changes,
                                           caller=caller)
    return {"modules": [module_json(m) for m in settings]}


@router.post("/{project_id}/modules/{module}/enable")
async def enable_module(caller: ProjectAdmin, module: str, session: SessionDep) -> dict:
    return module_json(await service.set_module(
        session=session, project_id=caller.project_id, change=ModuleChange(module, enabled=True), caller=caller))


@router.post("/{project_id}/modules/{module}/disable")
async def disable_module(caller: ProjectAdmin, module: str, session: SessionDep) -> dict:
    return module_json(await service.set_module(
        session=session, project_id=caller.project_id, change=ModuleChange(module, enabled=False), caller=caller))


@router.put("/{project_id}/modules/{module}/access")
async def set_module_access(caller: ProjectAdmin, module: str, body: AccessIn, session: SessionDep) -> dict:
    return module_json(await service.set_module(
        session=session, project_id=caller.project_id, change=ModuleChange(module, access=body.access), caller=caller))


from pulse.admin import audit as audit_faces  # noqa: E402 (after this router's own routes)
from pulse.admin.webhooks import rest as webhooks_rest  # noqa: E402

router.include_router(webhooks_rest.router)
router.routes.extend(audit_faces.router.routes)  # /api/v1/audit-logs as it is: not under this prefix
