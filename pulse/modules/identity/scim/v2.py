"""The standard SCIM 2.0 surface (RFC 7643, RFC 7644) over the same records as the reference's
routes, so an identity provider (Okta, Entra ID...) can provision: /scim/v2/Users, /Groups,
/ServiceProviderConfig, /ResourceTypes and /Schemas.

Callers authenticate with an admin-scoped project key as a bearer token
(`Authorization: Bearer pa_live_...`; the admin token works too, with `?project_id=`). Bodies are
read and checked with scim2-models (resources, PatchOp, the filter and path grammar); answers are
`application/scim+json`, and every failure, the credential's included, is a SCIM Error body
(`urn:ietf:params:scim:api:messages:2.0:Error`, `status`, `scimType`, `detail`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import ValidationError
from scim2_models import (
    AuthenticationScheme,
    Bulk,
    ChangePassword,
    Context,
    EnterpriseUser,
    ETag,
    Filter,
    Group,
    Patch,
    PatchOp,
    ResourceType,
    SCIMException,
    ServiceProviderConfig,
    Sort,
    User,
)

from pulse import errors
from pulse.auth import Caller, need
from pulse.db import as_uuid
from pulse.deps import SessionDep, requires
from pulse.graphql.paging import MAX_FIRST
from pulse.modules.identity.scim import service
from pulse.modules.identity.scim.filters import InvalidFilter, group_condition, user_condition
from pulse.modules.identity.scim.tables import ScimGroup, ScimUser
from pulse.timestamps import iso_utc

MEDIA_TYPE = "application/scim+json"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
ScimUserModel = User[EnterpriseUser]
ADMIN = need("identity", "admin")
Admin = Annotated[Caller, requires(ADMIN)]
# What the normalised columns hold; everything else of a user's resource is kept in `attributes`.
USER_COLUMNS = {"userName": "user_name", "externalId": "external_id", "displayName": "display_name",
                "active": "active", "name": "name", "emails": "emails"}
NOT_STORED = {"schemas", "id", "meta", "groups", "password"}


class ScimError(Exception):
    def __init__(self, status: int, detail: str, scim_type: str | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.scim_type = status, detail, scim_type


def scim_response(content: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(content, separators=(",", ":")), status_code=status, headers=headers,
                    media_type=MEDIA_TYPE)


def error_response(status: int, detail: str, scim_type: str | None = None,
                   headers: dict[str, str] | None = None) -> Response:
    body: dict[str, Any] = {"schemas": [ERROR_SCHEMA], "status": str(status), "detail": detail}
    if scim_type:
        body["scimType"] = scim_type
    return scim_response(body, status, headers)


def _validation_detail(exc: ValidationError) -> tuple[str, str]:
    first = exc.errors()[0]
    kind = first.get("type", "")
    scim_type = kind.removeprefix("scim_") if kind.startswith("scim_") else "invalidValue"
    where = ".".join(str(p) for p in first.get("loc", ()))
    return (f"{where}: {first['msg']}" if where else first["msg"]), scim_type


class ScimRoute(APIRoute):
    """Every failure of a /scim/v2 route, from its dependencies (the credential) or itself, as a
    SCIM Error body: the app's own handlers would answer `{"error": ...}`."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def scim_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except ScimError as exc:
                return error_response(exc.status, exc.detail, exc.scim_type)
            except InvalidFilter as exc:
                return error_response(400, str(exc), "invalidFilter")
            except SCIMException as exc:
                return error_response(int(exc.status), exc.detail or str(exc), exc.scim_type)
            except ValidationError as exc:
                return error_response(400, *_validation_detail(exc))
            except RequestValidationError as exc:
                return error_response(400, errors.describe_validation_error(exc), "invalidValue")
            except errors.ApiError as exc:
                return error_response(exc.status, exc.message, getattr(exc, "scim_type", None), exc.headers)

        return scim_handler


# Not in /api/openapi.json: SCIM describes itself (/Schemas, /ResourceTypes) and answers SCIM errors.
router = APIRouter(prefix="/scim/v2", tags=["scim"], route_class=ScimRoute, include_in_schema=False)


# -- helpers ----------------------------------------------------------------------------------

async def scim_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except ValueError:
        raise ScimError(400, "The request body is not valid JSON.", "invalidSyntax") from None
    if not isinstance(body, dict):
        raise ScimError(400, "The request body must be a JSON object.", "invalidSyntax")
    return body


def _integer(request: Request, name: str, default: int) -> int:
    given = request.query_params.get(name)
    if given is None or given == "":
        return default
    try:
        return int(given)
    except ValueError:
        raise ScimError(400, f"'{name}' must be an integer.", "invalidValue") from None


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + router.prefix


