"""Projects, API keys and module settings. Plain async functions; the caller commits.

Creating and revoking a key and changing a module write their audit entry (pulse.audit) in the same
transaction, as `caller` (None: the caller the access check bound, else the system: the CLI, the demo).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import redis.asyncio as aioredis
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from pulse import audit, errors
from pulse.access import invalidate_after_commit, last_used_flushing_key, last_used_key
from pulse.admin.keys import display_prefix, generate_key
from pulse.admin.tables import ApiKey, Project, ProjectModule
from pulse.auth import SCOPES, Caller, hash_key
from pulse.db import as_uuid
from pulse.modules.registry import DEFAULT_ACCESS, MODULES, Access, always_on, is_enabled

_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
_HOSTNAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*(:\d{{1,5}})?$")


@dataclass(frozen=True, slots=True)
class ModuleSetting:
    name: str
    category: str
    description: str
    enabled: bool
    access: Access


@dataclass(frozen=True, slots=True)
class ModuleChange:
    name: str
    enabled: bool | None = None
    access: str | None = None


# -- validation ------------------------------------------------------------------------------

def _name(value: str, field: str = "name") -> str:
    value = (value or "").strip()
    if not value:
        raise errors.BadRequest(f"Invalid request body: '{field}' must not be empty.")
    if len(value) > 200:
        raise errors.BadRequest(f"Invalid request body: '{field}' must be at most 200 characters.")
    return value


def normalize_domain(value: str) -> str:
    """`https://App.Example.com/` and `app.example.com` name the same site."""
    raw = (value or "").strip().lower()
    host = urlsplit(raw).netloc if "://" in raw else raw.rstrip("/")
    if not _HOSTNAME.match(host):
        raise errors.BadRequest(f"Invalid request body: 'domain' must be a hostname such as "
                                f"'app.example.com', got '{value}'.")
    return host


def _module_name(name: str) -> str:
    if name not in MODULES:
        raise errors.BadRequest(f"Unknown module '{name}'.")
    return name


def _access(value: str) -> Access:
    try:
        return Access(value)
    except ValueError:
        raise errors.BadRequest(
            f"Invalid access level '{value}': expected one of read, write, all.") from None


def _scopes(values: list[str]) -> list[str]:
    if not values:
        raise errors.BadRequest("Invalid request body: 'scopes' must list at least one of ingest, query, admin.")
    unknown = [s for s in values if s not in SCOPES]
    if unknown:
        raise errors.BadRequest(f"Invalid request body: unknown scope '{unknown[0]}' "
                                f"(expected ingest, query or admin).")
    return sorted(set(values), key=SCOPES.index)


def _allowed_modules(values: list[str] | None) -> list[str] | None:
    if not values:
        return None  # null or empty: every enabled module
    for name in values:
        if name not in MODULES:
            raise errors.BadRequest(f"Invalid request body: unknown module '{name}' in 'allowed_modules'.")
    return sorted(set(values))


# -- projects --------------------------------------------------------------------------------

def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise errors.BadRequest(f"Invalid request body: unknown time zone '{value}' "
                                "(expected an IANA name such as 'Europe/Berlin').") from None
    return value


async def create_project(*, session: AsyncSession, name: str, domain: str, timezone: str = "UTC") -> Project:
    """Register a project with the default module settings; its reports use `timezone`'s days."""
    project = Project(name=_name(name), domain=normalize_domain(domain), timezone=_timezone(timezone))
    session.add(project)
    await session.flush()
    await session.execute(insert(ProjectModule), [
        {"project_id": project.id, "module": m.name, "enabled": m.default_enabled,
         "access": DEFAULT_ACCESS.value}
        for m in MODULES.values()
    ])
    await session.refresh(project)
    return project


async def create_project_with_keys(*, session: AsyncSession, name: str, domain: str) -> tuple[Project, str, str]:
    """A project with an ingest key and a query key, for a first run: the project and both key values."""
    project = await create_project(session=session, name=name, domain=domain)
    _, ingest = await create_key(session=session, project_id=project.id, name="Ingest", scopes=["ingest"])
    _, query = await create_key(session=session, project_id=project.id, name="Query", scopes=["query"])
    return project, ingest, query


