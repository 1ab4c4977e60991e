"""Webhook subscriptions and the test delivery. Plain async functions; the caller commits."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from pydantic import field_validator
from sqlalchemy.ext.asyncio import AsyncSession

from pulse.admin.tables import Webhook
from pulse.admin.webhooks.signing import signature_headers
from pulse.config import Settings
from pulse.definitions import BodyModel, Definitions, validated
from pulse.graphql.paging import Window
from pulse.outbound import Outbound, OutboundError, check_target
from pulse.timestamps import iso_utc

EVENTS = ("traffic_spike", "zero_traffic", "daily_summary")
MAX_URL = 2048
SECRET_LENGTH = (8, 256)

WEBHOOKS = Definitions(Webhook, noun="Webhook", prefix="wh-")


class WebhookIn(BodyModel):
    url: str
    events: list[str]
    # Required: it is never returned, so only a secret the receiver chose can be checked there.
    secret: str

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if len(value) > MAX_URL:
            raise ValueError(f"must be at most {MAX_URL} characters")
        return value.strip()

    @field_validator("events")
    @classmethod
    def _events(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError(f"must list at least one of {', '.join(EVENTS)}")
        for event in value:
            if event not in EVENTS:
                raise ValueError(f"unknown event type '{event}' (expected {', '.join(EVENTS)})")
        if len(set(value)) != len(value):
            raise ValueError("lists an event type twice")
        return value

    @field_validator("secret")
    @classmethod
    def _secret(cls, value: str) -> str:
        low, high = SECRET_LENGTH
        if not low <= len(value) <= high:
            raise ValueError(f"must be {low} to {high} characters long")
        return value


@dataclass(frozen=True, slots=True)
class WebhookTestResult:
    success: bool
    status_code: int | None
    response_time_ms: int
    reason: str | None = None  # why it failed, when it did


async def _checked(values: dict[str, Any], settings: Settings) -> dict[str, Any]:
    if "url" in values:
        await check_target(values["url"], allow_private=settings.allow_private_targets)
    return values


async def create_webhook(*, session: AsyncSession, settings: Settings, project_id: UUID,
                         body: dict[str, Any]) -> Webhook:
    """Subscribe a URL (checked by pulse.outbound) to events, signed with the given secret."""
    values = await _checked(validated(WebhookIn, body), settings)
    return await WEBHOOKS.create(session=session, project_id=project_id, values=values)


async def list_webhooks(*, session: AsyncSession, project_id: UUID, window: Window) -> tuple[list[Webhook], int]:
    """A page of the project's webhooks, newest first, and how many there are."""
    return await WEBHOOKS.page(session=session, project_id=project_id, window=window)


async def get_webhook(*, session: AsyncSession, project_id: UUID, webhook_id: str) -> Webhook:
    """One of the project's webhooks, or 404."""
    return await WEBHOOKS.get(session=session, project_id=project_id, id=webhook_id)


async def update_webhook(*, session: AsyncSession, settings: Settings, project_id: UUID, webhook_id: str,
                         body: dict[str, Any]) -> Webhook:
    """Change the url, events or secret given, and nothing else."""
    values = await _checked(validated(WebhookIn, body, partial=True), settings)
    return await WEBHOOKS.update(session=session, project_id=project_id, id=webhook_id, values=values)


async def delete_webhook(*, session: AsyncSession, project_id: UUID, webhook_id: str) -> None:
    """Remove a subscription."""
    await WEBHOOKS.delete(session=session, project_id=project_id, id=webhook_id)


def envelope(hook: Webhook, now: datetime) -> dict[str, Any]:
    """The envelope every delivery has (the reference's), for the `test` event."""
    return {"event": "test", "project_id": str(hook.project_id), "timestamp": iso_utc(now),
            "data": {"webhook_id": WEBHOOKS.public_id(hook), "message": "A test delivery from Pulse."}}


async def send_test(*, settings: Settings, hook: Webhook, outbound: Outbound | None = None) -> WebhookTestResult:
    """POST a signed test payload to the hook's URL through pulse.outbound. A refused or failed
    delivery is an answer (success false, with the reason), not an error."""
    now = datetime.now(UTC)
    body = json.dumps(envelope(hook, now), separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json", **signature_headers(
        hook.secret, message_id=f"msg_{uuid.uuid4().hex}", timestamp=int(now.timestamp()), body=body)}
    client = outbound or Outbound.from_settings(settings)
    started = time.monotonic()
    try:
        reply = await client.send("POST", hook.url, headers=headers, content=body)
    except OutboundError as failure:
        return WebhookTestResult(False, None, round((time.monotonic() - started) * 1000), str(failure))
    finally:
        if outbound is None:
            await client.aclose()
    ok = 200 <= reply.status_code < 300
    return WebhookTestResult(ok, reply.status_code, reply.elapsed_ms, None if ok else f"answered {reply.status_code}")
