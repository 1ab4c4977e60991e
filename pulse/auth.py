"""Credentials and the one access check used by every REST route and GraphQL field.

Order of checks (docs/architecture.md): credential valid and unexpired, scope, module
enabled for the project, module inside the key's `allowed_modules`, access level.

Keys, with their project's module settings, are cached per process. Each request makes one
Redis round trip (a small Lua script) that counts it against the rate limit, records the key's
`last_used_at`, and reads the project's access epoch; any change to the project's keys or
modules writes a new epoch after it commits, so a revoked key stops working at once in every
process. The admin token's project lookups are not cached: they are rare and read the database.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import string
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from uuid import UUID

import redis.asyncio as aioredis
from redis.exceptions import NoScriptError, RedisError
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from pulse import errors
from pulse.db import after_commit, as_uuid
from pulse.modules.registry import ALWAYS_ON, DEFAULT_ACCESS, MODULES, Access, Action
from pulse.privacy.settings import DEFAULTS as PRIVACY_DEFAULTS
from pulse.privacy.settings import PrivacySettings, from_row

if TYPE_CHECKING:
    from pulse.runtime import Runtime

log = logging.getLogger("pulse.auth")

SCOPES = ("ingest", "query", "admin")
KEY_PREFIX = "pa_live_"
_KEY_ALPHABET = string.ascii_letters + string.digits
_KEY_RANDOM_LENGTH = 24  # 24 base62 characters: about 143 random bits
_NEGATIVE_TTL = 5.0  # seconds an unknown key stays known-unknown, to spare the database
_MAX_AGE = 60.0  # a safety net: even without an epoch change, reload cached rows this often
_CACHE_SIZE = 10_000
# A freshly loaded key has no epoch yet: its first request reads one and reloads once, so the
# cached rows are never older than the epoch they are tagged with.
_UNKNOWN = object()


def generate_key() -> str:
    return KEY_PREFIX + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(_KEY_RANDOM_LENGTH))


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def display_prefix(key: str) -> str:
    return key[: len(KEY_PREFIX) + 4] + "..."


def epoch_key(project_id: UUID) -> str:
    return f"pulse:{{{project_id}}}:access_epoch"


def last_used_key(project_id: UUID) -> str:
    return f"pulse:{{{project_id}}}:key_last_used"


def last_used_flushing_key(project_id: UUID | str) -> str:
    return f"pulse:{{{project_id}}}:key_last_used:flushing"


# One round trip per request: count it in this second's window, read the project's access epoch,
# note the key's last use. All keys of one call share the project's hash tag (one cluster slot).
_TOUCH = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], 2) end
local epoch = false
if KEYS[2] then epoch = redis.call('GET', KEYS[2]) end
if KEYS[3] then redis.call('HSET', KEYS[3], ARGV[1], ARGV[2]) end
return {n, epoch}
"""


@dataclass(frozen=True, slots=True)
class Need:
    """What a route or field requires. Declared once, next to the route or field."""

    module: str | None = None  # None: not gated by a module
    scopes: tuple[str, ...] = ("query",)  # any of these; a key with `admin` may do everything
    platform: bool = False  # the admin token only: creating and listing projects


PLATFORM = Need(platform=True, scopes=("admin",))  # the admin token only
PROJECT_ADMIN = Need(module=None, scopes=("admin",))  # admin token, or an admin-scoped key of the project


def need(module: str | None, *scopes: str) -> Need:
    return Need(module=module, scopes=scopes or ("query",))


