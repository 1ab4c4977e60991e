"""Typed FastAPI dependencies: the runtime, a database session with its commit boundary,
and the caller, checked against what the route declared."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator, Mapping
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from pulse import errors
from pulse.auth import Caller, Need, SessionKey, client_address
from pulse.db import commit
from pulse.modules.registry import Action
from pulse.runtime import Runtime
from pulse.web.session import session_key

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MISSING_METRICS_TOKEN = "Missing metrics token. Provide it via Authorization: Bearer <PULSE_METRICS_TOKEN>."
INVALID_METRICS_TOKEN = "Invalid metrics token."


async def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_session(request: Request, runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    """One session per request: for reads, without a transaction; for writes, committed when the
    route returns and rolled back if it raises."""
    if request.method in READ_METHODS:
        async with runtime.read_session() as session:
            yield session
        return
    async with runtime.session() as session:
        yield session
        await commit(session)


# scope="function": commit before the response is sent, so a 2xx means the data is stored.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


def bearer_token(headers: Mapping[str, str]) -> str | None:
    header = headers.get("authorization")
    if header and header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return None


async def request_key(request: Request, runtime: Runtime, *, platform: bool = False) -> str | SessionKey | None:
    """The project key a request carries: X-Pulse-Key, else ?key=, else (when no Authorization
    header is sent either) the key id of a dashboard session cookie (pulse/web/session.py)."""
    key = request.headers.get("x-pulse-key") or request.query_params.get("key")
    if key is None and not platform and "authorization" not in request.headers:
        key = await session_key(request, runtime)
    return key


# The credential's query parameters, declared by `requires` so that every route taking a credential
# lists them (OpenAPI) and accepts them (pulse.params refuses undeclared ones). Their Python names
# differ from any path parameter's (`/feature-flags/{key}`, `/projects/{project_id}/...`).
KeyQuery = Annotated[str | None, Query(alias="key", description="The API key, when not sent as X-Pulse-Key.")]
ProjectQuery = Annotated[str | None, Query(
    alias="project_id", description="With the admin token: the project to act on (a path's project_id, "
                                    "where the route has one, must be the same).")]


def requires(need: Need, *, bucket: str | None = None):
    """A dependency that admits only callers allowed by `need` (GET reads, other methods write)."""
    rate_bucket = bucket or ("ingest" if need.scopes == ("ingest",) else "query")

    async def identified(request: Request, runtime: Runtime) -> Caller:
        return await runtime.access.identify(
            key=await request_key(request, runtime, platform=need.platform), bearer=bearer_token(request.headers),
            platform=need.platform, bucket=rate_bucket, client=client_address(request.scope))

    def checked(request: Request, runtime: Runtime, caller: Caller) -> Caller:
        runtime.access.check(caller, need, Action.READ if request.method in READ_METHODS else Action.WRITE)
        return caller

    if need.platform:  # the admin token acts on no project here: no project_id
        async def platform_dependency(request: Request, runtime: RuntimeDep, query_key: KeyQuery = None) -> Caller:
            return checked(request, runtime, await identified(request, runtime))

        return Depends(platform_dependency)

    async def dependency(request: Request, runtime: RuntimeDep, query_key: KeyQuery = None,
                         query_project_id: ProjectQuery = None) -> Caller:
        caller = await identified(request, runtime)
        in_path = request.path_params.get("project_id")
        if in_path is not None and query_project_id is not None and query_project_id != in_path:
            raise errors.BadRequest(f"Invalid parameter: 'project_id' ({query_project_id}) differs from the "
                                    f"path's project ({in_path}).")
        target = in_path or query_project_id
        if target is not None:
            caller = await runtime.access.scoped(caller, target)
        return checked(request, runtime, caller)

    return Depends(dependency)


async def _metrics_access(request: Request, runtime: RuntimeDep) -> None:
    """/metrics is open unless PULSE_METRICS_TOKEN is set; then it takes that token or the admin
    token as a bearer token. A wrong one is a failed authentication like any other (throttled)."""
    token = runtime.settings.metrics_token
    if not token:
        return
    given = bearer_token(request.headers)
    if given is None:
        raise errors.Unauthorized(MISSING_METRICS_TOKEN)
    if not (hmac.compare_digest(given.encode(), token.encode()) or runtime.access.is_admin_token(given)):
        await runtime.access.failed(client_address(request.scope), INVALID_METRICS_TOKEN)


metrics_access = Depends(_metrics_access)