def _meta(request: Request, kind: str, endpoint: str, row: Any) -> dict[str, Any]:
    return {"resourceType": kind, "created": iso_utc(row.created_at), "lastModified": iso_utc(row.updated_at),
            "location": f"{_base(request)}/{endpoint}/{row.id}",
            "version": f'W/"{int(row.updated_at.timestamp() * 1_000_000)}"'}


def _project(resource: dict[str, Any], request: Request) -> dict[str, Any]:
    """`attributes` / `excludedAttributes` (RFC 7644 3.4.2.5), on top-level attributes."""
    always = {"schemas", "id", "meta"}
    if wanted := request.query_params.get("attributes"):
        keep = {part.split(".")[0].split(":")[-1].lower() for part in wanted.split(",")} | always
        return {k: v for k, v in resource.items() if k.lower() in keep or k.startswith("urn:")}
    if unwanted := request.query_params.get("excludedAttributes"):
        drop = {part.split(".")[0].split(":")[-1].lower() for part in unwanted.split(",")} - always
        return {k: v for k, v in resource.items() if k.lower() not in drop}
    return resource


def _id(value: str, noun: str) -> UUID:
    found = as_uuid(value)
    if found is None:
        raise ScimError(404, f"{noun} '{value}' not found.")
    return found


# -- users ------------------------------------------------------------------------------------

def user_resource(request: Request, user: ScimUser, groups: list[ScimGroup]) -> dict[str, Any]:
    extensions = [k for k in (user.attributes or {}) if k.startswith("urn:")]
    resource: dict[str, Any] = {"schemas": [USER_SCHEMA, *extensions], "id": str(user.id)}
    if user.external_id is not None:
        resource["externalId"] = user.external_id
    resource["userName"] = user.user_name
    if user.name:
        resource["name"] = user.name
    if user.display_name is not None:
        resource["displayName"] = user.display_name
    resource["active"] = user.active
    if user.emails:
        resource["emails"] = user.emails
    resource.update(user.attributes or {})
    if groups:
        resource["groups"] = [{"value": str(g.id), "display": g.display_name, "type": "direct",
                               "$ref": f"{_base(request)}/Groups/{g.id}"} for g in groups]
    resource["meta"] = _meta(request, "User", "Users", user)
    return resource


def user_values(body: dict[str, Any], context: Context) -> dict[str, Any]:
    """A SCIM User body (checked by scim2-models) as the columns' values: a full replacement."""
    model = ScimUserModel.model_validate(body, scim_ctx=context)
    return _user_model_values(model)


def _page(request: Request) -> tuple[int, int]:
    """The list's 1-based `startIndex` and its `count` (RFC 7644 3.4.2.4), clamped to what we serve."""
    return max(_integer(request, "startIndex", 1), 1), min(max(_integer(request, "count", 100), 0), MAX_FIRST)


def _list_response(request: Request, total: int, start: int, resources: list[dict[str, Any]]) -> Response:
    """A ListResponse of `resources`, each cut to the requested attributes."""
    return scim_response({"schemas": [LIST_SCHEMA], "totalResults": total, "startIndex": start,
                          "itemsPerPage": len(resources), "Resources": [_project(r, request) for r in resources]})


def _user_model_values(model: Any) -> dict[str, Any]:
    dumped = model.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
    user_name = (dumped.get("userName") or "").strip()
    if not user_name:
        raise ScimError(400, "'userName' is required.", "invalidValue")
    emails = dumped.get("emails") or []
    try:
        service.check_emails(emails)
    except ValueError as exc:
        raise ScimError(400, f"emails: {exc}.", "invalidValue") from None
    return {"user_name": user_name, "external_id": dumped.get("externalId"),
            "display_name": dumped.get("displayName"),
            "active": dumped.get("active") if dumped.get("active") is not None else True,
            "name": dumped.get("name") or None, "emails": service.normal_emails(emails),
            "attributes": {k: v for k, v in dumped.items() if k not in USER_COLUMNS and k not in NOT_STORED}}


async def _user_out(request: Request, session: Any, user: ScimUser) -> dict[str, Any]:
    groups = await service.groups_of(session=session, project_id=user.project_id, user_ids=[user.id])
    return _project(user_resource(request, user, groups[user.id]), request)


@router.get("/Users")
async def list_users(request: Request, caller: Admin, session: SessionDep) -> Response:
    where = user_condition(request.query_params.get("filter"))
    start, count = _page(request)
    users, total = await service.search_users(session=session, project_id=caller.project_id, where=where,
                                              offset=start - 1, limit=count)
    groups = await service.groups_of(session=session, project_id=caller.project_id, user_ids=[u.id for u in users])
    return _list_response(request, total, start, [user_resource(request, u, groups[u.id]) for u in users])


