"""SCIM provisioning on the GraphQL face: `Project.scimUsers`, `scimUser`, `scimGroups`,
`scimGroup`, and mutations to create, replace and delete users and groups (admin only), over the
same service and bodies as the reference's REST routes."""

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
from pulse.modules.identity.scim import service
from pulse.modules.identity.scim.tables import ScimGroup as GroupRow
from pulse.modules.identity.scim.tables import ScimUser as UserRow
from pulse.modules.registry import Action

READ = need("identity", "query")
WRITE = need("identity", "admin")
readable, writable = [allow(READ)], [allow(WRITE)]
ProjectId = Annotated[strawberry.ID | None, strawberry.argument(
    name="projectId", description="With the admin token: the project; a key acts on its own.")]


@strawberry.type(description="An email address of a provisioned user (stored lower-cased).")
class ScimEmail:
    value: str
    primary: bool
    type: str | None
    display: str | None


@strawberry.type(description="A provisioned user, synced to the identity profile `visitorId` (scim:{id}).")
class ScimUser:
    id: strawberry.ID
    user_name: str
    external_id: str | None
    active: bool
    display_name: str | None
    name: JSON | None = strawberry.field(description="SCIM's name: givenName, familyName, formatted...")
    emails: list[ScimEmail]
    traits: JSON
    visitor_id: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, user: UserRow) -> ScimUser:
        return cls(id=strawberry.ID(str(user.id)), user_name=user.user_name, external_id=user.external_id,
                   active=user.active, display_name=user.display_name, name=user.name,
                   emails=[ScimEmail(value=e["value"], primary=bool(e.get("primary")), type=e.get("type"),
                                     display=e.get("display")) for e in user.emails or []],
                   traits=user.traits, visitor_id=service.visitor_id(user), created_at=user.created_at,
                   updated_at=user.updated_at)


@strawberry.type(description="A provisioned group and its members, in their order.")
class ScimGroup:
    id: strawberry.ID
    display_name: str
    external_id: str | None
    traits: JSON
    members: list[ScimUser]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, group: GroupRow, members: list[UserRow]) -> ScimGroup:
        return cls(id=strawberry.ID(str(group.id)), display_name=group.display_name, external_id=group.external_id,
                   traits=group.traits, members=[ScimUser.of(m) for m in members], created_at=group.created_at,
                   updated_at=group.updated_at)


@strawberry.input
class ScimEmailInput:
    value: str
    primary: bool = False
    type: str | None = strawberry.UNSET
    display: str | None = strawberry.UNSET


@strawberry.input
class ScimNameInput:
    formatted: str | None = strawberry.UNSET
    family_name: str | None = strawberry.UNSET
    given_name: str | None = strawberry.UNSET
    middle_name: str | None = strawberry.UNSET
    honorific_prefix: str | None = strawberry.UNSET
    honorific_suffix: str | None = strawberry.UNSET


@strawberry.input(description="A user, as the REST body. On replace, only the fields given change.")
class ScimUserInput:
    user_name: str | None = strawberry.UNSET
    external_id: str | None = strawberry.UNSET
    active: bool | None = strawberry.UNSET
    display_name: str | None = strawberry.UNSET
    name: ScimNameInput | None = strawberry.UNSET
    emails: list[ScimEmailInput] | None = strawberry.UNSET
    traits: JSON | None = strawberry.UNSET


@strawberry.input(description="A group, as the REST body; `members` (SCIM user ids), when given, replace the list.")
class ScimGroupInput:
    display_name: str | None = strawberry.UNSET
    external_id: str | None = strawberry.UNSET
    traits: JSON | None = strawberry.UNSET
    members: list[strawberry.ID] | None = strawberry.UNSET


async def _group(session, group: GroupRow) -> ScimGroup:
    members = await service.members_of(session=session, project_id=group.project_id, group_ids=[group.id])
    return ScimGroup.of(group, members[group.id])


