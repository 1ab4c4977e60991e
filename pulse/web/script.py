"""GET /api/script.js and /api/script/<feature>.js: the tracking script, built from sdk/ into static/.

The files are read once, at import (pulse.web.assets), their ETags made of Pulse's version and a
hash of their bytes, so an upgrade or a rebuilt file changes them. Caching is a day plus a week
of stale-while-revalidate: the URL carries no version, so a fixed script must still reach visitors.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request, Response

from pulse import __version__
from pulse.errors import NotFound
from pulse.web.assets import Asset

STATIC = Path(__file__).parent / "static"
FEATURES = ("vitals", "scroll", "outlinks", "errors", "clicks", "search", "replay")
SCRIPT_PATH = "/api/script.js"
SCRIPT_PATHS = (SCRIPT_PATH, *(f"/api/script/{name}.js" for name in FEATURES))
CACHE_CONTROL = "public, max-age=86400, stale-while-revalidate=604800"
ASSETS = {SCRIPT_PATH: Asset.read(STATIC / "script.js", tag=f"{__version__}-")} | {
    f"/api/script/{name}.js": Asset.read(STATIC / "script" / f"{name}.js", tag=f"{__version__}-") for name in FEATURES
}

router = APIRouter(tags=["tracking"])


@router.api_route(SCRIPT_PATH, methods=["GET", "HEAD"], include_in_schema=False)
async def script(request: Request) -> Response:
    return ASSETS[SCRIPT_PATH].response(request, CACHE_CONTROL)


@router.api_route("/api/script/{name}.js", methods=["GET", "HEAD"], include_in_schema=False)
async def feature(name: str, request: Request) -> Response:
    asset = ASSETS.get(f"/api/script/{name}.js")
    if asset is None:
        raise NotFound(f"No script feature named {name!r}.")
    return asset.response(request, CACHE_CONTROL)