@router.post("/Users")
async def create_user(request: Request, caller: Admin, session: SessionDep) -> Response:
    values = user_values(await scim_body(request), Context.RESOURCE_CREATION_REQUEST)
    user = await service.create_user(session=session, project_id=caller.project_id, values=values)
    resource = await _user_out(request, session, user)
    return scim_response(resource, 201, {"Location": resource["meta"]["location"]})


@router.get("/Users/{user_id}")
async def get_user(request: Request, user_id: str, caller: Admin, session: SessionDep) -> Response:
    user = await service.get_user(session=session, project_id=caller.project_id, user_id=_id(user_id, "SCIM user"))
    return scim_response(await _user_out(request, session, user))


@router.put("/Users/{user_id}")
async def replace_user(request: Request, user_id: str, caller: Admin, session: SessionDep) -> Response:
    values = user_values(await scim_body(request), Context.RESOURCE_REPLACEMENT_REQUEST)
    user = await service.update_user(session=session, project_id=caller.project_id,
                                     user_id=_id(user_id, "SCIM user"), values=values)
    return scim_response(await _user_out(request, session, user))


@router.patch("/Users/{user_id}")
async def patch_user(request: Request, user_id: str, caller: Admin, session: SessionDep) -> Response:
    body = await scim_body(request)
    user = await service.get_user(session=session, project_id=caller.project_id, user_id=_id(user_id, "SCIM user"))
    current = user_resource(request, user, [])
    model = ScimUserModel.model_validate({k: v for k, v in current.items() if k != "groups"})
    PatchOp[ScimUserModel].model_validate(body, scim_ctx=Context.RESOURCE_PATCH_REQUEST).patch(model)
    user = await service.update_user(session=session, project_id=caller.project_id, user_id=user.id,
                                     values=_user_model_values(model))
    return scim_response(await _user_out(request, session, user))


@router.delete("/Users/{user_id}", status_code=204)
async def delete_user(user_id: str, caller: Admin, session: SessionDep) -> Response:
    await service.delete_user(session=session, project_id=caller.project_id, user_id=_id(user_id, "SCIM user"))
    return Response(status_code=204)


# -- groups -----------------------------------------------------------------------------------

def group_resource(request: Request, group: ScimGroup, members: list[ScimUser]) -> dict[str, Any]:
    resource: dict[str, Any] = {"schemas": [GROUP_SCHEMA], "id": str(group.id)}
    if group.external_id is not None:
        resource["externalId"] = group.external_id
    resource["displayName"] = group.display_name
    resource["members"] = [{"value": str(m.id), "display": m.display_name or m.user_name, "type": "User",
                            "$ref": f"{_base(request)}/Users/{m.id}"} for m in members]
    resource["meta"] = _meta(request, "Group", "Groups", group)
    return resource


def _group_model_values(model: Group) -> tuple[dict[str, Any], list[str]]:
    display_name = (model.display_name or "").strip()
    if not display_name:
        raise ScimError(400, "'displayName' is required.", "invalidValue")
    members = [m.value for m in model.members or []]
    if any(not m for m in members):
        raise ScimError(400, "Every member needs a 'value'.", "invalidValue")
    return {"display_name": display_name, "external_id": model.external_id}, members


async def _group_out(request: Request, session: Any, group: ScimGroup) -> dict[str, Any]:
    members = await service.members_of(session=session, project_id=group.project_id, group_ids=[group.id])
    return _project(group_resource(request, group, members[group.id]), request)


@router.get("/Groups")
async def list_groups(request: Request, caller: Admin, session: SessionDep) -> Response:
    where = group_condition(request.query_params.get("filter"))
    start, count = _page(request)
    groups, total = await service.search_groups(session=session, project_id=caller.project_id, where=where,
                                                offset=start - 1, limit=count)
    members = await service.members_of(session=session, project_id=caller.project_id, group_ids=[g.id for g in groups])
    return _list_response(request, total, start, [group_resource(request, g, members[g.id]) for g in groups])


@router.post("/Groups")
async def create_group(request: Request, caller: Admin, session: SessionDep) -> Response:
    model = Group.model_validate(await scim_body(request), scim_ctx=Context.RESOURCE_CREATION_REQUEST)
    values, members = _group_model_values(model)
    group = await service.create_group(session=session, project_id=caller.project_id, values=values, members=members)
    resource = await _group_out(request, session, group)
    return scim_response(resource, 201, {"Location": resource["meta"]["location"]})