async def list_projects(*, session: AsyncSession) -> list[Project]:
    """Every project, oldest first."""
    return list((await session.execute(select(Project).order_by(Project.created_at, Project.id))).scalars())


async def get_project(*, session: AsyncSession, project_id: str | UUID) -> Project:
    """One project, or 404."""
    pid = as_uuid(project_id)
    project = await session.get(Project, pid) if pid else None
    if project is None:
        raise errors.NotFound(f"Project '{project_id}' not found.")
    return project


# -- API keys --------------------------------------------------------------------------------

async def create_key(*, session: AsyncSession, project_id: UUID, name: str, scopes: list[str],
                     expires_at: datetime | None = None,
                     allowed_modules: list[str] | None = None, caller: Caller | None = None) -> tuple[ApiKey, str]:
    """Create a key; the plain value is returned here once and never stored."""
    await get_project(session=session, project_id=project_id)
    if expires_at is not None:
        if expires_at.tzinfo is None:
            expires_at = expires_at.replace(tzinfo=UTC)
        if expires_at <= datetime.now(UTC):
            raise errors.BadRequest("Invalid request body: 'expires_at' must be in the future.")
    value = generate_key()
    key = ApiKey(project_id=project_id, name=_name(name), key_hash=hash_key(value),
                 key_prefix=display_prefix(value), scopes=_scopes(scopes),
                 allowed_modules=_allowed_modules(allowed_modules), expires_at=expires_at)
    session.add(key)
    await session.flush()
    await session.refresh(key)
    await audit.record(session, caller, "key.create", "api_key", key.id, {
        "name": key.name, "scopes": key.scopes, "allowed_modules": key.allowed_modules,
        "expires_at": key.expires_at}, project_id=project_id)
    return key, value


async def list_keys(*, session: AsyncSession, redis: aioredis.Redis, project_id: UUID) -> list[ApiKey]:
    """Active keys, newest first, with `last_used_at` as fresh as Redis knows it."""
    keys = list((await session.execute(
        select(ApiKey).where(ApiKey.project_id == project_id, ApiKey.revoked_at.is_(None))
        .order_by(ApiKey.created_at.desc(), ApiKey.id))).scalars())
    return await overlay_last_used(redis=redis, project_id=project_id, keys=keys)


async def overlay_last_used(*, redis: aioredis.Redis, project_id: UUID, keys: list[ApiKey]) -> list[ApiKey]:
    """Fill in `last_used_at` from Redis, where requests record it without a database write."""
    async with redis.pipeline(transaction=False) as pipe:
        pipe.hgetall(last_used_flushing_key(project_id))  # being moved to the database right now
        pipe.hgetall(last_used_key(project_id))
        aside, current = await pipe.execute()
    recent = {**aside, **current}
    for key in keys:
        seen = recent.get(str(key.id))
        if seen is not None:
            when = datetime.fromtimestamp(int(seen), UTC)
            if key.last_used_at is None or when > key.last_used_at:
                # A display value, not a change: the worker persists it, not this request.
                set_committed_value(key, "last_used_at", when)
    return keys


async def revoke_key(*, session: AsyncSession, project_id: UUID, key_id: str | UUID,
                     caller: Caller | None = None) -> None:
    """Revoke a key; every process stops accepting it as soon as this commits."""
    kid = as_uuid(key_id)
    revoked = None
    if kid is not None:
        revoked = (await session.execute(
            update(ApiKey)
            .where(ApiKey.project_id == project_id, ApiKey.id == kid, ApiKey.revoked_at.is_(None))
            .values(revoked_at=datetime.now(UTC))
            .returning(ApiKey.name))).scalar_one_or_none()
    if revoked is None:
        raise errors.NotFound(f"API key '{key_id}' not found.")
    await audit.record(session, caller, "key.revoke", "api_key", kid, {"name": revoked}, project_id=project_id)
    invalidate_after_commit(session, project_id)


