"""/dashboard: the login page, the dashboard's HTML shell and its built assets, login and logout.

The HTML is served here and everything else comes from GraphQL: the shell carries only what the
server knows from the session (the project, the modules the key may read, the origin for the
tracking snippet; for an admin session, that it is one and the projects it may switch between).
The login form takes a query key or the admin token (PULSE_ADMIN_TOKEN): an admin session's
rules are in pulse/web/session.py. The front end lives in pulse/web/dashboard/ (src/ is bundled into assets/ by
`npm --prefix pulse/web/dashboard run build`, and the built files are checked in, so serving
needs no Node).
"""

from __future__ import annotations

import hashlib
import html
import json
from functools import cache
from pathlib import Path
from string import Template
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from pulse import errors
from pulse.access import TooManyFailures
from pulse.admin import service as admin_service
from pulse.auth import KEY_PREFIX, AdminSession, Caller, client_address, need
from pulse.deps import RuntimeDep
from pulse.modules.registry import MODULES, Action
from pulse.runtime import Runtime
from pulse.web import session
from pulse.web.assets import MEDIA_TYPES, Asset

router = APIRouter(include_in_schema=False)

ROOT = Path(__file__).parent / "dashboard"
MAX_FORM = 4096
# The shell's own policy: scripts and styles only from here (uPlot sizes its canvas through
# element.style, which style-src does not govern), no framing.
HTML_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}

INVALID = "That key is not valid: it may be mistyped, or it has been revoked."
EXPIRED = "That key has expired. Ask an admin for a new key with the query scope."
INGEST_ONLY = ("That is an ingest key: it can send data but not read it. "
               "Log in with a key that has the query scope.")
# A session cookie travels with every request the browser sends, so it must never be able to
# change anything: a key that holds `admin` (alone or with `query`) cannot log in.
ADMIN_KEY = ("That key has the admin scope, and a dashboard session may only read. "
             "Log in with a key that has the query scope and not admin.")
THROTTLED = "Too many failed attempts from your address. Wait a few seconds and try again."
NO_SECRET = "The dashboard is not set up: the server needs PULSE_COOKIE_SECRET to sign sessions."
ENDED = ("Your session has ended (you logged out, it expired, its key was revoked, or the admin token "
         "changed). Log in again.")
INVALID_ADMIN = ("That admin token is not valid. The admin token is the server's PULSE_ADMIN_TOKEN; "
                 "a project key starts with pa_live_.")
NO_ADMIN_TOKEN = ("This server has no admin token (PULSE_ADMIN_TOKEN is not set), so only project keys "
                  "with the query scope may log in.")


@cache
def assets() -> dict[str, Asset]:
    """The built assets, read once and kept compressed in memory."""
    return {path.name: Asset.read(path) for path in sorted((ROOT / "assets").iterdir()) if path.suffix in MEDIA_TYPES}


@cache
def version() -> str:
    """One tag for the whole build: a new build gets new asset URLs, so they may be cached forever."""
    return hashlib.sha256(b"".join(a.etag.encode() for a in assets().values())).hexdigest()[:12]


@cache
def _template(name: str) -> Template:
    return Template((ROOT / "pages" / name).read_text())


def _login_page(message: str | None = None, *, status: int = 200, next_query: str = "",
                headers: dict[str, str] | None = None) -> HTMLResponse:
    alert = f'<p class="alert" role="alert">{html.escape(message)}</p>' if message else ""
    body = _template("login.html").substitute(version=version(), message=alert, next=html.escape(next_query))
    return HTMLResponse(body, status_code=status, headers={**HTML_HEADERS, **(headers or {})})


def readable_modules(runtime: Runtime, caller: Caller) -> list[str]:
    """The modules this key may read in its project: enabled, inside allowed_modules, readable.
    The same check every route makes, so a tab shows exactly when its requests would pass."""
    names = []
    for name in MODULES:
        try:
            runtime.access.check(caller, need(name, "query"), Action.READ)
        except errors.ApiError:
            continue
        names.append(name)
    return names


def _app_page(request: Request, runtime: Runtime, caller: Caller, *, admin: bool = False,
              projects: list | None = None) -> HTMLResponse:
    """The shell. For an admin session `caller` is the admin token's, on the current project if
    there is one, and `projects` are those the switcher offers."""
    project = caller.project
    boot = {"admin": admin,
            "project": {"id": str(project.project_id), "domain": project.domain, "timezone": project.timezone}
            if project else None,
            "modules": readable_modules(runtime, caller) if project else [],
            "origin": str(request.base_url).rstrip("/")}
    if admin:
        boot["projects"] = [{"id": str(p.id), "name": p.name, "domain": p.domain} for p in projects or []]
    # JSON inside <script>: escape "<" so no value can close the element.
    data = json.dumps(boot, separators=(",", ":")).replace("<", "\\u003c")
    title = project.domain if project else "Admin"
    body = _template("app.html").substitute(version=version(), domain=html.escape(title), boot=data)
    return HTMLResponse(body, headers=HTML_HEADERS)


