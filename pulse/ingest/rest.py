"""POST /api/collect: every payload type, one at a time or in a batch."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Request

from pulse import errors
from pulse.auth import Caller, need
from pulse.deps import RuntimeDep, requires
from pulse.ingest.payloads import MAX_BODY_BYTES
from pulse.ingest.service import Client

router = APIRouter(tags=["ingestion"])
# Each payload's own module is checked by the service; `core` write access admits the request.
Ingest = Annotated[Caller, requires(need("core", "ingest"))]


async def read_body(request: Request) -> bytes:
    """The body, refused with 413 as soon as it passes the limit (never read whole first)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise errors.PayloadTooLarge(f"Request body exceeds {MAX_BODY_BYTES} bytes.")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise errors.PayloadTooLarge(f"Request body exceeds {MAX_BODY_BYTES} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


def client_of(request: Request) -> Client:
    headers = request.headers
    return Client(ip=request.client.host if request.client else "",
                  user_agent=headers.get("user-agent", ""),
                  do_not_track=headers.get("dnt") == "1" or headers.get("sec-gpc") == "1")


@router.post("/api/collect")
async def collect(request: Request, caller: Ingest, runtime: RuntimeDep) -> dict:
    body = await read_body(request)
    return await runtime.ingestor.accept(caller, body, client_of(request), datetime.now(UTC))
