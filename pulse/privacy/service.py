"""Privacy settings: read with the reference's defaults, updated with validation."""

from __future__ import annotations

import re
from dataclasses import replace
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from pulse import audit, errors
from pulse.access import invalidate_after_commit
from pulse.auth import Caller
from pulse.ingest.tables import privacy_settings
from pulse.privacy.settings import FIELDS, PrivacySettings, from_row

_MODE = re.compile(r"^[a-z0-9_-]{1,50}$")


_BOOLEANS = ("anonymize_ip", "respect_dnt", "bot_filtering", "consent_required")


async def get_settings(*, session: AsyncSession, project_id: UUID) -> PrivacySettings:
    """The project's privacy settings (defaults until first changed)."""
    row = (await session.execute(select(privacy_settings).where(
        privacy_settings.c.project_id == project_id))).one_or_none()
    return from_row(row)


def _validated(changes: dict) -> dict:
    unknown = sorted(set(changes) - set(FIELDS))
    if unknown:
        raise errors.BadRequest(f"Invalid request body: unknown field '{unknown[0]}' "
                                f"(supported: {', '.join(FIELDS)}).")
    clean: dict = {}
    for name in _BOOLEANS:
        if name in changes:
            if not isinstance(changes[name], bool):
                raise errors.BadRequest(f"Invalid request body: field '{name}' must be true or false.")
            clean[name] = changes[name]
    if "allowed_consent_modes" in changes:
        modes = changes["allowed_consent_modes"]
        if not isinstance(modes, list) or len(modes) > 20 or not all(
                isinstance(m, str) and _MODE.match(m) for m in modes):
            raise errors.BadRequest("Invalid request body: field 'allowed_consent_modes' must be a list of up to 20 "
                                    "lowercase names (letters, digits, '_' or '-').")
        clean["allowed_consent_modes"] = tuple(dict.fromkeys(modes))
    if "blocked_user_agents" in changes:
        agents = changes["blocked_user_agents"]
        if not isinstance(agents, list) or len(agents) > 100 or not all(
                isinstance(a, str) and 0 < len(a.strip()) <= 200 for a in agents):
            raise errors.BadRequest("Invalid request body: field 'blocked_user_agents' must be a list of up to 100 "
                                    "non-empty strings of at most 200 characters.")
        clean["blocked_user_agents"] = tuple(dict.fromkeys(a.strip() for a in agents))
    return clean


async def update_settings(*, session: AsyncSession, project_id: UUID, changes: dict,
                          caller: Caller | None = None) -> PrivacySettings:
    """Apply the given fields (others keep their value); ingestion sees the change at once. A real
    change writes one `privacy_settings.update` audit entry with each changed field's from and to."""
    current = await get_settings(session=session, project_id=project_id)
    updated = replace(current, **_validated(changes))
    values = {"project_id": project_id, **updated.as_dict()}
    stmt = insert(privacy_settings).values(values)
    await session.execute(stmt.on_conflict_do_update(
        index_elements=[privacy_settings.c.project_id],
        set_={**{name: stmt.excluded[name] for name in FIELDS}, "updated_at": stmt.excluded.updated_at}))
    invalidate_after_commit(session, project_id)
    changed = audit.changes(current.as_dict(), updated.as_dict())
    if changed:
        await audit.record(session, caller, "privacy_settings.update", "privacy_settings", project_id, changed,
                           project_id=project_id)
    return updated
