"""Static files served from memory: read once, gzipped once, answered with a strong ETag."""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    gzipped: bytes
    media_type: str
    etag: str

    @classmethod
    def read(cls, path: Path, *, tag: str = "") -> Asset:
        """The file at `path`; its ETag is `tag` and a hash of its bytes, so any rebuild changes it."""
        body = path.read_bytes()
        # mtime=0: the same bytes always compress to the same bytes.
        return cls(body, gzip.compress(body, compresslevel=9, mtime=0), MEDIA_TYPES[path.suffix],
                   f'"{tag}{hashlib.sha256(body).hexdigest()[:16]}"')

    def response(self, request: Request, cache_control: str) -> Response:
        """200 (gzipped when the client accepts it), or 304 when the client holds this version."""
        headers = {"Cache-Control": cache_control, "ETag": self.etag, "Vary": "Accept-Encoding",
                   "X-Content-Type-Options": "nosniff"}
        if _matches(request.headers.get("if-none-match", ""), self.etag):
            return Response(status_code=304, headers=headers)
        if "gzip" in request.headers.get("accept-encoding", "").lower():
            return Response(self.gzipped, media_type=self.media_type, headers={**headers, "Content-Encoding": "gzip"})
        return Response(self.body, media_type=self.media_type, headers=headers)


def _matches(if_none_match: str, etag: str) -> bool:
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags
