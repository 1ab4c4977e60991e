"""GraphiQL at GET /graphql and Swagger UI at /api/docs, served from files in the package.

Both pages load only their own built assets (pulse/web/ide/: the `graphiql` and `swagger-ui-dist`
npm packages bundled by `npm --prefix pulse/web/ide run build` into assets/, checked in so serving
needs no Node), under the dashboard's Content-Security-Policy: nothing from another origin, no
inline script (the boot data is JSON in a <script type="application/json"> element).
GraphiQL sends each operation as a same-origin JSON POST to /graphql, so a dashboard session's
cookie goes with it, and so does any header typed into its headers editor (X-Pulse-Key).
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from strawberry.fastapi import GraphQLRouter as StrawberryGraphQLRouter

from pulse import errors
from pulse.web.assets import MEDIA_TYPES, Asset
from pulse.web.dashboard import HTML_HEADERS

router = APIRouter(include_in_schema=False)

ROOT = Path(__file__).parent / "ide"
OPENAPI_URL = "/api/openapi.json"
DOCS_URL = "/api/docs"
# Which page each built asset belongs to, and so the path it is served under.
PAGES = {"graphiql": "/graphql/assets", "docs": f"{DOCS_URL}/assets"}

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>{title} · Pulse</title>
<link rel="stylesheet" href="{base}/{name}.css?v={version}">
<script defer src="{base}/{name}.js?v={version}"></script>
</head>
<body>
<div id="{root}"><noscript>{title} needs JavaScript.</noscript></div>
<script type="application/json" id="pulse-boot">{boot}</script>
</body>
</html>
"""


@cache
def assets() -> dict[str, Asset]:
    """The built assets, read once and kept compressed in memory."""
    return {path.name: Asset.read(path) for path in sorted((ROOT / "assets").iterdir()) if path.suffix in MEDIA_TYPES}


@cache
def version(name: str) -> str:
    """One tag for a page's build: a new build gets new asset URLs, so they may be cached forever."""
    found = assets()
    return hashlib.sha256(b"".join(found[f"{name}{ext}"].etag.encode() for ext in (".js", ".css"))).hexdigest()[:12]


def _page(name: str, title: str, root: str, boot: dict) -> HTMLResponse:
    # JSON inside <script>: escape "<" so no value can close the element.
    data = json.dumps(boot, separators=(",", ":")).replace("<", "\\u003c")
    body = PAGE.format(title=title, base=PAGES[name], name=name, version=version(name), root=root, boot=data)
    return HTMLResponse(body, headers=HTML_HEADERS)


def graphiql_page() -> HTMLResponse:
    return _page("graphiql", "GraphiQL", "graphiql", {"endpoint": "/graphql"})


class GraphQLRouter(StrawberryGraphQLRouter):
    """Strawberry's router, whose GET /graphql (a browser asking for HTML) answers Pulse's own
    GraphiQL page instead of Strawberry's, which loads GraphiQL from a CDN."""

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return graphiql_page()


@router.get(DOCS_URL, response_class=HTMLResponse)
async def docs() -> HTMLResponse:
    return _page("docs", "Pulse REST API", "swagger-ui", {"openapi": OPENAPI_URL})


def _asset(name: str, page: str, request: Request) -> Response:
    found = assets().get(name)
    if found is None or not name.startswith(f"{page}."):
        raise errors.NotFound(f"Asset '{name}' not found.")
    # versioned URLs (?v=) change with every build, so a browser may keep each one
    return found.response(request, "public, max-age=31536000, immutable")


@router.get("/graphql/assets/{name}")
async def graphiql_asset(name: str, request: Request) -> Response:
    return _asset(name, "graphiql", request)


@router.get(DOCS_URL + "/assets/{name}")
async def docs_asset(name: str, request: Request) -> Response:
    return _asset(name, "docs", request)


@router.api_route("/", methods=["GET", "HEAD"])
async def root() -> Response:
    """Pulse starts at its dashboard."""
    return Response(status_code=307, headers={"Location": "/dashboard", "Cache-Control": "no-store"})
