"""Credentials and the one access check used by every REST route and GraphQL field: the pure
rules, with no Redis or database (pulse.access finds the caller they are applied to, through its
cache; pulse.admin.keys mints new keys).

Order of checks (docs/architecture.md): credential valid and unexpired, scope, module
enabled for the project, module inside the key's `allowed_modules`, access level.

A dashboard session carries a `SessionKey` (the key's id, never the key): it is resolved through
the same cache and checks as the key itself, and never holds the `admin` scope. A dashboard admin
session carries an `AdminSession` instead (pulse.web.session has checked that it was opened with
the current admin token): it acts as the admin token does.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from pulse import errors
from pulse.modules.registry import DEFAULT_ACCESS, MODULES, Access, Action, is_enabled
from pulse.privacy.settings import DEFAULTS as PRIVACY_DEFAULTS
from pulse.privacy.settings import PrivacySettings

SCOPES = ("ingest", "query", "admin")
KEY_PREFIX = "pa_live_"
KEY_RANDOM_LENGTH = 24  # 24 base62 characters: about 143 random bits
# What pulse.admin.keys mints: anything else is refused without asking the database.
KEY_FORMAT = re.compile(f"{KEY_PREFIX}[A-Za-z0-9]{{{KEY_RANDOM_LENGTH}}}")
SESSION_ENDED = "Your dashboard session has ended. Log in again at /dashboard."


def hash_key(key: str) -> str:
    """What is stored of a key, and what it is looked up by: its SHA-256."""
    return hashlib.sha256(key.encode()).hexdigest()


def client_address(scope) -> str | None:
    """The client's address from an ASGI scope (uvicorn has already applied X-Forwarded-For
    from PULSE_TRUSTED_PROXIES)."""
    client = scope.get("client")
    return client[0] if client else None


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
class SessionKey:
    """A dashboard session's credential: the id of a key checked at login, and its project."""

    key_id: UUID
    project_id: UUID


@dataclass(frozen=True, slots=True)
class AdminSession:
    """A dashboard admin session's credential: the admin token's powers, and the project the
    dashboard shows (`X-Pulse-Project`, sent by the dashboard's own requests), if any. Only
    pulse.web.session makes one, after checking the session was opened with the current token."""

    project_id: UUID | None = None


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
    if not is_enabled(need_.module, enabled):
        raise errors.Forbidden(f"Module '{need_.module}' is not enabled for this project.")
    if key is not None and key.allowed_modules and need_.module not in key.allowed_modules:
        raise errors.Forbidden(f"API key is not allowed to access module '{need_.module}'.")
    if not access.allows(action):
        raise errors.Forbidden(
            f"Module '{need_.module}' does not allow {action.value} access for this project.")
