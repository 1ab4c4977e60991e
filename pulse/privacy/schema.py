"""Privacy settings on the GraphQL face (admin token, or an admin-scoped key of the project)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from pulse.auth import PROJECT_ADMIN
from pulse.graphql.permissions import allow
from pulse.modules.registry import Action
from pulse.privacy import service

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


@strawberry.type
class Query:
    @strawberry.field(permission_classes=[allow(PROJECT_ADMIN)])
    async def privacy_settings(self, info: Info, project_id: OptionalProjectId = None) -> PrivacySettings:
        caller = await info.context.authorize(PROJECT_ADMIN, project_id, Action.READ)
        return PrivacySettings.of(await service.get_settings(session=info.context.session,
                                                             project_id=caller.project_id))


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
