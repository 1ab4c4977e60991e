"""DSAR delete of one visitor on a `pulse demo` dataset: Pulse's delete beside the plain SQL it replaces.

    pulse demo --visitors 1000000 --days 90             # prints the project id (10M pageviews or so)
    psql ... -c ANALYZE
    DATABASE_URL=postgresql://... REDIS_URL=redis://.../N .venv/bin/python bench/dsar.py --project ID [--visitors 10]

Takes the `--visitors` most active visitors of the project (the costliest to forget) and, for each:

- plain SQL: in one transaction, `DELETE ... WHERE project_id = $1 AND visitor_no = $2` (or
  `visitor_id`) on every table that holds the visitor's rows, then ROLLBACK, so the same visitor is
  left for Pulse. It touches no rollup: a tool that stores raw rows only would run this;
- Pulse: `pulse.privacy.dsar.delete`, the code behind `DELETE /api/v1/privacy/visitors/{id}`, end to
  end: the request appends its entry to the project's ingest stream in Redis, a stream writer (run
  here, started cold, as after a restart) applies it (rows through the registry's indexes, the
  rollups' counters and bitmaps corrected, the audit entry) and answers through Redis.

Both delete the same rows (the script checks the counts agree). It prints each visitor's times and
p50/max of both. The visitors are deleted for good: run it on a dataset made for benchmarking.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from uuid import UUID


async def plain_delete(conn, project: UUID, visitor_id: str, visitor_no: int, tables) -> dict[str, int]:
    counts = {}
    tx = conn.transaction()
    await tx.start()
    try:
        for vt in tables:
            column, value = ("visitor_id", visitor_id) if vt.key == "visitor_id" else ("visitor_no", visitor_no)
            status = await conn.execute(f"DELETE FROM {vt.name} WHERE project_id = $1 AND {column} = $2",
                                        project, value)
            counts[vt.name] = int(status.rsplit(" ", 1)[-1])
    finally:
        await tx.rollback()
    return counts


async def pulse_delete(runtime, writers, caller, visitor_id: str) -> dict:
    from pulse.privacy import dsar

    task = asyncio.ensure_future(dsar.delete(runtime, caller, visitor_id))
    while not task.done():
        for writer in writers:
            await writer.step(block_ms=2)
    done, answer = task.result()
    assert done, answer
    return answer["deleted"]


async def run(project: UUID, visitors: int) -> None:
    import asyncpg

    from pulse.auth import Caller, ProjectAccess
    from pulse.config import Settings
    from pulse.ingest.writer import ShardWriter
    from pulse.privacy.registry import visitor_tables
    from pulse.runtime import Runtime

    settings = Settings()
    runtime = Runtime(settings)
    conn = await asyncpg.connect(settings.database_url.replace("postgresql+asyncpg:", "postgresql:", 1))
    writers = [ShardWriter(runtime, shard, "bench-dsar") for shard in range(settings.ingest_shards)]
    try:
        for writer in writers:
            assert await writer.hold_lease(), "another writer holds the lease: stop `pulse serve` on this Redis"
        domain = await conn.fetchval("SELECT domain FROM projects WHERE id = $1", project)
        caller = Caller(project=ProjectAccess(project_id=project, domain=domain, modules={}))
        chosen = await conn.fetch(
            "SELECT v.visitor_id, v.visitor_no, s.pageviews FROM (SELECT visitor_no, sum(pageviews) AS pageviews "
            " FROM sessions WHERE project_id = $1 GROUP BY visitor_no ORDER BY 2 DESC LIMIT $2) s "
            "JOIN visitors v ON v.project_id = $1 AND v.visitor_no = s.visitor_no ORDER BY s.pageviews DESC",
            project, visitors)
        tables = visitor_tables()
        print(f"{len(chosen)} most active visitors; {len(tables)} tables hold visitor rows")
        plain_ms, pulse_ms = [], []
        for row in chosen:
            began = time.perf_counter()
            plain = await plain_delete(conn, project, row["visitor_id"], row["visitor_no"], tables)
            plain_ms.append((time.perf_counter() - began) * 1000)
            for writer in writers:
                await writer.hold_lease()
            began = time.perf_counter()
            deleted = await pulse_delete(runtime, writers, caller, row["visitor_id"])
            pulse_ms.append((time.perf_counter() - began) * 1000)
            same = all(deleted[name] == n for name, n in plain.items())
            print(f"  {row['visitor_id']}: {row['pageviews']} pageviews, {deleted['sessions']} sessions, "
                  f"{deleted['daily_rollups']} rollup rows corrected   plain SQL {plain_ms[-1]:8.1f} ms   "
                  f"Pulse {pulse_ms[-1]:7.1f} ms   {'same rows' if same else 'ROWS DIFFER'}")
        for name, samples in (("plain SQL (raw rows only)", plain_ms), ("Pulse DSAR delete", pulse_ms)):
            print(f"{name:28} p50 {statistics.median(samples):8.1f} ms   max {max(samples):8.1f} ms")
    finally:
        for writer in writers:
            await writer.release()
        await conn.close()
        await runtime.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--project", required=True)
    parser.add_argument("--visitors", type=int, default=10, help="how many of the most active visitors to delete")
    args = parser.parse_args()
    asyncio.run(run(UUID(args.project), args.visitors))


if __name__ == "__main__":
    main()
