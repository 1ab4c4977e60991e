"""The audit log: who (the admin token, or an API key by its id) did what, when, to which object, per
project. Append-only: rows are inserted, never changed; the database refuses UPDATE, and DELETE except
the cascade of the project's own deletion (migration 0006). See docs/audit.md.

Writing an entry: call `record` with the session of the change, before the boundary commits, so the
entry commits or rolls back with the change it describes (on a read session, which has no
transaction, it is written at once):

    from pulse import audit
    await audit.record(session, caller, "dsar.delete", "visitor", visitor_id, {"deleted": counts})

- `caller` is the route's or field's `Caller` (`requires(...)` / `info.context.authorize(...)`); the
  entry's project is its project. `None` means the caller bound to this request by the access check
  (`acting`), else the system (a worker job, the CLI); pass `project_id=` then.
- `action` is `<object_type>.<verb>`: `key.create`, `module.update`, `dsar.export`...
- `object_id` is the id the API shows (a key's id, a module's name, `wh-<uuid>`, a visitor id).
- `details` is a small JSON object: what changed, never a secret or a key's value. Datetimes, UUIDs
  and tuples are stored as the API shows them (ISO 8601 UTC strings, strings, arrays).

Saved definitions (pulse.definitions) record `<noun>.create|update|delete` themselves: a resource
built on `Definitions` is audited with no code of its own.
"""

from __future__ import annotations

import uuid
from contextvars import ContextVar
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Text, func, insert, select
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from pulse.auth import Caller
from pulse.db import Base
from pulse.graphql.paging import Window
from pulse.timestamps import iso_utc

ACTOR_TYPES = ("admin_token", "api_key", "system")


class AuditLog(Base):
    """One audited action. `project_id` leads the key; the listing reads (project_id, created_at, id)
    backwards, newest first."""

    __tablename__ = "audit_logs"

    project_id: Mapped[uuid.UUID] = mapped_column(
        UUID, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, default=uuid.uuid4)
    action: Mapped[str] = mapped_column(Text)
    actor_type: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(UUID, nullable=True)  # the key's id, for api_key
    object_type: Mapped[str] = mapped_column(Text)
    object_id: Mapped[str] = mapped_column(Text)
    details: Mapped[dict | None] = mapped_column(JSONB, nullable=True)
    # The clock, not the transaction's start: entries written by one change keep their order.
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.clock_timestamp())

    __table_args__ = (
        Index("ix_audit_logs_project_id_created_at_id", "project_id", "created_at", "id"),
        CheckConstraint("actor_type IN ('admin_token', 'api_key', 'system')", name="actor_type"),
        CheckConstraint("(actor_type = 'api_key') = (actor_id IS NOT NULL)", name="actor_id"),
    )


# -- who is acting ---------------------------------------------------------------------------

_acting: ContextVar[Caller | None] = ContextVar("pulse_audit_acting", default=None)


def acting(caller: Caller) -> None:
    """Bind `caller` as who acts in this request (or GraphQL field), for entries written without
    one (saved definitions). The access check calls it once the caller has passed."""
    _acting.set(caller)


def actor(caller: Caller | None) -> tuple[str, uuid.UUID | None]:
    """`(actor_type, actor_id)` of a caller: a key by its id, else the admin token (a dashboard admin
    session acts as the token); no caller at all is the system."""
    if caller is None:
        return "system", None
    if caller.key is not None:
        return "api_key", caller.key.id
    return "admin_token", None


def _plain(value: Any) -> Any:
    """`value` as JSON stores it, the way the API shows it."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in (sorted(value) if isinstance(value, (set, frozenset)) else value)]
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """`{field: {"from": old, "to": new}}` for the fields whose value differs (the `details` of an
    update whose values are no secret)."""
    return {name: {"from": _plain(before.get(name)), "to": _plain(value)}
            for name, value in after.items() if _plain(before.get(name)) != _plain(value)}


# -- writing and reading ---------------------------------------------------------------------

async def record(session: AsyncSession, caller: Caller | None, action: str, object_type: str, object_id: object,
                 details: dict[str, Any] | None = None, *, project_id: uuid.UUID | None = None) -> None:
    """Append one entry in `session`'s transaction (see the module docstring)."""
    who = caller if caller is not None else _acting.get()
    project_id = project_id or (who.project_id if who is not None else None)
    if project_id is None:
        raise ValueError("an audit entry needs a project: a caller acting on one, or project_id=")
    actor_type, actor_id = actor(who)
    await session.execute(insert(AuditLog).values(
        project_id=project_id, id=uuid.uuid4(), action=action, actor_type=actor_type, actor_id=actor_id,
        object_type=object_type, object_id=str(object_id), details=_plain(details) if details is not None else None))


async def page(*, session: AsyncSession, project_id: uuid.UUID, window: Window) -> tuple[list[AuditLog], int]:
    """One page of the project's entries, newest first, and how many there are."""
    total = (await session.execute(
        select(func.count()).select_from(AuditLog).where(AuditLog.project_id == project_id))).scalar_one()
    if total <= window.offset:
        return [], total
    rows = (await session.execute(
        select(AuditLog).where(AuditLog.project_id == project_id)
        .order_by(AuditLog.created_at.desc(), AuditLog.id.desc())
        .limit(window.limit).offset(window.offset))).scalars()
    return list(rows), total


def entry_json(row: AuditLog) -> dict[str, Any]:
    """An entry as the REST API shows it."""
    return {"id": str(row.id), "action": row.action, "actor_type": row.actor_type,
            "actor_id": str(row.actor_id) if row.actor_id else None, "object_type": row.object_type,
            "object_id": row.object_id, "details": row.details, "created_at": iso_utc(row.created_at)}

