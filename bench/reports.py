"""Report latency over HTTP on a `pulse demo` dataset, beside plain SQL over the raw table and chDB.

    pulse demo --visitors 1000000 --days 90             # prints the project id and a query key
    DATABASE_URL=... REDIS_URL=... BENCH_DSN=postgresql://... \\
      .venv/bin/python bench/reports.py --project ID --key QUERY_KEY [--runs 20] [--days 30] [--chdb]

Starts `pulse serve` (2 workers, no result cache exists to warm), asks each core report for the
last `--days` days `--runs` times, one request at a time, and prints p50/p95. Then answers
count, distinct visitors, top pages with visitors and the daily series three more ways: through
Pulse's service layer in this process (no HTTP, like for like with chDB), with plain SQL over the
raw `pageviews` table (what makes other tools slow), and, with `--chdb`, with chDB (in-process
ClickHouse, `pip install chdb`) over the same rows copied into a MergeTree table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import tempfile
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import percentiles
from serving import pulse_serve

DASHBOARD = """query($s: String, $e: String) { project {
  stats(startAt: $s, endAt: $e) { current { pageviews visitors sessions bounceRate avgDuration events }
                                  previous { pageviews visitors sessions bounceRate avgDuration events } }
  timeseries(startAt: $s, endAt: $e) { date pageviews visitors sessions }
  pages(startAt: $s, endAt: $e) { data { path views uniqueViews avgDuration } total }
  referrers(startAt: $s, endAt: $e) { data { source visitors pageviews } total }
  devices(startAt: $s, endAt: $e) { browsers { name visitors percentage } operatingSystems { name visitors }
                                     deviceTypes { name visitors } }
  geo(startAt: $s, endAt: $e) { data { name visitors percentage } }
  realtime { activeVisitors }
} }"""

FILTERS = ["country:is:DE", "path:is:/pricing"]  # a session filter and a page filter
ENDPOINTS = ["/api/v1/stats", "/api/v1/stats/timeseries", "/api/v1/pages", "/api/v1/referrers", "/api/v1/events",
             "/api/v1/devices", "/api/v1/geo", "/api/v1/realtime"]




def timed(request: urllib.request.Request) -> float:
    start = time.perf_counter()
    with urllib.request.urlopen(request) as response:
        response.read()
        assert response.status == 200
    return (time.perf_counter() - start) * 1000


def http(base: str, key: str, runs: int, start: str, end: str, filtered_runs: int) -> None:
    for path in ENDPOINTS:
        url = f"{base}{path}?start_at={start}&end_at={end}"
        samples = [timed(urllib.request.Request(url, headers={"X-Pulse-Key": key})) for _ in range(runs)]
        print(f"GET {path:28s} {percentiles(samples)}")
    requests = {
        "stats to realtime": {"query": DASHBOARD, "variables": {"s": start, "e": end}},
        "/dashboard overview": {"query": overview_query(), "variables": {
            "startAt": start, "endAt": end, "interval": "day", "rows": 10, "utm": True, "filters": []}},
    }
    for name, request in requests.items():
        body = json.dumps(request).encode()
        samples = [timed(urllib.request.Request(f"{base}/graphql", data=body, headers={
            "X-Pulse-Key": key, "Content-Type": "application/json"})) for _ in range(runs)]
        print(f"POST /graphql ({name:19s}) {percentiles(samples)}")
    # Filtered reports read raw rows: far slower, so fewer runs.
    few = filtered_runs
    for expression in FILTERS if few else []:
        url = f"{base}/api/v1/pages?start_at={start}&end_at={end}&filter={urllib.parse.quote(expression)}"
        samples = [timed(urllib.request.Request(url, headers={"X-Pulse-Key": key})) for _ in range(few)]
        print(f"GET /api/v1/pages filter={expression:18s} {percentiles(samples)}")
        dimension, operator, value = expression.split(":", 2)
        request = requests["/dashboard overview"]
        request["variables"]["filters"] = [{"dimension": dimension, "operator": operator.upper(), "value": value}]
        body = json.dumps(request).encode()
        samples = [timed(urllib.request.Request(f"{base}/graphql", data=body, headers={
            "X-Pulse-Key": key, "Content-Type": "application/json"})) for _ in range(few)]
        print(f"POST /graphql overview filter={expression:18s} {percentiles(samples)}")


def overview_query() -> str:
    """The very request the web dashboard's overview sends (pulse/web/dashboard/src/views/overview.js)."""
    source = (Path(__file__).parents[1] / "pulse/web/dashboard/src/views/overview.js").read_text()
    return re.search(r"const REPORT = `(.*?)`;", source, re.S).group(1)


RAW = {
    "count": "SELECT count(*) FROM pageviews WHERE project_id = $1 AND ts >= $2 AND ts < $3",
    "distinct visitors": "SELECT count(DISTINCT visitor_no) FROM pageviews WHERE project_id = $1 AND ts >= $2 "
                         "AND ts < $3",
    "top pages with visitors": "SELECT path, count(*), count(DISTINCT visitor_no) FROM pageviews WHERE project_id = $1 "
                               "AND ts >= $2 AND ts < $3 GROUP BY path ORDER BY 2 DESC LIMIT 10",
    "daily series": "SELECT date_trunc('day', ts), count(*), count(DISTINCT visitor_no) FROM pageviews "
                    "WHERE project_id = $1 AND ts >= $2 AND ts < $3 GROUP BY 1 ORDER BY 1",
}