async def _admin_page(request: Request, runtime: Runtime, caller: Caller) -> HTMLResponse:
    """An admin session's shell, on the project `?project=` names (else the first one, if any)."""
    async with runtime.read_session() as db:
        projects = await admin_service.list_projects(session=db)
    named = request.query_params.get("project")
    current = next((p for p in projects if str(p.id) == named), projects[0] if projects else None)
    if current is not None:
        caller = await runtime.access.scoped(caller, current.id)
    return _app_page(request, runtime, caller, admin=True, projects=projects)


def _safe_query(raw: str) -> str:
    """The dashboard's own query string (range, filters), re-encoded: a redirect never leaves /dashboard."""
    query = urlencode(parse_qsl(raw.lstrip("?"), keep_blank_values=False))
    return "?" + query if query else ""


def _same_origin(request: Request) -> bool:
    """Login and logout are plain form posts: refuse them from another site's page."""
    return session.same_origin(request)


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard(request: Request, runtime: RuntimeDep) -> Response:
    """The dashboard for a live session, else the login page (which keeps the query, so a shared
    link lands on its view after logging in)."""
    next_query = _safe_query(request.url.query)
    if session.COOKIE not in request.cookies:
        return _login_page(next_query=next_query)
    try:
        key = await session.session_key(request, runtime)
        caller = await runtime.access.identify(key=key, bearer=None, client=client_address(request.scope))
        if isinstance(key, AdminSession):
            return await _admin_page(request, runtime, caller)
        runtime.access.check(caller, need("core", "query"), Action.READ)
    except (errors.Unauthorized, errors.Forbidden):
        response = _login_page(ENDED, status=401, next_query=next_query)
        session.clear(request, response)
        return response
    return _app_page(request, runtime, caller)


@router.post("/dashboard/login")
async def login(request: Request, runtime: RuntimeDep) -> Response:
    body = await request.body()
    if len(body) > MAX_FORM:
        raise errors.PayloadTooLarge("The login form is too large.")
    form = dict(parse_qsl(body.decode("utf-8", "replace")))
    next_query = _safe_query(form.get("next", ""))
    if not _same_origin(request):
        return _login_page("Log in from this server's own login page.", status=403)
    if not runtime.settings.cookie_secret:
        return _login_page(NO_SECRET, status=503, next_query=next_query)
    key = form.get("key", "").strip()
    if not key:
        return _login_page("Enter a query API key or the admin token.", status=400, next_query=next_query)
    if not key.startswith(KEY_PREFIX):
        return await _admin_login(request, runtime, key, next_query)
    try:
        caller = await runtime.access.identify(key=key, bearer=None, client=client_address(request.scope))
        if caller.key is None:  # identify() takes a key; this guards the invariant, not a user error
            raise errors.Unauthorized(errors.INVALID_KEY)
        runtime.access.check(caller, need("core", "query"), Action.READ)
    except errors.RateLimited as exc:
        return _login_page(THROTTLED if isinstance(exc, TooManyFailures) else exc.message, status=429,
                           next_query=next_query, headers=exc.headers)
    except errors.Unauthorized as exc:
        return _login_page(EXPIRED if exc.message == errors.EXPIRED_KEY else INVALID, status=401,
                           next_query=next_query)
    except errors.Forbidden as exc:
        readable = caller.key.scopes & {"query", "admin"}
        return _login_page(exc.message if readable else INGEST_ONLY, status=403, next_query=next_query)
    if "admin" in caller.key.scopes:
        return _login_page(ADMIN_KEY, status=403, next_query=next_query)
    response = RedirectResponse("/dashboard" + next_query, status_code=303)
    await session.start(runtime, request, response, key_id=str(caller.key.id), project_id=str(caller.project_id))
    return response


async def _admin_login(request: Request, runtime: Runtime, token: str, next_query: str) -> Response:
    """The admin token, checked as a bearer token is (a wrong one is a throttled failure); the
    session opened holds neither the token nor anything it could be guessed from."""
    try:
        await runtime.access.identify(key=None, bearer=token, platform=True, client=client_address(request.scope))
    except errors.RateLimited as exc:
        return _login_page(THROTTLED if isinstance(exc, TooManyFailures) else exc.message, status=429,
                           next_query=next_query, headers=exc.headers)
    except errors.Unauthorized:
        message = INVALID_ADMIN if runtime.settings.admin_token else NO_ADMIN_TOKEN
        return _login_page(message, status=401, next_query=next_query)
    # An admin lands in the admin area unless the link they followed names a view.
    response = RedirectResponse("/dashboard" + (next_query or "?tab=admin"), status_code=303)
    await session.start_admin(runtime, request, response)
    return response


@router.post("/dashboard/logout")
async def logout(request: Request, runtime: RuntimeDep) -> Response:
    if not _same_origin(request):
        raise errors.Forbidden("Log out from the dashboard itself.")
    response = RedirectResponse("/dashboard", status_code=303)
    await session.end(runtime, request, response)
    return response


@router.get("/dashboard/assets/{name}")
async def asset(name: str, request: Request) -> Response:
    found = assets().get(name)
    if found is None:
        raise errors.NotFound(f"Asset '{name}' not found.")
    # versioned URLs (?v=) change with every build, so a browser may keep each one
    return found.response(request, "public, max-age=31536000, immutable")
