"""Webhooks on the GraphQL face, over the same service as the REST routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from pulse.admin.tables import Webhook as WebhookRow
from pulse.admin.webhooks import service
from pulse.auth import PROJECT_ADMIN
from pulse.definitions import Connection, connection, given
from pulse.graphql.paging import Window
from pulse.graphql.permissions import allow
from pulse.modules.registry import Action

ProjectId = Annotated[strawberry.ID, strawberry.argument(name="projectId")]
admin = [allow(PROJECT_ADMIN)]
EVENTS_DOC = f"Event types: {', '.join(service.EVENTS)}."


@strawberry.type(description="A webhook subscription; its secret is never shown.")
class Webhook:
    id: strawberry.ID
    url: str
    events: list[str]
    created_at: datetime

    @classmethod
    def of(cls, hook: WebhookRow) -> Webhook:
        return cls(id=strawberry.ID(service.WEBHOOKS.public_id(hook)), url=hook.url, events=list(hook.events),
                   created_at=hook.created_at)


@strawberry.input
class WebhookInput:
    url: str = strawberry.field(description="Where deliveries are POSTed (http or https, not a private address).")
    events: list[str] = strawberry.field(description=EVENTS_DOC)
    secret: str = strawberry.field(description="Signs deliveries (8 to 256 characters); never shown again.")


@strawberry.input(description="Only the fields given change.")
class WebhookUpdateInput:
    url: str | None = strawberry.UNSET
    events: list[str] | None = strawberry.field(default=strawberry.UNSET, description=EVENTS_DOC)
    secret: str | None = strawberry.field(default=strawberry.UNSET, description="A new signing secret.")


@strawberry.type
class WebhookTestResult:
    success: bool
    status_code: int | None = strawberry.field(description="The receiver's status; null when none answered.")
    response_time_ms: int
    reason: str | None = strawberry.field(description="Why the delivery failed, when it did.")


@strawberry.type
class Query:
    @strawberry.field(permission_classes=admin, description="A project's webhook subscriptions, newest first.")
    async def webhooks(self, info: Info, project_id: ProjectId, first: int = 100,
                       after: str | None = None) -> Connection[Webhook]:
        window = Window.of(first, after)
        caller = await info.context.authorize(PROJECT_ADMIN, project_id, Action.READ)
        rows, total = await service.list_webhooks(session=info.context.session, project_id=caller.project_id,
                                                  window=window)
        return connection(window, rows, total, Webhook.of)


@strawberry.type
class Mutation:
    @strawberry.mutation(permission_classes=admin, description="Subscribe a URL to events.")
    async def create_webhook(self, info: Info, project_id: ProjectId, input: WebhookInput) -> Webhook:
        checked = await _checked(info, project_id)
        async with info.context.transaction() as session:
            return Webhook.of(await service.create_webhook(session=session, settings=info.context.runtime.settings,
                                                           project_id=checked, body=given(input)))

    @strawberry.mutation(permission_classes=admin, description="Change a webhook's url, events or secret.")
    async def update_webhook(self, info: Info, project_id: ProjectId, id: strawberry.ID,
                             input: WebhookUpdateInput) -> Webhook:
        checked = await _checked(info, project_id)
        async with info.context.transaction() as session:
            return Webhook.of(await service.update_webhook(session=session, settings=info.context.runtime.settings,
                                                           project_id=checked, webhook_id=id, body=given(input)))

    @strawberry.mutation(permission_classes=admin, description="Remove a webhook subscription.")
    async def delete_webhook(self, info: Info, project_id: ProjectId, id: strawberry.ID) -> bool:
        checked = await _checked(info, project_id)
        async with info.context.transaction() as session:
            await service.delete_webhook(session=session, project_id=checked, webhook_id=id)
        return True

    @strawberry.mutation(permission_classes=admin, description="Fire a signed test payload at the webhook's URL.")
    async def test_webhook(self, info: Info, project_id: ProjectId, id: strawberry.ID) -> WebhookTestResult:
        checked = await _checked(info, project_id)
        async with info.context.transaction() as session:  # released before the delivery
            hook = await service.get_webhook(session=session, project_id=checked, webhook_id=id)
        result = await service.send_test(settings=info.context.runtime.settings, hook=hook)
        return WebhookTestResult(success=result.success, status_code=result.status_code,
                                 response_time_ms=result.response_time_ms, reason=result.reason)


async def _checked(info: Info, project_id: strawberry.ID):
    """The project the field's permission check resolved (memoized: no second lookup)."""
    return (await info.context.authorize(PROJECT_ADMIN, project_id, Action.WRITE)).project_id
