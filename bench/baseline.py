"""The raw limits the ingest figures are compared with, measured the same way on the same machine.

    .venv/bin/python bench/baseline.py starlette [--workers 2] [--duration 15]   # req/s of a bare JSON endpoint
    .venv/bin/python bench/baseline.py copy --dsn postgresql://...                 # asyncpg COPY rows/s

`starlette`: a Starlette app with one POST route that parses the JSON body and answers
{"ok": true}, served by uvicorn with the same workers, driven by the same wrk command as
bench/ingest.py. `copy`: rows shaped like pageviews COPYed into a table with one btree index.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from serving import free_port

APP = '''
import json
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

async def collect(request):
    json.loads(await request.body())
    return JSONResponse({"ok": True})

app = Starlette(routes=[Route("/api/collect", collect, methods=["POST"])])
'''



def starlette(workers: int, duration: int, connections: int) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="pulse-baseline-"))
    (workdir / "bare.py").write_text(APP)
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "bare:app", "--port", str(port), "--workers",
                               str(workers), "--no-access-log", "--log-level", "warning"], cwd=workdir)
    try:
        time.sleep(2)
        script = workdir / "post.lua"
        script.write_text('wrk.method = "POST"\nwrk.body = \'{"type":"pageview","path":"/pricing"}\'\n'
                          'wrk.headers["Content-Type"] = "application/json"\n')
        result = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(script),
                                 f"http://127.0.0.1:{port}/api/collect"], capture_output=True, text=True, check=True)
        print(f"bare Starlette + uvicorn, {workers} workers")
        print(result.stdout)
    finally:
        server.terminate()
        server.wait(30)


def copy(dsn: str, rows: int) -> None:
    import uuid
    from datetime import UTC, datetime

    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute("DROP TABLE IF EXISTS copy_baseline")
            await conn.execute("CREATE TABLE copy_baseline (project_id uuid, ts timestamptz, id uuid, "
                               "visitor_no bigint, path text, source text, country text, browser text, "
                               "PRIMARY KEY (project_id, ts, id))")
            project, now = uuid.uuid4(), datetime.now(UTC)
            records = [(project, now, uuid.uuid4(), i % 50000, "/pricing", "google.com", "US", "Chrome")
                       for i in range(rows)]
            start = time.perf_counter()
            for i in range(0, rows, 20000):
                await conn.copy_records_to_table("copy_baseline", records=records[i:i + 20000])
            elapsed = time.perf_counter() - start
            print(f"asyncpg COPY: {rows / elapsed:,.0f} rows/s ({rows} rows, one btree index)")
            await conn.execute("DROP TABLE copy_baseline")
        finally:
            await conn.close()

    asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["starlette", "copy"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--dsn", default=os.environ.get("BENCH_DSN"))
    parser.add_argument("--rows", type=int, default=500_000)
    args = parser.parse_args()
    if args.what == "starlette":
        starlette(args.workers, args.duration, args.connections)
    else:
        copy(args.dsn, args.rows)


if __name__ == "__main__":
    main()
