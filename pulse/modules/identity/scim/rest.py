"""The reference's SCIM routes: /api/v1/identity/scim/users and /groups (query key reads,
admin-scoped key writes). Lists are newest first with `limit`/`offset` and `total`; `PUT` changes
the fields it is given (pulse.definitions), and a group's `members`, when given, replace the list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response

from pulse.auth import Caller, need
from pulse.definitions import JsonObject, Paging, listing
from pulse.deps import SessionDep, requires
from pulse.modules.identity.scim import service
from pulse.modules.identity.scim.tables import ScimGroup, ScimUser
from pulse.timestamps import iso_utc

READ = need("identity", "query")
WRITE = need("identity", "admin")
Reader = Annotated[Caller, requires(READ)]
Writer = Annotated[Caller, requires(WRITE)]

router = APIRouter(prefix="/api/v1/identity/scim", tags=["identity"])
NAME_KEYS = {scim: rest for rest, scim in service.NAME_PARTS.items()}


def user_json(user: ScimUser) -> dict:
    return {"id": str(user.id), "user_name": user.user_name, "external_id": user.external_id,
            "active": user.active, "display_name": user.display_name,
            "name": {NAME_KEYS[k]: v for k, v in user.name.items() if k in NAME_KEYS} if user.name else None,
            "emails": user.emails, "traits": user.traits, "visitor_id": service.visitor_id(user),
            "created_at": iso_utc(user.created_at), "updated_at": iso_utc(user.updated_at)}


def member_json(user: ScimUser) -> dict:
    return {"id": str(user.id), "user_name": user.user_name, "display_name": user.display_name}


def group_json(group: ScimGroup, members: list[ScimUser]) -> dict:
    return {"id": str(group.id), "display_name": group.display_name, "external_id": group.external_id,
            "traits": group.traits, "members": [member_json(m) for m in members],
            "created_at": iso_utc(group.created_at), "updated_at": iso_utc(group.updated_at)}


async def _group_json(session, group: ScimGroup) -> dict:
    members = await service.members_of(session=session, project_id=group.project_id, group_ids=[group.id])
    return group_json(group, members[group.id])


@router.get("/users")
async def list_users(caller: Reader, window: Paging, session: SessionDep) -> dict:
    return listing(*await service.list_users(session=session, project_id=caller.project_id, window=window), user_json)


@router.post("/users", status_code=201)
async def create_user(caller: Writer, body: JsonObject, session: SessionDep) -> dict:
    return user_json(await service.create_user(session=session, project_id=caller.project_id,
                                               values=service.user_values(body)))


@router.get("/users/{user_id}")
async def get_user(caller: Reader, user_id: str, session: SessionDep) -> dict:
    return user_json(await service.get_user(session=session, project_id=caller.project_id, user_id=user_id))


@router.put("/users/{user_id}")
async def update_user(caller: Writer, user_id: str, body: JsonObject, session: SessionDep) -> dict:
    return user_json(await service.update_user(session=session, project_id=caller.project_id, user_id=user_id,
                                               values=service.user_values(body, partial=True)))


@router.delete("/users/{user_id}", status_code=204)
async def delete_user(caller: Writer, user_id: str, session: SessionDep) -> Response:
    await service.delete_user(session=session, project_id=caller.project_id, user_id=user_id)
    return Response(status_code=204)


@router.get("/groups")
async def list_groups(caller: Reader, window: Paging, session: SessionDep) -> dict:
    groups, total = await service.list_groups(session=session, project_id=caller.project_id, window=window)
    members = await service.members_of(session=session, project_id=caller.project_id,
                                       group_ids=[g.id for g in groups])
    return listing(groups, total, lambda g: group_json(g, members[g.id]))


@router.post("/groups", status_code=201)
async def create_group(caller: Writer, body: JsonObject, session: SessionDep) -> dict:
    values, members = service.group_values(body)
    group = await service.create_group(session=session, project_id=caller.project_id, values=values,
                                       members=members or [])
    return await _group_json(session, group)


@router.get("/groups/{group_id}")
async def get_group(caller: Reader, group_id: str, session: SessionDep) -> dict:
    return await _group_json(session, await service.get_group(session=session, project_id=caller.project_id,
                                                              group_id=group_id))


@router.put("/groups/{group_id}")
async def update_group(caller: Writer, group_id: str, body: JsonObject, session: SessionDep) -> dict:
    values, members = service.group_values(body, partial=True)
    group = await service.update_group(session=session, project_id=caller.project_id, group_id=group_id,
                                       values=values, members=members)
    return await _group_json(session, group)


@router.delete("/groups/{group_id}", status_code=204)
async def delete_group(caller: Writer, group_id: str, session: SessionDep) -> Response:
    await service.delete_group(session=session, project_id=caller.project_id, group_id=group_id)
    return Response(status_code=204)