async def record_key_use(*, session: AsyncSession, project_id: UUID, seen: dict[str, str]) -> None:
    """Persist `last_used_at` values gathered in Redis (called by the background worker)."""
    for key_id, second in seen.items():
        kid = as_uuid(key_id)
        if kid is None:
            continue
        when = datetime.fromtimestamp(int(second), UTC)
        await session.execute(
            update(ApiKey).where(ApiKey.project_id == project_id, ApiKey.id == kid,
                                 (ApiKey.last_used_at.is_(None)) | (ApiKey.last_used_at < when))
            .values(last_used_at=when))


# -- modules ---------------------------------------------------------------------------------

async def list_modules(*, session: AsyncSession, project_id: UUID) -> list[ModuleSetting]:
    """All 33 modules with the project's enabled flag and access level."""
    return (await modules_of_projects(session=session, project_ids=[project_id]))[0]


async def modules_of_projects(*, session: AsyncSession, project_ids: list[UUID]) -> list[list[ModuleSetting]]:
    """Module settings for several projects in one query, in the order asked."""
    # Plain rows, not ORM objects: an upsert earlier in this session must show through.
    rows = (await session.execute(
        select(ProjectModule.project_id, ProjectModule.module, ProjectModule.enabled, ProjectModule.access)
        .where(ProjectModule.project_id == project_ids[0] if len(project_ids) == 1
               else ProjectModule.project_id.in_(project_ids)))).all()
    stored: dict[tuple[UUID, str], tuple[bool, str]] = {
        (r.project_id, r.module): (r.enabled, r.access) for r in rows}
    result = []
    for pid in project_ids:
        settings = []
        for info in MODULES.values():
            enabled, access = stored.get((pid, info.name), (info.default_enabled, DEFAULT_ACCESS.value))
            settings.append(ModuleSetting(info.name, info.category, info.description,
                                          is_enabled(info.name, enabled), Access.of(access)))
        result.append(settings)
    return result


async def update_modules(*, session: AsyncSession, project_id: UUID, changes: list[ModuleChange],
                         caller: Caller | None = None) -> list[ModuleSetting]:
    """Apply several module changes at once; all or nothing. Each module whose setting really
    changes gets one `module.update` entry, with what changed."""
    current = {m.name: m for m in await list_modules(session=session, project_id=project_id)}
    rows = {}
    for change in changes:
        name = _module_name(change.name)
        if change.enabled is False and always_on(name):
            raise errors.BadRequest("Module 'core' is always enabled and cannot be disabled.")
        access = _access(change.access) if change.access is not None else current[name].access
        enabled = change.enabled if change.enabled is not None else current[name].enabled
        rows[name] = {"project_id": project_id, "module": name, "enabled": enabled, "access": access.value}
    if rows:
        stmt = insert(ProjectModule).values(list(rows.values()))
        await session.execute(stmt.on_conflict_do_update(
            index_elements=[ProjectModule.project_id, ProjectModule.module],
            set_={"enabled": stmt.excluded.enabled, "access": stmt.excluded.access}))
        invalidate_after_commit(session, project_id)
        for name, row in rows.items():
            was = {"enabled": current[name].enabled, "access": current[name].access.value}
            changed = audit.changes(was, {"enabled": row["enabled"], "access": row["access"]})
            if changed:
                await audit.record(session, caller, "module.update", "module", name, changed, project_id=project_id)
    return await list_modules(session=session, project_id=project_id)


async def set_module(*, session: AsyncSession, project_id: UUID, change: ModuleChange,
                     caller: Caller | None = None) -> ModuleSetting:
    """Change one module (enable, disable or access level) and return its new setting."""
    if change.name not in MODULES:
        raise errors.NotFound(f"Module '{change.name}' not found.")
    settings = await update_modules(session=session, project_id=project_id, changes=[change], caller=caller)
    return next(m for m in settings if m.name == change.name)
