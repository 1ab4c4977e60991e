"""Liveness, readiness and metrics endpoints for operators and orchestrators."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text

from pulse.deps import RuntimeDep, metrics_access
from pulse.ingest import deadletters
from pulse.observability import INGEST_DEAD_LETTERS, render_metrics

router = APIRouter(tags=["ops"])


@router.get("/healthz")
async def healthz() -> dict:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(runtime: RuntimeDep) -> JSONResponse:
    """Ready when PostgreSQL and Redis answer. Dead letters (ingest entries the writers could not
    store) are reported, `{"total": n, "by_shard": {...}}`, but are a warning, not unreadiness:
    this process can still accept and write everything else, and taking it out of rotation would
    not bring them back (`pulse ingest dead-letters`)."""

    async def database() -> bool:
        async with runtime.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True

    async def redis() -> bool:
        return bool(await runtime.redis.ping())

    async def dead_letters() -> dict:
        counts = await deadletters.counts(runtime.redis, runtime.settings.ingest_shards)
        for shard, n in counts.items():
            INGEST_DEAD_LETTERS.labels(str(shard)).set(n)
        return {"total": sum(counts.values()), "by_shard": {str(s): n for s, n in counts.items()}}

    checks = {"database": database(), "redis": redis()}
    results = await asyncio.gather(*(asyncio.wait_for(c, 3) for c in (*checks.values(), dead_letters())),
                                   return_exceptions=True)
    status = {name: ("ok" if r is True else "unreachable") for name, r in zip(checks, results, strict=False)}
    ready = all(v == "ok" for v in status.values())
    body = {"status": "ready" if ready else "unavailable", "checks": status}
    if isinstance(results[-1], dict):  # left out when Redis does not answer
        body["dead_letters"] = results[-1]
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get("/metrics", dependencies=[metrics_access])  # PULSE_METRICS_TOKEN, when set
async def metrics() -> Response:
    body, content_type = render_metrics()
    return Response(body, media_type=content_type)
