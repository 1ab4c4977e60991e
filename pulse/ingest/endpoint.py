"""POST /api/collect as a bare ASGI endpoint.

The hottest path skips FastAPI's routing and dependency injection (a large share of the time
a small request takes) but not its rules: it runs the same access check, the same service and
the same error envelope as every other route.
"""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from starlette.datastructures import Headers, QueryParams
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from pulse import errors
from pulse.auth import client_address, need
from pulse.deps import bearer_token
from pulse.errors import error_response
from pulse.ingest.service import Client
from pulse.modules.registry import Action

PATH = "/api/collect"
# Each payload's own module is checked by the service; `core` write access admits the request.
NEED = need("core", "ingest")
ROUTE = SimpleNamespace(path=PATH)  # what the metrics middleware labels the request with


async def read_body(receive: Receive) -> bytes:
    """The whole body. pulse.web.bodylimit.BodyLimit, around every route, refuses one over
    MAX_BODY_BYTES with 413 as soon as it passes the limit, so this never holds more."""
    chunks, more = [], True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


class CollectEndpoint:
    """Answers POST /api/collect itself; passes everything else to the app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        scope["route"] = ROUTE
        try:
            response = JSONResponse(await self.collect(scope, receive))
        except errors.ApiError as exc:
            response = error_response(exc.status, exc.message, exc.headers)
        await response(scope, receive, send)

    async def collect(self, scope: Scope, receive: Receive) -> dict:
        runtime = scope["app"].state.runtime
        headers = Headers(scope=scope)
        params = QueryParams(scope["query_string"])
        caller = await runtime.access.identify(key=headers.get("x-pulse-key") or params.get("key"),
                                               bearer=bearer_token(headers), bucket="ingest",
                                               client=client_address(scope))
        if "project_id" in params:
            caller = await runtime.access.scoped(caller, params["project_id"])
        runtime.access.check(caller, NEED, Action.WRITE)
        body = await read_body(receive)
        client = scope.get("client")
        return await runtime.ingestor.accept(caller, body, Client(
            ip=client[0] if client else "", user_agent=headers.get("user-agent", ""),
            do_not_track=headers.get("dnt") == "1" or headers.get("sec-gpc") == "1"), datetime.now(UTC))