@strawberry.type
class ScimFields:
    project_uuid: strawberry.Private[UUID]

    @strawberry.field(permission_classes=readable, description="Provisioned users, newest first.")
    async def scim_users(self, info: Info, first: int = 100, after: str | None = None) -> Connection[ScimUser]:
        window = Window.of(first, after)
        caller = await info.context.authorize(READ, self.project_uuid, Action.READ)
        rows, total = await service.list_users(session=info.context.session, project_id=caller.project_id,
                                               window=window)
        return connection(window, rows, total, ScimUser.of)

    @strawberry.field(permission_classes=readable, description="One provisioned user; an unknown id is NOT_FOUND.")
    async def scim_user(self, info: Info, id: strawberry.ID) -> ScimUser:
        caller = await info.context.authorize(READ, self.project_uuid, Action.READ)
        return ScimUser.of(await service.get_user(session=info.context.session, project_id=caller.project_id,
                                                  user_id=id))

    @strawberry.field(permission_classes=readable, description="Provisioned groups with their members, newest first.")
    async def scim_groups(self, info: Info, first: int = 100, after: str | None = None) -> Connection[ScimGroup]:
        window = Window.of(first, after)
        caller = await info.context.authorize(READ, self.project_uuid, Action.READ)
        session = info.context.session
        rows, total = await service.list_groups(session=session, project_id=caller.project_id, window=window)
        members = await service.members_of(session=session, project_id=caller.project_id,
                                           group_ids=[g.id for g in rows])
        return connection(window, rows, total, lambda g: ScimGroup.of(g, members[g.id]))

    @strawberry.field(permission_classes=readable, description="One provisioned group; an unknown id is NOT_FOUND.")
    async def scim_group(self, info: Info, id: strawberry.ID) -> ScimGroup:
        caller = await info.context.authorize(READ, self.project_uuid, Action.READ)
        group = await service.get_group(session=info.context.session, project_id=caller.project_id, group_id=id)
        return await _group(info.context.session, group)


async def _project(info: Info, project_id: strawberry.ID | None) -> UUID:
    return (await info.context.authorize(WRITE, project_id, Action.WRITE)).project_id


@strawberry.type
class Mutation:
    @strawberry.mutation(permission_classes=writable, description="Provision a user (and its identity profile).")
    async def create_scim_user(self, info: Info, input: ScimUserInput, project_id: ProjectId = None) -> ScimUser:
        checked = await _project(info, project_id)
        async with info.context.transaction() as session:
            return ScimUser.of(await service.create_user(session=session, project_id=checked,
                                                         values=service.user_values(given(input))))

    @strawberry.mutation(permission_classes=writable, description="Change the fields given of a provisioned user.")
    async def replace_scim_user(self, info: Info, id: strawberry.ID, input: ScimUserInput,
                                project_id: ProjectId = None) -> ScimUser:
        checked = await _project(info, project_id)
        async with info.context.transaction() as session:
            return ScimUser.of(await service.update_user(session=session, project_id=checked, user_id=id,
                                                         values=service.user_values(given(input), partial=True)))

    @strawberry.mutation(permission_classes=writable, description="Deprovision a user; its profile goes too.")
    async def delete_scim_user(self, info: Info, id: strawberry.ID, project_id: ProjectId = None) -> bool:
        checked = await _project(info, project_id)
        async with info.context.transaction() as session:
            await service.delete_user(session=session, project_id=checked, user_id=id)
        return True

    @strawberry.mutation(permission_classes=writable, description="Create a group of existing SCIM users.")
    async def create_scim_group(self, info: Info, input: ScimGroupInput, project_id: ProjectId = None) -> ScimGroup:
        checked = await _project(info, project_id)
        async with info.context.transaction() as session:
            values, members = service.group_values(given(input))
            group = await service.create_group(session=session, project_id=checked, values=values,
                                               members=members or [])
            return await _group(session, group)

    @strawberry.mutation(permission_classes=writable,
                         description="Change a group's details; `members` replace the list.")
    async def replace_scim_group(self, info: Info, id: strawberry.ID, input: ScimGroupInput,
                                 project_id: ProjectId = None) -> ScimGroup:
        checked = await _project(info, project_id)
        async with info.context.transaction() as session:
            values, members = service.group_values(given(input), partial=True)
            group = await service.update_group(session=session, project_id=checked, group_id=id, values=values,
                                               members=members)
            return await _group(session, group)

    @strawberry.mutation(permission_classes=writable, description="Remove a group (its users stay).")
    async def delete_scim_group(self, info: Info, id: strawberry.ID, project_id: ProjectId = None) -> bool:
        checked = await _project(info, project_id)
        async with info.context.transaction() as session:
            await service.delete_group(session=session, project_id=checked, group_id=id)
        return True
