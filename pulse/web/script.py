"""GET /api/script.js and /api/script/<feature>.js: the tracking script, built from sdk/ into static/.

The files are read once, at import. Each is answered with a strong ETag made of Pulse's version
and a hash of its bytes (so an upgrade, or a rebuilt file, changes it), a day of caching plus a
week of stale-while-revalidate (the URL carries no version, so a fixed script must still reach
visitors), a 304 for a matching If-None-Match, and the gzip copy when the client accepts gzip.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, Request, Response

from pulse import __version__
from pulse.errors import NotFound

STATIC = Path(__file__).parent / "static"
FEATURES = ("vitals", "scroll", "outlinks", "errors", "clicks", "search", "replay")
SCRIPT_PATH = "/api/script.js"
SCRIPT_PATHS = (SCRIPT_PATH, *(f"/api/script/{name}.js" for name in FEATURES))
CACHE_CONTROL = "public, max-age=86400, stale-while-revalidate=604800"


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    gzipped: bytes
    etag: str


def _asset(path: Path) -> Asset:
    body = path.read_bytes()
    digest = hashlib.sha256(body).hexdigest()[:16]
    # mtime=0: the same bytes always compress to the same bytes.
    return Asset(body, gzip.compress(body, compresslevel=9, mtime=0), f'"{__version__}-{digest}"')


ASSETS = {SCRIPT_PATH: _asset(STATIC / "script.js")} | {
    f"/api/script/{name}.js": _asset(STATIC / "script" / f"{name}.js") for name in FEATURES
}

router = APIRouter(tags=["tracking"])


def _matches(if_none_match: str, etag: str) -> bool:
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags


def _serve(asset: Asset, request: Request) -> Response:
    headers = {"Cache-Control": CACHE_CONTROL, "ETag": asset.etag, "Vary": "Accept-Encoding"}
    if _matches(request.headers.get("if-none-match", ""), asset.etag):
        return Response(status_code=304, headers=headers)
    body = asset.body
    if "gzip" in request.headers.get("accept-encoding", "").lower():
        body, headers["Content-Encoding"] = asset.gzipped, "gzip"
    return Response(body, media_type="text/javascript; charset=utf-8", headers=headers)


@router.api_route(SCRIPT_PATH, methods=["GET", "HEAD"], include_in_schema=False)
async def script(request: Request) -> Response:
    return _serve(ASSETS[SCRIPT_PATH], request)


@router.api_route("/api/script/{name}.js", methods=["GET", "HEAD"], include_in_schema=False)
async def feature(name: str, request: Request) -> Response:
    asset = ASSETS.get(f"/api/script/{name}.js")
    if asset is None:
        raise NotFound(f"No script feature named {name!r}.")
    return _serve(asset, request)
