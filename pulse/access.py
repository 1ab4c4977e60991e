"""The cached access control: who is calling, resolved through a per-process cache kept honest by
Redis, with rate limits and the throttle on failed authentications. The rules themselves are pure
and live in pulse.auth (`check`); this module finds the caller they are applied to.

Keys, with their project's module settings, are cached per process. Each request makes one
Redis round trip (a small Lua script) that counts it against the rate limit, records the key's
`last_used_at`, and reads the project's access epoch; any change to the project's keys or
modules writes a new epoch after it commits, so a revoked key stops working at once in every
process. The admin token's project lookups are not cached: they are rare and read the database.

A key that can neither query nor administer (an ingest key, public in every page that tracks)
always counts against its project's ingest budget, so it cannot spend the query budget the
dashboard lives on. Unknown keys are remembered for a few seconds in a small cache of their own,
apart from the valid ones, and every failed authentication (unknown key, wrong admin token)
counts against the client's address: beyond a burst, further failures get 429 (pulse.limits).
A valid credential is never throttled.

A dashboard session carries a `SessionKey` (the key's id, never the key): it is resolved through
the same cache and checks as the key itself, and never holds the `admin` scope. A dashboard admin
session carries an `AdminSession`: it counts against the admin token's rate limit and acts as the
token does, on the project the dashboard shows when it names one.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import secrets
import time
from dataclasses import dataclass, field, replace
from typing import NoReturn
from uuid import UUID

import redis.asyncio as aioredis
from redis.exceptions import NoScriptError, RedisError
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pulse import audit, errors
from pulse.admin.tables import ApiKey, Project, ProjectModule
from pulse.auth import (
    KEY_FORMAT,
    KEY_PREFIX,
    SESSION_ENDED,
    AdminSession,
    Caller,
    KeyRecord,
    Need,
    ProjectAccess,
    SessionKey,
    check,
    hash_key,
)
from pulse.config import Settings
from pulse.db import after_commit, as_uuid
from pulse.ingest.tables import privacy_settings
from pulse.limits import AUTH_FAILURE_BURST, AUTH_FAILURE_INTERVAL
from pulse.lru import LRU
from pulse.modules.registry import MODULES, Access, Action
from pulse.pipelining import Pipeliner
from pulse.privacy.settings import DEFAULTS as PRIVACY_DEFAULTS
from pulse.privacy.settings import from_row

log = logging.getLogger("pulse.access")

_NEGATIVE_TTL = 5.0  # seconds an unknown key stays known-unknown, to spare the database
_MAX_AGE = 60.0  # a safety net: even without an epoch change, reload cached rows this often
_CACHE_SIZE = 10_000  # valid keys (and sessions' key ids)
_UNKNOWN_CACHE_SIZE = 1_000  # unknown keys: a cache of their own, so they never push valid ones out
# A freshly loaded key has no epoch yet: its first request reads one and reloads once, so the
# cached rows are never older than the epoch they are tagged with.
_UNKNOWN = object()


def epoch_key(project_id: UUID) -> str:
    return f"pulse:{{{project_id}}}:access_epoch"


def last_used_key(project_id: UUID) -> str:
    return f"pulse:{{{project_id}}}:key_last_used"


def last_used_flushing_key(project_id: UUID | str) -> str:
    return f"pulse:{{{project_id}}}:key_last_used:flushing"


def failures_key(client: str) -> str:
    return f"pulse:auth_failures:{client}"


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

# A failed authentication from one client address (GCRA): each failure moves the address's
# "theoretical arrival time" one interval on; while that stays within burst * interval of now
# the failure is let through (401), beyond it the attempt is refused (429) without moving it.
# Returns 0, or the milliseconds to wait. ARGV: now (ms), interval (ms), burst.
_FAILURE = """
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local window = interval * tonumber(ARGV[3])
local stored = redis.call('GET', KEYS[1])
local tat = now
if stored and tonumber(stored) > now then tat = tonumber(stored) end
local next_tat = tat + interval
if next_tat - now > window then return next_tat - now - window end
redis.call('SET', KEYS[1], next_tat, 'PX', next_tat - now)
return 0
"""


class TooManyFailures(errors.RateLimited):
    """429 for an address that failed to authenticate too often; only failing attempts get it."""

    def __init__(self, retry_after: int) -> None:
        errors.ApiError.__init__(
            self, f"Too many failed authentications from this address. Retry after {retry_after} seconds.",
            headers={"Retry-After": str(retry_after)})


@dataclass(slots=True)
class _Entry:
    value: object
    epoch: str | None
    loaded_at: float = field(default_factory=time.monotonic)


class AccessControl:
    """Per-process cache of keys and project module settings, kept honest through Redis.

    `redis` answers the epoch writes and script loads, `pipeliner` carries each request's one
    round trip, `read_session` opens the (transaction-less) sessions keys and projects load in."""

    def __init__(self, *, settings: Settings, redis: aioredis.Redis, pipeliner: Pipeliner,
                 read_session: async_sessionmaker[AsyncSession]) -> None:
        self.settings = settings
        self.redis = redis
        self.pipeliner = pipeliner
        self.read_session = read_session
        self._keys = LRU(_CACHE_SIZE)  # sha256 of a key, or a key's id (sessions) -> _Entry
        self._unknown = LRU(_UNKNOWN_CACHE_SIZE)  # the same, for unknown ones -> when found unknown
        self._shas: dict[str, str] = {}  # script -> its SHA once loaded into Redis
        self._admin_token_id = (hashlib.sha256(settings.admin_token.encode()).hexdigest()[:16]
                                if settings.admin_token else "none")

    # -- who is calling -----------------------------------------------------------------------

    async def identify(self, *, key: str | SessionKey | AdminSession | None, bearer: str | None,
                       platform: bool = False,
                       bucket: str = "query", client: str | None = None) -> Caller:
        """Resolve the credential and count the request against its rate limit: one Redis round
        trip. A key's caller carries its project; the admin token's carries none until `scoped`.
        `client` is the caller's address (`client_address`): failures are throttled per address."""
        if bearer and bearer.startswith(KEY_PREFIX) and key is None:
            key, bearer = bearer, None  # a key sent as a bearer token is still a key
        if isinstance(key, AdminSession):
            return await self._admin_session_caller(key)
        if key is not None:
            return await self._key_caller(key, bucket, client)
        if bearer is not None:
            if not self.is_admin_token(bearer):
                await self.failed(client, errors.INVALID_ADMIN_TOKEN)
            await self._touch(f"pulse:admin:{self._admin_token_id}:rl", self.settings.rate_limit_admin)
            return Caller()
        raise errors.Unauthorized(errors.MISSING_ADMIN_TOKEN if platform else errors.MISSING_KEY)

    async def _admin_session_caller(self, admin: AdminSession) -> Caller:
        """The admin token's caller for a dashboard admin session (pulse.web.session checked it
        against the current token), on the project the dashboard shows when it names one."""
        if not self.settings.admin_token:
            raise errors.Unauthorized(SESSION_ENDED)
        await self._touch(f"pulse:admin:{self._admin_token_id}:rl", self.settings.rate_limit_admin)
        if admin.project_id is None:
            return Caller()
        project = (await self.load_projects([admin.project_id]))[0]
        if project is None:
            raise errors.NotFound(f"Project '{admin.project_id}' not found.")
        return Caller(project=project)

    def is_admin_token(self, value: str) -> bool:
        token = self.settings.admin_token
        return bool(token) and hmac.compare_digest(value.encode(), token.encode())

    async def failed(self, client: str | None, message: str) -> NoReturn:
        """A failed authentication: 401 with `message`, or 429 once `client` has failed more than
        its burst (one Redis round trip; a request without an address is not throttled, nor is
        one while Redis is unreachable: the refusal is right either way)."""
        if client:
            now = int(time.time() * 1000)
            try:
                wait_ms = await self._script(_FAILURE, [failures_key(client)],
                                             [now, AUTH_FAILURE_INTERVAL * 1000, AUTH_FAILURE_BURST])
            except errors.Unavailable:
                wait_ms = 0
            if wait_ms:
                raise TooManyFailures(max(1, math.ceil(wait_ms / 1000)))
        raise errors.Unauthorized(message)

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

    async def _key_caller(self, key: str | SessionKey, bucket: str, client: str | None) -> Caller:
        session = isinstance(key, SessionKey)
        if session:
            cache_key: str | UUID = key.key_id
        elif KEY_FORMAT.fullmatch(key):
            cache_key = hash_key(key)
        else:
            await self.failed(client, errors.INVALID_KEY)
        entry = self._keys.get(cache_key)
        now = time.monotonic()
        if entry is None or now - entry.loaded_at > _MAX_AGE:
            unknown_since = self._unknown.get(cache_key)
            if unknown_since is None or now - unknown_since > _NEGATIVE_TTL:
                entry = await self._reload(cache_key, _UNKNOWN, entry)
        if entry is None or (session and entry.value[0].project_id != key.project_id):
            await self._refused(key, client)
        record, project = entry.value
        if not record.scopes & {"query", "admin"}:
            bucket = "ingest"  # an ingest key never spends the query budget, whatever it calls
        limit = (self.settings.rate_limit_ingest if bucket == "ingest"
                 else self.settings.rate_limit_query)
        epoch = await self._touch(f"pulse:{{{record.project_id}}}:rl:{bucket}", limit,
                                  record.project_id, key_id=record.id)
        if epoch != entry.epoch:
            entry = await self._reload(cache_key, epoch, entry)
            if entry is None:
                await self._refused(key, client)
            record, project = entry.value
        if session:
            record = replace(record, scopes=record.scopes - {"admin"})  # a cookie never runs mutations
        return Caller(project=project, key=record)

    async def _refused(self, key: str | SessionKey, client: str | None) -> NoReturn:
        if isinstance(key, SessionKey):  # signed by us: a revoked key, not a guess
            raise errors.Unauthorized(SESSION_ENDED)
        await self.failed(client, errors.INVALID_KEY)

    async def _reload(self, cache_key: str | UUID, epoch: object, cached: _Entry | None) -> _Entry | None:
        """Reload a key (None: unknown or revoked); while the database is unreachable, keep serving
        what is cached, so ingestion (which needs only Redis) goes on through a PostgreSQL outage."""
        try:
            return await self._load_key(cache_key, epoch=epoch)
        except (SQLAlchemyError, OSError) as exc:
            if cached is not None:
                log.warning("database unreachable; using the cached key", exc_info=True)
                return cached
            raise errors.Unavailable("Service temporarily unavailable: the database is unreachable.") from exc

    async def _load_key(self, cache_key: str | UUID, *, epoch: object) -> _Entry | None:
        """Load a key (by the SHA-256 of its value, or by its id) and its project, tagged with the
        epoch read before this load and cached under both; an unknown one goes to the cache of
        unknown keys."""
        column = ApiKey.id if isinstance(cache_key, UUID) else ApiKey.key_hash
        async with self.read_session() as session:
            row = (await session.execute(
                select(ApiKey).where(column == cache_key, ApiKey.revoked_at.is_(None))
            )).scalar_one_or_none()
            project = (await self._load_projects(session, [row.project_id]))[0] if row is not None else None
        if row is None or project is None:
            self._keys.pop(cache_key, None)
            self._unknown.put(cache_key, time.monotonic())
            return None
        record = KeyRecord(row.id, row.project_id, frozenset(row.scopes),
                           frozenset(row.allowed_modules) if row.allowed_modules else None,
                           row.expires_at)
        entry = _Entry((record, project), epoch)
        self._unknown.pop(cache_key, None)
        for found in (row.key_hash, row.id):  # by value and by id: a login's key is then a session's
            self._keys.put(found, entry)
        return entry

    # -- projects ----------------------------------------------------------------------------

    async def load_projects(self, project_ids: list[UUID]) -> list[ProjectAccess | None]:
        """Access settings of several projects, straight from the database (admin-token requests
        are rare and must see changes at once, so they are not cached)."""
        async with self.read_session() as session:
            return await self._load_projects(session, project_ids)

    @staticmethod
    async def _load_projects(session, project_ids: list[UUID]) -> list[ProjectAccess | None]:
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
        count, epoch = await self._script(_TOUCH, keys, [str(key_id), second])
        if count > limit:
            raise errors.RateLimited(1)
        return epoch

    async def _script(self, script: str, keys: list[str], args: list) -> object:
        """Run one of this module's Lua scripts, pipelined with concurrent requests' calls."""
        try:
            sha = self._shas.get(script)
            if sha is None:
                sha = self._shas[script] = await self.redis.script_load(script)
            result = (await self.pipeliner.run(
                lambda pipe: pipe.evalsha(sha, len(keys), *keys, *args)))[0]
            if isinstance(result, NoScriptError):  # Redis restarted and forgot the script
                self._shas.pop(script, None)
                result = await self.redis.eval(script, len(keys), *keys, *args)
            elif isinstance(result, Exception):
                raise result
        except (RedisError, OSError) as exc:
            # Invalidations may be lost while Redis is away: start afresh when it is back.
            self._keys.clear()
            raise errors.RedisUnavailable() from exc
        return result

    @staticmethod
    def check(caller: Caller, need: Need, action: Action) -> None:
        """The pure rules (pulse.auth.check); a caller that passes is who acts in this request, for the
        audit entries written without one (pulse.audit.acting)."""
        check(caller, need, action)
        audit.acting(caller)

    async def invalidate(self, project_id: UUID) -> None:
        """Called after a change to a project's keys or modules has committed."""
        await self.redis.set(epoch_key(project_id), secrets.token_hex(8))


def invalidate_after_commit(session: AsyncSession, project_id: UUID) -> None:
    """Make every process drop its cached view of the project once this change commits (the
    session's factory carries the runtime, pulse.db.create_session_factory)."""
    access: AccessControl = session.info["runtime"].access
    after_commit(session, lambda: access.invalidate(project_id))
