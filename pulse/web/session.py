"""Dashboard sessions: a cookie signed with PULSE_COOKIE_SECRET that stands in for the query key,
or for the admin token.

The cookie carries the key's id (never the key), its project, a session id and an expiry, signed
with HMAC-SHA256. Every request re-identifies the key by its id through the usual access control
(`pulse.auth.SessionKey`), so a revoked or expired key ends the session on the next request. The
session id lives in Redis until the cookie expires; logout deletes it, so a copy of the cookie is
worthless afterwards. Only a key with the `query` scope and without `admin` may log in
(pulse/web/dashboard.py), and a session never carries `admin` whatever its key holds.

An admin session (logged in with PULSE_ADMIN_TOKEN) holds neither the token nor anything derived
from it: its cookie says only "admin", a session id and an expiry (12 hours). Redis keeps, under
the session id, a fingerprint of the token it was opened with (an HMAC under the cookie secret),
and every request compares it with the current token's: changing PULSE_ADMIN_TOKEN (or unsetting
it) ends every admin session, as logout and the expiry do. It acts as the admin token does
(`pulse.auth.AdminSession`), on the project named by the dashboard's `X-Pulse-Project` header when
one is sent.

CSRF: the cookie is SameSite=Lax and HttpOnly, and it is accepted only on reads (GET, HEAD) and
on POST /graphql with a JSON body. A cross-site page can neither send a JSON POST without a CORS
preflight (which only ALLOWED_ORIGINS pass) nor read what a cross-site GET returns. Lax rather
than Strict so a shared dashboard link opened from another site (mail, chat) keeps the session.
And since ALLOWED_ORIGINS pass the preflight with credentials, a POST that carries the cookie
must come from this server's own pages: an `Origin` header naming another origin is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import Response

from pulse import errors
from pulse.auth import SESSION_ENDED, AdminSession, SessionKey
from pulse.db import as_uuid

if TYPE_CHECKING:
    from pulse.runtime import Runtime

COOKIE = "pulse_session"
MAX_AGE = 7 * 24 * 3600  # a week; then the key must be typed again
ADMIN_MAX_AGE = 12 * 3600  # an admin session can change everything: half a day
PROJECT_HEADER = "x-pulse-project"  # the project an admin session's dashboard shows
CROSS_SITE = "A dashboard session may only be used from this server's own pages."
_CONTEXT = b"pulse.dashboard.session.v2"  # binds the signature to this use of the secret (v2: a key id)
_READS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True, slots=True)
class Session:
    key_id: str  # "" for an admin session
    project_id: str  # "" for an admin session
    sid: str
    expires: int  # unix seconds
    admin: bool = False


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: str, payload: str) -> str:
    return _b64(hmac.new(secret.encode(), _CONTEXT + b"." + payload.encode(), hashlib.sha256).digest())


def sign(session: Session, secret: str) -> str:
    fields = ({"a": 1, "s": session.sid, "x": session.expires} if session.admin
              else {"i": session.key_id, "p": session.project_id, "s": session.sid, "x": session.expires})
    payload = _b64(json.dumps(fields, separators=(",", ":")).encode())
    return f"{payload}.{_signature(secret, payload)}"


def verify(value: str, secret: str, *, now: float | None = None) -> Session | None:
    """The session a cookie holds, or None when it is forged, altered, malformed or expired."""
    payload, _, signature = value.partition(".")
    # As bytes: compare_digest refuses a str that is not ASCII, and a cookie may hold anything.
    if not signature or not hmac.compare_digest(signature.encode(), _signature(secret, payload).encode()):
        return None
    try:
        data = json.loads(_unb64(payload))
        if data.get("a") == 1:
            session = Session("", "", str(data["s"]), int(data["x"]), admin=True)
        else:
            session = Session(str(data["i"]), str(data["p"]), str(data["s"]), int(data["x"]))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return session if session.expires > (time.time() if now is None else now) else None


def _redis_key(project_id: str, sid: str) -> str:
    return f"pulse:{{{project_id}}}:dashboard_session:{sid}"


def _admin_redis_key(sid: str) -> str:
    return f"pulse:dashboard_admin_session:{sid}"


def _stored_key(session: Session) -> str:
    return _admin_redis_key(session.sid) if session.admin else _redis_key(session.project_id, session.sid)


def admin_fingerprint(runtime: Runtime) -> str | None:
    """What an admin session remembers of the token it was opened with: an HMAC under the cookie
    secret (never the token, nor a plain hash one could test guesses against). None without one."""
    token, secret = runtime.settings.admin_token, runtime.settings.cookie_secret
    if not token or not secret:
        return None
    return hmac.new(secret.encode(), b"pulse.dashboard.admin-token." + token.encode(), hashlib.sha256).hexdigest()


async def start(runtime: Runtime, request: Request, response: Response, *, key_id: str, project_id: str) -> None:
    """Open a session for a key already checked (by its id), and set its cookie on `response`."""
    session = Session(key_id, project_id, secrets.token_urlsafe(18), int(time.time()) + MAX_AGE)
    await _open(runtime, request, response, session, "1", MAX_AGE)


async def start_admin(runtime: Runtime, request: Request, response: Response) -> None:
    """Open an admin session (the admin token already checked), bound to the current token."""
    fingerprint = admin_fingerprint(runtime)
    if fingerprint is None:
        raise errors.Unavailable("Admin sessions need PULSE_ADMIN_TOKEN and PULSE_COOKIE_SECRET to be set.")
    session = Session("", "", secrets.token_urlsafe(18), int(time.time()) + ADMIN_MAX_AGE, admin=True)
    await _open(runtime, request, response, session, fingerprint, ADMIN_MAX_AGE)


async def _open(runtime: Runtime, request: Request, response: Response, session: Session, value: str,
                max_age: int) -> None:
    try:
        await runtime.redis.set(_stored_key(session), value, ex=max_age)
    except (RedisError, OSError) as exc:
        raise errors.RedisUnavailable() from exc
    # Secure when the request came over HTTPS; behind a proxy, uvicorn derives the scheme from
    # X-Forwarded-Proto only for PULSE_TRUSTED_PROXIES, so a client cannot fake it.
    response.set_cookie(COOKIE, sign(session, _secret(runtime)), max_age=max_age, path="/", httponly=True,
                        samesite="lax", secure=request.url.scheme == "https")


async def end(runtime: Runtime, request: Request, response: Response) -> None:
    """Log out: forget the session (so the old cookie is refused from now on) and clear the cookie."""
    session = _cookie_session(request, runtime)
    if session is not None:
        try:
            await runtime.redis.delete(_stored_key(session))
        except (RedisError, OSError) as exc:
            raise errors.RedisUnavailable() from exc
    clear(request, response)


def clear(request: Request, response: Response) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=request.url.scheme == "https")


def _secret(runtime: Runtime) -> str:
    secret = runtime.settings.cookie_secret
    if not secret:
        raise errors.Unavailable("Dashboard sessions need PULSE_COOKIE_SECRET to be set.")
    return secret


def _cookie_session(request: Request, runtime: Runtime) -> Session | None:
    value = request.cookies.get(COOKIE)
    secret = runtime.settings.cookie_secret
    if not value or not secret:
        return None
    return verify(value, secret)


def accepts_cookie(request: Request) -> bool:
    """Reads anywhere, and GraphQL's JSON POST (see the module docstring on CSRF)."""
    if request.method in _READS:
        return True
    return (request.method == "POST" and request.url.path == "/graphql"
            and request.headers.get("content-type", "").split(";")[0].strip().lower() == "application/json")