@dataclass(frozen=True, slots=True)
class KeyRecord:
    id: UUID
    project_id: UUID
    scopes: frozenset[str]
    allowed_modules: frozenset[str] | None
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class ProjectAccess:
    """What a request needs to know of its project, cached with the key."""

    project_id: UUID
    domain: str
    modules: dict[str, tuple[bool, Access]]
    timezone: str = "UTC"
    privacy: PrivacySettings = PRIVACY_DEFAULTS

    def module(self, name: str) -> tuple[bool, Access]:
        info = MODULES[name]
        return self.modules.get(name, (info.default_enabled, DEFAULT_ACCESS))


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling: the admin token (optionally acting on one project) or a project key."""

    project: ProjectAccess | None = None
    key: KeyRecord | None = None

    @property
    def project_id(self) -> UUID | None:
        return self.project.project_id if self.project else None


@dataclass(slots=True)
class _Entry:
    value: object
    epoch: str | None
    loaded_at: float = field(default_factory=time.monotonic)


class _LRU(OrderedDict):
    def put(self, key: object, value: _Entry) -> None:
        self[key] = value
        self.move_to_end(key)
        if len(self) > _CACHE_SIZE:
            self.popitem(last=False)


def check(caller: Caller, need_: Need, action: Action) -> None:
    """The access rules, in the documented order, for a caller already known to be valid."""
    key = caller.key
    if need_.platform:
        if key is not None:
            raise errors.Forbidden("This endpoint requires the admin token.")
        return
    if key is None and caller.project is None:
        raise errors.BadRequest("The admin token must name the project: ?project_id= on REST, "
                                "the project's id argument in GraphQL.")
    if key is not None:
        if key.expires_at is not None and key.expires_at <= datetime.now(UTC):
            raise errors.Unauthorized(errors.EXPIRED_KEY)
        if "admin" not in key.scopes and not key.scopes.intersection(need_.scopes):
            raise errors.Forbidden(
                f"API key does not have the required '{need_.scopes[0]}' scope for this endpoint.")
    if need_.module is None:
        return
    enabled, access = caller.project.module(need_.module)
    if not enabled and need_.module != ALWAYS_ON:
        raise errors.Forbidden(f"Module '{need_.module}' is not enabled for this project.")
    if key is not None and key.allowed_modules and need_.module not in key.allowed_modules:
        raise errors.Forbidden(f"API key is not allowed to access module '{need_.module}'.")
    if not access.allows(action):
        raise errors.Forbidden(
            f"Module '{need_.module}' does not allow {action.value} access for this project.")


class AccessControl:
    """Per-process cache of keys and project module settings, kept honest through Redis."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._keys: _LRU = _LRU()
        self._touch_sha: str | None = None
        self._admin_token_id = (hashlib.sha256(runtime.settings.admin_token.encode()).hexdigest()[:16]
                                if runtime.settings.admin_token else "none")

    @property
    def redis(self) -> aioredis.Redis:
        return self.runtime.redis

    # -- who is calling -----------------------------------------------------------------------

    async def identify(self, *, key: str | None, bearer: str | None, platform: bool = False,
                       bucket: str = "query") -> Caller:
        """Resolve the credential and count the request against its rate limit: one Redis round
        trip. A key's caller carries its project; the admin token's carries none until `scoped`."""
        if bearer and bearer.startswith(KEY_PREFIX) and key is None:
            key, bearer = bearer, None  # a key sent as a bearer token is still a key
        if key is not None:
            return await self._key_caller(key, bucket)
        if bearer is not None:
            token = self.runtime.settings.admin_token
            if not token or not hmac.compare_digest(bearer.encode(), token.encode()):
                raise errors.Unauthorized(errors.INVALID_ADMIN_TOKEN)
            await self._touch(f"pulse:admin:{self._admin_token_id}:rl", self.runtime.settings.rate_limit_admin)
            return Caller()
        raise errors.Unauthorized(errors.MISSING_ADMIN_TOKEN if platform else errors.MISSING_KEY)

    async def scoped(self, caller: Caller, project_id: str | UUID, load_projects=None) -> Caller:
        """The caller acting on `project_id` (a path parameter, `?project_id=` or a GraphQL
        argument). A key may only ever act on its own project; the admin token on any."""
        if caller.key is not None:
            if str(project_id) != str(caller.project_id):
                raise errors.NotFound(f"Project '{project_id}' not found.")
            return caller
        pid = as_uuid(project_id)
        project = (await (load_projects or self.load_projects)([pid]))[0] if pid else None
        if project is None:
            raise errors.NotFound(f"Project '{project_id}' not found.")
        return Caller(project=project)

    # -- project keys ------------------------------------------------------------------------

    async def _key_caller(self, raw_key: str, bucket: str) -> Caller:
        digest = hash_key(raw_key)
        entry = self._keys.get(digest)
        now = time.monotonic()
        age = now - entry.loaded_at if entry is not None else 0.0
        if entry is None or age > _MAX_AGE or (entry.value is None and age > _NEGATIVE_TTL):
            entry = await self._reload(digest, _UNKNOWN, entry)
        if entry.value is None:
            raise errors.Unauthorized(errors.INVALID_KEY)
        record, project = entry.value
        limit = (self.runtime.settings.rate_limit_ingest if bucket == "ingest"
                 else self.runtime.settings.rate_limit_query)
        epoch = await self._touch(f"pulse:{{{record.project_id}}}:rl:{bucket}", limit,
                                  record.project_id, key_id=record.id)
        if epoch != entry.epoch:
            entry = await self._reload(digest, epoch, entry)
            if entry.value is None:
                raise errors.Unauthorized(errors.INVALID_KEY)
            record, project = entry.value
        return Caller(project=project, key=record)

    async def _reload(self, digest: str, epoch: object, cached: _Entry | None) -> _Entry:
        """Reload a key; while the database is unreachable, keep serving what is cached, so
        ingestion (which needs only Redis) goes on through a PostgreSQL outage."""
        try:
            return await self._load_key(digest, epoch=epoch)
        except (SQLAlchemyError, OSError) as exc:
            if cached is not None and cached.value is not None:
                log.warning("database unreachable; using the cached key", exc_info=True)
                return cached
            raise errors.Unavailable("Service temporarily unavailable: the database is unreachable.") from exc

    async def _load_key(self, digest: str, *, epoch: object) -> _Entry:
        """Load a key and its project, tagged with the epoch read before this load."""
        from pulse.admin.tables import ApiKey

        async with self.runtime.read_session() as session:
            row = (await session.execute(
                select(ApiKey).where(ApiKey.key_hash == digest, ApiKey.revoked_at.is_(None))
            )).scalar_one_or_none()
            project = (await self._load_projects(session, [row.project_id]))[0] if row is not None else None
        if row is None or project is None:
            entry = _Entry(None, None)
        else:
            record = KeyRecord(row.id, row.project_id, frozenset(row.scopes),
                               frozenset(row.allowed_modules) if row.allowed_modules else None,
                               row.expires_at)
            entry = _Entry((record, project), epoch)
        self._keys.put(digest, entry)
        return entry

    # -- projects ----------------------------------------------------------------------------

    async def load_projects(self, project_ids: list[UUID]) -> list[ProjectAccess | None]:
        """Access settings of several projects, straight from the database (admin-token requests
        are rare and must see changes at once, so they are not cached)."""
        async with self.runtime.read_session() as session:
            return await self._load_projects(session, project_ids)

    @staticmethod
    async def _load_projects(session, project_ids: list[UUID]) -> list[ProjectAccess | None]:
        from pulse.admin.tables import Project, ProjectModule
        from pulse.ingest.tables import privacy_settings

        projects = {r.id: r for r in await session.execute(
            select(Project.id, Project.domain, Project.timezone).where(Project.id.in_(project_ids)))}
        found = list(projects)
        modules: dict[UUID, dict[str, tuple[bool, Access]]] = {pid: {} for pid in found}
        for r in await session.execute(
                select(ProjectModule.project_id, ProjectModule.module, ProjectModule.enabled, ProjectModule.access)
                .where(ProjectModule.project_id.in_(found))):
            if r.module in MODULES:
                modules[r.project_id][r.module] = (r.enabled, Access.of(r.access))
        privacy = {r.project_id: from_row(r) for r in await session.execute(
            select(privacy_settings).where(privacy_settings.c.project_id.in_(found)))}
        return [ProjectAccess(pid, projects[pid].domain, modules[pid], projects[pid].timezone,
                              privacy.get(pid, PRIVACY_DEFAULTS)) if pid in projects else None
                for pid in project_ids]

    # -- Redis -------------------------------------------------------------------------------

    async def _touch(self, bucket: str, limit: int, project_id: UUID | None = None, *,
                     key_id: UUID | None = None) -> str | None:
        """Count the request against `limit` per second; return the project's access epoch."""
        second = int(time.time())
        keys = [f"{bucket}:{second}"]
        if project_id is not None:
            keys.append(epoch_key(project_id))
            if key_id is not None:
                keys.append(last_used_key(project_id))
        args = (str(key_id), second)
        try:
            if self._touch_sha is None:
                self._touch_sha = await self.redis.script_load(_TOUCH)
            sha = self._touch_sha
            result = (await self.runtime.pipeliner.run(
                lambda pipe: pipe.evalsha(sha, len(keys), *keys, *args)))[0]
            if isinstance(result, NoScriptError):  # Redis restarted and forgot the script
                self._touch_sha = None
                result = await self.redis.eval(_TOUCH, len(keys), *keys, *args)
            elif isinstance(result, Exception):
                raise result
        except (RedisError, OSError) as exc:
            # Invalidations may be lost while Redis is away: start afresh when it is back.
            self._keys.clear()
            raise errors.Unavailable("Service temporarily unavailable: Redis is unreachable.") from exc
        count, epoch = result
        if count > limit:
            raise errors.RateLimited(1)
        return epoch

    check = staticmethod(check)

    async def invalidate(self, project_id: UUID) -> None:
        """Called after a change to a project's keys or modules has committed."""
        await self.redis.set(epoch_key(project_id), secrets.token_hex(8))


def invalidate_after_commit(session, project_id: UUID) -> None:
    """Make every process drop its cached view of the project once this change commits."""
    runtime: Runtime = session.info["runtime"]
    after_commit(session, lambda: runtime.access.invalidate(project_id))
