"""create_app(): the FastAPI app with its REST routers, GraphQL, middleware and error handling."""

from __future__ import annotations

import asyncio
import gc
import os
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from pulse import __version__
from pulse.admin import rest as admin_rest
from pulse.config import Settings, get_settings
from pulse.errors import install_error_handlers
from pulse.graphql.context import get_context
from pulse.graphql.schema import build_schema
from pulse.ingest.endpoint import CollectEndpoint
from pulse.modules.installed import installed
from pulse.observability import ObservabilityMiddleware
from pulse.ops import router as ops_router
from pulse.params import query_parameters_check
from pulse.privacy import rest as privacy_rest
from pulse.reports import rest_router
from pulse.runtime import Runtime
from pulse.web import dashboard, ide, script
from pulse.web.bodylimit import BodyLimit

# Routes the tracking script calls from a customer's own site: any origin may call them; the
# ingest key decides what is accepted (the project's domain only marks self-referrals).
PUBLIC_PATHS = ("/api/collect", *script.SCRIPT_PATHS)


def rest_routers() -> list[APIRouter]:
    """The platform's routers, every installed module's (its own routes, then its reports'), and
    the dashboard's, GraphiQL's and the REST docs' (and `/`), and the tracking script's."""
    modules = [router for m in installed() for router in (m.router, m.reports and rest_router(m.name, m.reports))
               if router]
    return [ops_router, admin_rest.router, privacy_rest.router, *modules, dashboard.router, ide.router,
            script.router]


class Cors:
    """CORS from ALLOWED_ORIGINS everywhere, and open CORS on the public tracking paths."""

    def __init__(self, app: ASGIApp, allowed_origins: list[str]) -> None:
        self.public = CORSMiddleware(app, allow_origins=["*"], allow_methods=["GET", "POST", "OPTIONS"],
                                     allow_headers=["Content-Type", "X-Pulse-Key"], max_age=86400)
        self.private = CORSMiddleware(app, allow_origins=allowed_origins, allow_credentials=True,
                                      allow_methods=["*"], allow_headers=["*"], max_age=600)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        public = scope["type"] == "http" and scope["path"] in PUBLIC_PATHS
        await (self.public if public else self.private)(scope, receive, send)


def create_app(settings: Settings | None = None, *, run_worker: bool = False) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        runtime = Runtime(settings)
        app.state.runtime = runtime
        runtime.warm_up()
        # The parsers' tables and the schema are long-lived: keep them out of full collections,
        # which otherwise pause every request for tens of milliseconds now and then.
        gc.freeze()
        stop = asyncio.Event()
        worker = None
        if run_worker:
            from pulse.worker import run_worker as worker_loop

            worker = asyncio.create_task(worker_loop(runtime, stop))
        try:
            yield
        finally:
            stop.set()
            if worker is not None:
                await worker
            await runtime.close()

    app = FastAPI(title="Pulse", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url="/api/openapi.json", dependencies=[query_parameters_check])
    install_error_handlers(app)
    for router in rest_routers():
        app.include_router(router)
    app.include_router(ide.GraphQLRouter(build_schema(settings), path="/graphql", graphql_ide="graphiql",
                                     allow_queries_via_get=False, context_getter=get_context),
                       include_in_schema=False)
    app.add_middleware(CollectEndpoint)  # POST /api/collect, inside CORS and metrics
    app.add_middleware(BodyLimit)  # every route's body, /api/collect's too; its 413 gets CORS headers
    app.add_middleware(Cors, allowed_origins=settings.allowed_origins)
    app.add_middleware(ObservabilityMiddleware)
    return app


def served_app() -> FastAPI:
    """The factory `pulse serve` hands to uvicorn (called once in each API process)."""
    from pulse.logs import configure_logging

    settings = get_settings()
    configure_logging(settings.log_level)
    return create_app(settings, run_worker=os.environ.get("PULSE_RUN_WORKER") == "1")
