"""/api/admin/projects/{project_id}/webhooks, as the API reference shows them."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Response

from pulse.admin.tables import Webhook
from pulse.admin.webhooks import service
from pulse.auth import PROJECT_ADMIN, Caller
from pulse.definitions import JsonObject, Paging, listing
from pulse.deps import RuntimeDep, SessionDep, requires
from pulse.timestamps import iso_utc

# Included by pulse/admin/rest.py, under its /api/admin/projects.
router = APIRouter(prefix="/{project_id}/webhooks", tags=["admin"])
ProjectAdmin = Annotated[Caller, requires(PROJECT_ADMIN)]


def webhook_json(hook: Webhook) -> dict:
    """A subscription as the API shows it; the secret never leaves the server."""
    return {"id": service.WEBHOOKS.public_id(hook), "url": hook.url, "events": hook.events,
            "created_at": iso_utc(hook.created_at)}


def test_json(result: service.WebhookTestResult) -> dict:
    """The reference's three fields, and why when it failed."""
    shown = asdict(result)
    if shown["reason"] is None:
        del shown["reason"]
    return shown


@router.post("", status_code=201)
async def create_webhook(caller: ProjectAdmin, body: JsonObject, session: SessionDep, runtime: RuntimeDep) -> dict:
    return webhook_json(await service.create_webhook(session=session, settings=runtime.settings,
                                                     project_id=caller.project_id, body=body))


@router.get("")
async def list_webhooks(caller: ProjectAdmin, window: Paging, session: SessionDep) -> dict:
    return listing(*await service.list_webhooks(session=session, project_id=caller.project_id, window=window),
                   webhook_json)


@router.put("/{webhook_id}")
async def update_webhook(caller: ProjectAdmin, webhook_id: str, body: JsonObject, session: SessionDep,
                         runtime: RuntimeDep) -> dict:
    return webhook_json(await service.update_webhook(session=session, settings=runtime.settings,
                                                     project_id=caller.project_id, webhook_id=webhook_id, body=body))


@router.delete("/{webhook_id}", status_code=204)
async def delete_webhook(caller: ProjectAdmin, webhook_id: str, session: SessionDep) -> Response:
    await service.delete_webhook(session=session, project_id=caller.project_id, webhook_id=webhook_id)
    return Response(status_code=204)


@router.post("/{webhook_id}/test")
async def test_webhook(caller: ProjectAdmin, webhook_id: str, runtime: RuntimeDep) -> dict:
    # A read session, closed before the delivery: no pooled connection waits on a slow receiver.
    async with runtime.read_session() as session:
        hook = await service.get_webhook(session=session, project_id=caller.project_id, webhook_id=webhook_id)
    return test_json(await service.send_test(settings=runtime.settings, hook=hook))
