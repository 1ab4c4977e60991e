"""The background worker: periodic jobs, each run by one process at a time (a Redis lease).

`pulse serve` runs it inside the API process by default; `pulse worker` runs it alone. Any
number of workers may run: a job's lease makes sure only one of them runs it per period.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import text

from pulse.db import commit
from pulse.runtime import Runtime

log = logging.getLogger("pulse.worker")

# Jobs share the request engine, whose connections carry PULSE_QUERY_TIMEOUT_MS (meant for
# requests): a job's transaction lifts it, and its lease (`Job.every`) bounds the run instead.
NO_STATEMENT_TIMEOUT = "SET LOCAL statement_timeout = 0"


@dataclass(frozen=True)
class Job:
    name: str
    every: float  # seconds
    run: Callable[[Runtime], Awaitable[None]]


async def flush_key_last_used(runtime: Runtime) -> None:
    """Move `last_used_at` from Redis (written on every request) to PostgreSQL.

    Each project's hash is renamed aside first, so uses recorded meanwhile start a new hash;
    the aside copy is deleted only after the database commit (and retried if that fails).
    """
    from pulse.access import last_used_flushing_key, last_used_key
    from pulse.admin import service

    redis = runtime.redis
    async for name in redis.scan_iter(match="pulse:{*}:key_last_used*", count=500):
        project_id = name.split("{", 1)[1].split("}", 1)[0]
        aside = last_used_flushing_key(project_id)
        if name == last_used_key(project_id):
            if await redis.exists(aside):
                continue  # an earlier flush is pending: it is handled under its own name
            await redis.rename(name, aside)
        seen = await redis.hgetall(aside)
        if seen:
            async with runtime.session() as session:
                await service.record_key_use(session=session, project_id=UUID(project_id), seen=seen)
                await commit(session)
        await redis.delete(aside)


async def ensure_partitions(runtime: Runtime) -> None:
    """Monthly partitions from the oldest accepted timestamp to two months ahead."""
    from pulse.ingest import partitions
    from pulse.ingest.payloads import MAX_AGE

    async with runtime.engine.begin() as conn:
        await conn.execute(text(NO_STATEMENT_TIMEOUT))
        await partitions.ensure_months(conn, partitions.window(datetime.now(UTC), MAX_AGE))


async def prune_ingest_ledger(runtime: Runtime) -> None:
    """Forget written stream entries after a week: replays only happen within minutes."""
    async with runtime.engine.begin() as conn:
        await conn.execute(text(NO_STATEMENT_TIMEOUT))
        await conn.execute(text("DELETE FROM ingest_ledger WHERE written_at < now() - interval '7 days'"))


JOBS: list[Job] = [
    Job("flush_key_last_used", 30.0, flush_key_last_used),
    Job("ensure_partitions", 3600.0, ensure_partitions),
    Job("prune_ingest_ledger", 3600.0, prune_ingest_ledger),
]


async def _run_with_lease(runtime: Runtime, job: Job) -> None:
    """Run the job if no worker has this period's lease; a run may not outlast its lease."""
    if not await runtime.redis.set(f"pulse:job:{job.name}", "1", nx=True, px=int(job.every * 1000)):
        return
    await asyncio.wait_for(job.run(runtime), timeout=job.every)


async def run_worker(runtime: Runtime, stop: asyncio.Event, jobs: list[Job] | None = None,
                     *, ingest: bool = True) -> None:
    """Periodic jobs, and (unless `ingest` is False) the writers of the ingest stream."""
    from pulse.ingest.writer import run_writers

    jobs = JOBS if jobs is None else jobs
    tick = min(job.every for job in jobs)
    writers = asyncio.create_task(run_writers(runtime, stop)) if ingest else None
    log.info("worker started", extra={"jobs": [j.name for j in jobs], "ingest": ingest})
    while not stop.is_set():
        for job in jobs:
            try:
                await _run_with_lease(runtime, job)
            except Exception:  # a failed job is retried next period; the loop must live on
                log.exception("job failed; will retry", extra={"job": job.name})
        try:
            await asyncio.wait_for(stop.wait(), timeout=tick)
        except TimeoutError:
            pass
    if writers is not None:
        await writers  # finishes its batch, releases its leases
    log.info("worker stopped")