def same_origin(request: Request) -> bool:
    """Whether the request's Origin (when a browser sent one) is this server's own."""
    origin = request.headers.get("origin")
    return origin is None or origin == str(request.base_url).rstrip("/")


async def session_key(request: Request, runtime: Runtime) -> SessionKey | AdminSession | None:
    """The credential of the request's dashboard session (its key's id, or the admin session);
    None without a session cookie. A cookie that is forged, expired or logged out is an error
    rather than no credential, so the message says why."""
    if COOKIE not in request.cookies or not accepts_cookie(request):
        return None
    if request.method not in _READS and not same_origin(request):
        raise errors.Forbidden(CROSS_SITE)
    session = _cookie_session(request, runtime)
    if session is not None and session.admin:
        return await _admin_session(request, runtime, session)
    key_id, project_id = (as_uuid(session.key_id), as_uuid(session.project_id)) if session else (None, None)
    if key_id is None or project_id is None:
        raise errors.Unauthorized(SESSION_ENDED)
    try:
        alive = await runtime.redis.exists(_redis_key(session.project_id, session.sid))
    except (RedisError, OSError) as exc:
        raise errors.RedisUnavailable() from exc
    if not alive:
        raise errors.Unauthorized(SESSION_ENDED)
    return SessionKey(key_id, project_id)


async def _admin_session(request: Request, runtime: Runtime, session: Session) -> AdminSession:
    """A live admin session opened with the current admin token, on the project the dashboard names."""
    expected = admin_fingerprint(runtime)
    try:
        stored = await runtime.redis.get(_admin_redis_key(session.sid))
    except (RedisError, OSError) as exc:
        raise errors.RedisUnavailable() from exc
    if expected is None or stored is None or not hmac.compare_digest(
            stored if isinstance(stored, bytes) else stored.encode(), expected.encode()):
        raise errors.Unauthorized(SESSION_ENDED)
    named = request.headers.get(PROJECT_HEADER)
    if not named:
        return AdminSession()
    project_id = as_uuid(named)
    if project_id is None:
        raise errors.NotFound(f"Project '{named}' not found.")
    return AdminSession(project_id)
