"""Liveness, readiness and metrics endpoints for operators and orchestrators."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text

from pulse.deps import RuntimeDep
from pulse.observability import render_metrics

router = APIRouter(tags=["ops"])


@router.get("/healthz")
async def healthz() -> dict:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(runtime: RuntimeDep) -> JSONResponse:
    async def database() -> bool:
        async with runtime.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True

    async def redis() -> bool:
        return bool(await runtime.redis.ping())

    checks = {"database": database(), "redis": redis()}
    results = await asyncio.gather(*(asyncio.wait_for(c, 3) for c in checks.values()), return_exceptions=True)
    status = {name: ("ok" if r is True else "unreachable") for name, r in zip(checks, results, strict=True)}
    ready = all(v == "ok" for v in status.values())
    return JSONResponse({"status": "ready" if ready else "unavailable", "checks": status},
                          status_code=200 if ready else 503)


@router.get("/metrics")
async def metrics() -> Response:
    body, content_type = render_metrics()
    return Response(body, media_type=content_type)