@router.get("/Groups/{group_id}")
async def get_group(request: Request, group_id: str, caller: Admin, session: SessionDep) -> Response:
    group = await service.get_group(session=session, project_id=caller.project_id,
                                    group_id=_id(group_id, "SCIM group"))
    return scim_response(await _group_out(request, session, group))


@router.put("/Groups/{group_id}")
async def replace_group(request: Request, group_id: str, caller: Admin, session: SessionDep) -> Response:
    model = Group.model_validate(await scim_body(request), scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST)
    values, members = _group_model_values(model)
    group = await service.update_group(session=session, project_id=caller.project_id,
                                       group_id=_id(group_id, "SCIM group"), values=values, members=members)
    return scim_response(await _group_out(request, session, group))


@router.patch("/Groups/{group_id}")
async def patch_group(request: Request, group_id: str, caller: Admin, session: SessionDep) -> Response:
    body = await scim_body(request)
    group = await service.get_group(session=session, project_id=caller.project_id,
                                    group_id=_id(group_id, "SCIM group"))
    members = await service.members_of(session=session, project_id=caller.project_id, group_ids=[group.id])
    model = Group.model_validate(group_resource(request, group, members[group.id]))
    PatchOp[Group].model_validate(body, scim_ctx=Context.RESOURCE_PATCH_REQUEST).patch(model)
    values, member_ids = _group_model_values(model)
    group = await service.update_group(session=session, project_id=caller.project_id, group_id=group.id,
                                       values=values, members=member_ids)
    # Entra ID and Okta expect 204 or the resource; the resource tells them what was stored.
    return scim_response(await _group_out(request, session, group))


@router.delete("/Groups/{group_id}", status_code=204)
async def delete_group(group_id: str, caller: Admin, session: SessionDep) -> Response:
    await service.delete_group(session=session, project_id=caller.project_id, group_id=_id(group_id, "SCIM group"))
    return Response(status_code=204)


# -- discovery (RFC 7644 4) ---------------------------------------------------------------------

def service_provider_config(request: Request) -> dict[str, Any]:
    config = ServiceProviderConfig(
        documentation_uri=None, patch=Patch(supported=True),
        bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
        filter=Filter(supported=True, max_results=MAX_FIRST), change_password=ChangePassword(supported=False),
        sort=Sort(supported=False), etag=ETag(supported=False),
        authentication_schemes=[AuthenticationScheme(
            type="oauthbearertoken", name="Bearer project key", primary=True,
            description="An admin-scoped Pulse project key: Authorization: Bearer pa_live_...")])
    dumped = config.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
    dumped["meta"] = {"resourceType": "ServiceProviderConfig", "location": f"{_base(request)}/ServiceProviderConfig"}
    return dumped


def _resource_types(request: Request) -> list[dict[str, Any]]:
    out = []
    for model in (ScimUserModel, Group):
        dumped = ResourceType.from_resource(model).model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
        dumped["meta"] = {"resourceType": "ResourceType", "location": f"{_base(request)}/ResourceTypes/{dumped['id']}"}
        out.append(dumped)
    return out


def _schemas(request: Request) -> list[dict[str, Any]]:
    out = []
    for model in (User, Group, EnterpriseUser):
        dumped = model.to_schema().model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
        dumped["meta"] = {"resourceType": "Schema", "location": f"{_base(request)}/Schemas/{dumped['id']}"}
        out.append(dumped)
    return out


def _listed(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {"schemas": [LIST_SCHEMA], "totalResults": len(resources), "startIndex": 1,
            "itemsPerPage": len(resources), "Resources": resources}


def _one(resources: list[dict[str, Any]], wanted: str, noun: str) -> dict[str, Any]:
    for resource in resources:
        if resource["id"] == wanted:
            return resource
    raise ScimError(404, f"{noun} '{wanted}' not found.")


@router.get("/ServiceProviderConfig")
async def get_service_provider_config(request: Request, caller: Admin) -> Response:
    return scim_response(service_provider_config(request))


@router.get("/ResourceTypes")
async def list_resource_types(request: Request, caller: Admin) -> Response:
    return scim_response(_listed(_resource_types(request)))


@router.get("/ResourceTypes/{name}")
async def get_resource_type(request: Request, name: str, caller: Admin) -> Response:
    return scim_response(_one(_resource_types(request), name, "Resource type"))


@router.get("/Schemas")
async def list_schemas(request: Request, caller: Admin) -> Response:
    return scim_response(_listed(_schemas(request)))


@router.get("/Schemas/{schema_id}")
async def get_schema(request: Request, schema_id: str, caller: Admin) -> Response:
    return scim_response(_one(_schemas(request), schema_id, "Schema"))
