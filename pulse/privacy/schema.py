"""Privacy settings and DSAR export and delete on the GraphQL face (admin token, or an admin-scoped key
of the project), over the same services as REST."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from pulse.auth import PROJECT_ADMIN
from pulse.graphql.permissions import allow
from pulse.modules.registry import Action
from pulse.privacy import dsar, service

OptionalProjectId = Annotated[strawberry.ID | None, strawberry.argument(name="projectId")]


@strawberry.type(description="What ingestion keeps, drops and anonymizes for a project.")
class PrivacySettings:
    anonymize_ip: bool
    respect_dnt: bool
    bot_filtering: bool
    consent_required: bool
    allowed_consent_modes: list[str]
    blocked_user_agents: list[str]

    @classmethod
    def of(cls, s: service.PrivacySettings) -> PrivacySettings:
        return cls(**s.as_dict())


@strawberry.input(description="Fields left out keep their value.")
class PrivacySettingsInput:
    anonymize_ip: bool | None = strawberry.UNSET
    respect_dnt: bool | None = strawberry.UNSET
    bot_filtering: bool | None = strawberry.UNSET
    consent_required: bool | None = strawberry.UNSET
    allowed_consent_modes: list[str] | None = strawberry.UNSET
    blocked_user_agents: list[str] | None = strawberry.UNSET


@strawberry.type(description="A DSAR delete: done (`deleted` per table) or pending (the writer has yet to reach it).")
class VisitorDeletion:
    visitor_id: str
    request_id: str
    status: str = strawberry.field(description="deleted or pending.")
    deleted: JSON | None = strawberry.field(description="Rows deleted per table, once done.")


@strawberry.type
class Query:
    @strawberry.field(permission_classes=[allow(PROJECT_ADMIN)])
    async def privacy_settings(self, info: Info, project_id: OptionalProjectId = None) -> PrivacySettings:
        caller = await info.context.authorize(PROJECT_ADMIN, project_id, Action.READ)
        return PrivacySettings.of(await service.get_settings(session=info.context.session,
                                                             project_id=caller.project_id))

    @strawberry.field(permission_classes=[allow(PROJECT_ADMIN)],
                      description="Everything Pulse holds about one visitor (the REST export's document).")
    async def visitor_export(self, info: Info, visitor_id: str, project_id: OptionalProjectId = None) -> JSON:
        caller = await info.context.authorize(PROJECT_ADMIN, project_id, Action.READ)
        visitor_id = dsar.visitor_id_of(visitor_id)
        document = await dsar.export_document(info.context.runtime.engine, caller.project_id, visitor_id)
        await dsar.audit_export(info.context.session, caller, visitor_id)
        return document


@strawberry.type
class Mutation:
    @strawberry.mutation(permission_classes=[allow(PROJECT_ADMIN)])
    async def update_privacy_settings(self, info: Info, input: PrivacySettingsInput,
                                      project_id: OptionalProjectId = None) -> PrivacySettings:
        caller = await info.context.authorize(PROJECT_ADMIN, project_id, Action.WRITE)
        changes = {name: value for name, value in vars(input).items() if value is not strawberry.UNSET}
        async with info.context.transaction() as session:
            updated = await service.update_settings(session=session, project_id=caller.project_id, changes=changes,
                                                    caller=caller)
        return PrivacySettings.of(updated)

    @strawberry.mutation(permission_classes=[allow(PROJECT_ADMIN)],
                         description="Delete one visitor's data everywhere, reports included (audited).")
    async def delete_visitor_data(self, info: Info, visitor_id: str,
                                  project_id: OptionalProjectId = None) -> VisitorDeletion:
        caller = await info.context.authorize(PROJECT_ADMIN, project_id, Action.WRITE)
        _, answer = await dsar.delete(info.context.runtime, caller, dsar.visitor_id_of(visitor_id))
        return VisitorDeletion(**answer)
