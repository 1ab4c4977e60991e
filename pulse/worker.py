"""The background worker: periodic jobs, each run by one process at a time (a Redis lease).

`pulse serve` runs it inside the API process by default; `pulse worker` runs it alone. Any
number of workers may run: a job's lease makes sure only one of them runs it per period.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass
from typing import Awaitable, Callable
from uuid import UUID

from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from pulse.db import commit
from pulse.runtime import Runtime

log = logging.getLogger("pulse.worker")


@dataclass(frozen=True)
class Job:
    name: str
    every: float  # seconds
    run: Callable[[Runtime], Awaitable[None]]


async def flush_key_last_used(runtime: Runtime) -> None:
    """Move `last_used_at` from Redis (written on every request) to PostgreSQL."""
    from pulse.admin import service
    from pulse.auth import LAST_USED_DIRTY, last_used_key

    while project_id := await runtime.redis.spop(LAST_USED_DIRTY):
        seen = await runtime.redis.hgetall(last_used_key(UUID(project_id)))
        if not seen:
            continue
        try:
            async with runtime.session() as session:
                await service.record_key_use(session=session, project_id=UUID(project_id), seen=seen)
                await commit(session)
        except BaseException:
            await runtime.redis.sadd(LAST_USED_DIRTY, project_id)  # try again next round
            raise


JOBS: list[Job] = [Job("flush_key_last_used", 30.0, flush_key_last_used)]


async def _run_with_lease(runtime: Runtime, job: Job) -> None:
    lease = f"pulse:job:{job.name}"
    token = secrets.token_hex(8)
    if not await runtime.redis.set(lease, token, nx=True, px=int(job.every * 1000)):
        return  # another worker has it this period
    await job.run(runtime)


async def run_worker(runtime: Runtime, stop: asyncio.Event, jobs: list[Job] | None = None) -> None:
    jobs = JOBS if jobs is None else jobs
    tick = min(job.every for job in jobs)
    log.info("worker started", extra={"jobs": [j.name for j in jobs]})
    while not stop.is_set():
        for job in jobs:
            try:
                await _run_with_lease(runtime, job)
            except (RedisError, SQLAlchemyError, OSError):
                log.warning("job failed; will retry", extra={"job": job.name}, exc_info=True)
        try:
            await asyncio.wait_for(stop.wait(), timeout=tick)
        except asyncio.TimeoutError:
            pass
    log.info("worker stopped")