async def raw_sql(dsn: str, project: str, start: datetime, end: datetime, runs: int) -> None:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        for name, query in RAW.items():
            samples = []
            for _ in range(runs):
                began = time.perf_counter()
                await conn.fetch(query, project, start, end)
                samples.append((time.perf_counter() - began) * 1000)
            print(f"raw SQL {name:26s} {percentiles(samples)}")
    finally:
        await conn.close()


async def in_process(dsn: str, project: str, first, last, runs: int) -> None:
    """The four questions through Pulse's own service layer, without HTTP: like for like with chDB."""
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

    from pulse.modules.core import service
    from pulse.query.dates import DayRange
    from pulse.query.rollups import direct_reader, total

    engine = create_async_engine(dsn.replace("postgresql://", "postgresql+asyncpg://", 1))
    days = DayRange(first, last)

    async def count(read):
        return total(await read("", days)).pageviews

    async def visitors(read):
        return total(await read("", days)).visitors

    questions = {
        "count": count,
        "distinct visitors": visitors,
        "top pages with visitors": lambda read: service.pages(read=read, days=days, limit=10, offset=0),
        "daily series": lambda read: service.timeseries(read=read, days=days),
    }
    try:
        async with AsyncSession(engine) as session:
            read = direct_reader(session, UUID(project))
            for name, question in questions.items():
                samples = []
                for _ in range(runs):
                    began = time.perf_counter()
                    await question(read)
                    samples.append((time.perf_counter() - began) * 1000)
                    await session.rollback()
                print(f"Pulse   {name:26s} {percentiles(samples)}")
    finally:
        await engine.dispose()


async def chdb_compare(dsn: str, project: str, start: datetime, end: datetime, runs: int) -> None:
    import asyncpg
    import chdb.session

    workdir = tempfile.mkdtemp(prefix="pulse-chdb-")
    csv_path = os.path.join(workdir, "pageviews.csv")
    conn = await asyncpg.connect(dsn)
    try:
        with open(csv_path, "wb") as out:
            await conn.copy_from_query("SELECT ts, visitor_no, path FROM pageviews WHERE project_id = $1",
                                       project, output=out, format="csv")
    finally:
        await conn.close()
    db = chdb.session.Session(os.path.join(workdir, "db"))
    db.query("CREATE TABLE pv (ts DateTime64(6, 'UTC'), visitor_no UInt64, path String) "
             "ENGINE = MergeTree ORDER BY ts")
    db.query(f"INSERT INTO pv SELECT * FROM file('{csv_path}', CSV, "
             "'ts DateTime64(6, \\'UTC\\'), visitor_no UInt64, path String')")
    where = f"ts >= '{start:%Y-%m-%d %H:%M:%S}' AND ts < '{end:%Y-%m-%d %H:%M:%S}'"
    queries = {
        "count": f"SELECT count() FROM pv WHERE {where}",
        "distinct visitors": f"SELECT uniqExact(visitor_no) FROM pv WHERE {where}",
        "top pages with visitors": f"SELECT path, count(), uniqExact(visitor_no) FROM pv WHERE {where} "
                                   "GROUP BY path ORDER BY 2 DESC LIMIT 10",
        "daily series": f"SELECT toDate(ts), count(), uniqExact(visitor_no) FROM pv WHERE {where} "
                        "GROUP BY 1 ORDER BY 1",
    }
    for name, query in queries.items():
        samples = []
        for _ in range(runs):
            began = time.perf_counter()
            db.query(query)
            samples.append((time.perf_counter() - began) * 1000)
        print(f"chDB    {name:26s} {percentiles(samples)}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--project", required=True)
    parser.add_argument("--key", required=True, help="a query key of the project")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chdb", action="store_true")
    parser.add_argument("--filtered-runs", type=int, default=4, help="runs of each filtered case (0: none)")
    args = parser.parse_args()

    end = datetime.now(UTC).date()
    first = end - timedelta(days=args.days - 1)
    with pulse_serve("--workers", str(args.workers), "--no-worker", PULSE_RATE_LIMIT_QUERY="1000000000") as served:
        print(f"last {args.days} days ({first} to {end}), {args.runs} runs each, one request at a time")
        http(served.base, args.key, args.runs, first.isoformat(), end.isoformat(), args.filtered_runs)
    dsn = os.environ.get("BENCH_DSN")
    if dsn:
        start = datetime.combine(first, datetime.min.time(), UTC)
        stop = datetime.combine(end + timedelta(days=1), datetime.min.time(), UTC)
        raw_runs = max(3, args.runs // 4)
        asyncio.run(in_process(dsn, args.project, first, end, args.runs))
        asyncio.run(raw_sql(dsn, args.project, start, stop, raw_runs))
        if args.chdb:
            asyncio.run(chdb_compare(dsn, args.project, start, stop, args.runs))


if __name__ == "__main__":
    main()
