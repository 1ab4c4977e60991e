"""Filtered reports over HTTP (issue 14), beside the same questions as plain SQL and on chDB.

    pulse demo --visitors 1000000 --days 45                 # 90 days, prints the project id and a query key
    DATABASE_URL=... REDIS_URL=... BENCH_DSN=postgresql://... \\
      PYTHON bench/filtered.py --project ID --key QUERY_KEY [--runs 20] [--days 30] [--sql-runs 5] [--no-chdb]

PYTHON is the project's .venv/bin/python; for the chDB columns, one that also has chdb (not in the
lock: `python3 -m venv /tmp/benchvenv && /tmp/benchvenv/bin/pip install chdb`, then a .pth file in
its site-packages naming this checkout and .venv/lib/python3.11/site-packages).

Starts `pulse serve` (2 workers, no result cache exists to warm) and asks, over the last `--days`
days, one request at a time, `--runs` times each, p50 and p95:
- the pages, sources (referrers) and stats reports, unfiltered, with one filter (country:is:DE,
  path:is:/pricing, source:is:google.com) and with two (country DE and device Desktop, country DE
  and path /pricing), each filtered time beside its ratio to the unfiltered one;
- the web dashboard's overview request (pulse/web/dashboard/src/views/overview.js), the same way.
Then four of those questions answered by plain SQL over the raw `pageviews` and `sessions` tables
(`--sql-runs` times, PostgreSQL's default settings), and on chDB (in-process ClickHouse) over the
same rows, copied into MergeTree tables with each pageview's session attributes already joined (a
flat table: chDB's best case). The answers of Pulse, SQL and chDB are checked to agree.
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
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from common import percentiles
from serving import pulse_serve

ONE = ["country:is:DE", "path:is:/pricing", "source:is:google.com"]
TWO = [["country:is:DE", "device:is:Desktop"], ["country:is:DE", "path:is:/pricing"]]
REPORTS = {"pages": "/api/v1/pages", "sources": "/api/v1/referrers", "stats": "/api/v1/stats"}


def timed(request: urllib.request.Request) -> tuple[float, dict]:
    start = time.perf_counter()
    with urllib.request.urlopen(request) as response:
        body = response.read()
        assert response.status == 200
    return (time.perf_counter() - start) * 1000, json.loads(body)


def overview_query() -> str:
    source = (Path(__file__).parents[1] / "pulse/web/dashboard/src/views/overview.js").read_text()
    return re.search(r"const REPORT = `(.*?)`;", source, re.S).group(1)


def http(base: str, key: str, runs: int, start: str, end: str) -> dict:
    """Every HTTP case; returns the answers the references are checked against."""
    answers = {}
    cases = [[], *[[f] for f in ONE], *TWO]
    for name, path in REPORTS.items():
        baseline = None
        for filters in cases:
            query = "".join(f"&filter={urllib.parse.quote(f)}" for f in filters)
            url = f"{base}{path}?start_at={start}&end_at={end}&limit=10{query}"
            samples, answer = zip(*(timed(urllib.request.Request(url, headers={"X-Pulse-Key": key}))
                                    for _ in range(runs)), strict=True)
            answers[(name, tuple(filters))] = answer[-1]
            p50 = sorted(samples)[len(samples) // 2]
            baseline = baseline or p50
            label = " & ".join(filters) or "unfiltered"
            print(f"GET {path:18s} {label:38s} {percentiles(list(samples))}   x{p50 / baseline:4.1f}")
    baseline = None
    for filters in cases:
        variables = {"startAt": start, "endAt": end, "interval": "day", "rows": 10, "utm": True, "filters": [
            {"dimension": d, "operator": o.upper(), "value": v} for d, o, v in (f.split(":", 2) for f in filters)]}
        body = json.dumps({"query": overview_query(), "variables": variables}).encode()
        samples = []
        for _ in range(runs):
            ms, answer = timed(urllib.request.Request(f"{base}/graphql", data=body, headers={
                "X-Pulse-Key": key, "Content-Type": "application/json"}))
            assert "errors" not in answer, answer
            samples.append(ms)
        p50 = sorted(samples)[len(samples) // 2]
        baseline = baseline or p50
        label = " & ".join(filters) or "unfiltered"
        print(f"POST /graphql overview  {label:38s} {percentiles(samples)}   x{p50 / baseline:4.1f}")
    return answers


# The questions the references answer, each with how to read Pulse's HTTP answer the same way.
SQL = {
    "pages country DE": (
        "SELECT p.path, count(*) AS views, count(DISTINCT p.visitor_no) AS visitors FROM pageviews p "
        "JOIN sessions s ON s.project_id = p.project_id AND s.id = p.session_id "
        "WHERE p.project_id = $1 AND p.ts >= $2 AND p.ts < $3 AND s.country = 'DE' GROUP BY 1"),
    "pages country DE & Desktop": (
        "SELECT p.path, count(*) AS views, count(DISTINCT p.visitor_no) AS visitors FROM pageviews p "
        "JOIN sessions s ON s.project_id = p.project_id AND s.id = p.session_id "
        "WHERE p.project_id = $1 AND p.ts >= $2 AND p.ts < $3 AND s.country = 'DE' AND s.device = 'Desktop' "
        "GROUP BY 1"),
    "sources path /pricing": (
        "SELECT coalesce(s.source, '(direct)') AS path, count(*) AS views, count(DISTINCT p.visitor_no) AS visitors "
        "FROM pageviews p JOIN sessions s ON s.project_id = p.project_id AND s.id = p.session_id "
        "WHERE p.project_id = $1 AND p.ts >= $2 AND p.ts < $3 AND p.path = '/pricing' GROUP BY 1"),
    "stats country DE": (
        "SELECT (SELECT count(*) FROM pageviews p JOIN sessions s ON s.project_id = p.project_id "
        "AND s.id = p.session_id WHERE p.project_id = $1 AND p.ts >= $2 AND p.ts < $3 AND s.country = 'DE') AS views, "
        "(SELECT count(*) FROM sessions WHERE project_id = $1 AND started_at >= $2 AND started_at < $3 "
        "AND pageviews > 0 AND country = 'DE') AS sessions"),
}
CHDB = {
    "pages country DE": "SELECT path, count(), uniqExact(visitor_no) FROM pv WHERE {range} AND country = 'DE' "
                        "GROUP BY path",
    "pages country DE & Desktop": "SELECT path, count(), uniqExact(visitor_no) FROM pv WHERE {range} "
                                  "AND country = 'DE' AND device = 'Desktop' GROUP BY path",
    "sources path /pricing": "SELECT if(source = '', '(direct)', source), count(), uniqExact(visitor_no) FROM pv "
                             "WHERE {range} AND path = '/pricing' GROUP BY 1",
    "stats country DE": "SELECT (SELECT count() FROM pv WHERE {range} AND country = 'DE'), "
                        "(SELECT count() FROM sess WHERE {srange} AND country = 'DE')",
}


def pulse_answer(question: str, answers: dict) -> dict:
    """Pulse's HTTP answer to a reference question: name -> (views, visitors), or the stats."""
    if question == "stats country DE":
        current = answers[("stats", ("country:is:DE",))]["current"]
        return {"": (current["pageviews"], current["sessions"])}
    if question == "sources path /pricing":
        rows = answers[("sources", ("path:is:/pricing",))]["data"]
        return {r["source"]: (r["pageviews"], r["visitors"]) for r in rows}
    filters = ("country:is:DE",) if question == "pages country DE" else ("country:is:DE", "device:is:Desktop")
    return {r["path"]: (r["views"], r["unique_views"]) for r in answers[("pages", filters)]["data"]}


def agree(question: str, pulse: dict, reference: dict, name: str) -> str:
    """Pulse's rows (its top 10) against the reference's rows of the same names."""
    wrong = {k: (v, reference.get(k)) for k, v in pulse.items() if reference.get(k) != v}
    return "agrees" if not wrong else f"DIFFERS from {name}: {dict(list(wrong.items())[:3])}"


async def references(dsn: str, project: str, first: date, last: date, sql_runs: int, runs: int,
                     answers: dict, use_chdb: bool) -> None:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        tz = await conn.fetchval("SELECT timezone FROM projects WHERE id = $1", project) or "UTC"
        zone = ZoneInfo(tz)
        start = datetime.combine(first, datetime.min.time(), zone)
        stop = datetime.combine(last + timedelta(days=1), datetime.min.time(), zone)
        for question, sql in SQL.items():
            samples = []
            for _ in range(sql_runs):
                began = time.perf_counter()
                rows = await conn.fetch(sql, project, start, stop)
                samples.append((time.perf_counter() - began) * 1000)
            found = ({"": (rows[0]["views"], rows[0]["sessions"])} if question == "stats country DE" else
                     {r["path"]: (r["views"], r["visitors"]) for r in rows})
            print(f"plain SQL {question:28s} {percentiles(samples)}   "
                  f"{agree(question, pulse_answer(question, answers), found, 'SQL')}")
        if use_chdb:
            await chdb_references(conn, project, start, stop, runs, answers)
    finally:
        await conn.close()


async def chdb_references(conn, project: str, start: datetime, stop: datetime, runs: int, answers: dict) -> None:
    import chdb.session

    workdir = tempfile.mkdtemp(prefix="pulse-chdb-")
    pv_csv, sess_csv = os.path.join(workdir, "pv.csv"), os.path.join(workdir, "sess.csv")
    began = time.perf_counter()
    with open(pv_csv, "wb") as out:
        await conn.copy_from_query(
            "SELECT p.ts, p.visitor_no, p.path, coalesce(s.country, ''), coalesce(s.device, ''), "
            "coalesce(s.source, '') FROM pageviews p JOIN sessions s ON s.project_id = p.project_id "
            "AND s.id = p.session_id WHERE p.project_id = $1", project, output=out, format="csv")
    with open(sess_csv, "wb") as out:
        await conn.copy_from_query(
            "SELECT started_at, coalesce(country, '') FROM sessions WHERE project_id = $1 AND pageviews > 0",
            project, output=out, format="csv")
    db = chdb.session.Session(os.path.join(workdir, "db"))
    db.query("CREATE TABLE pv (ts DateTime64(6, 'UTC'), visitor_no UInt64, path String, "
             "country LowCardinality(String), device LowCardinality(String), source LowCardinality(String)) "
             "ENGINE = MergeTree ORDER BY ts")
    db.query(f"INSERT INTO pv SELECT * FROM file('{pv_csv}', CSV, 'ts DateTime64(6, \\'UTC\\'), visitor_no UInt64, "
             "path String, country String, device String, source String')")
    db.query("CREATE TABLE sess (started_at DateTime64(6, 'UTC'), country LowCardinality(String)) "
             "ENGINE = MergeTree ORDER BY started_at")
    db.query(f"INSERT INTO sess SELECT * FROM file('{sess_csv}', CSV, 'started_at DateTime64(6, \\'UTC\\'), "
             "country String')")
    print(f"chDB load (copy out of PostgreSQL, MergeTree insert): {time.perf_counter() - began:.1f} s")
    bounds = f"'{start.astimezone(UTC):%Y-%m-%d %H:%M:%S}' AND {{c}} < '{stop.astimezone(UTC):%Y-%m-%d %H:%M:%S}'"
    for question, query in CHDB.items():
        sql = query.format(range="ts >= " + bounds.format(c="ts"),
                           srange="started_at >= " + bounds.format(c="started_at"))
        samples = []
        for _ in range(runs):
            t = time.perf_counter()
            result = db.query(sql, "CSV")
            samples.append((time.perf_counter() - t) * 1000)
        rows = [line.split(",") for line in result.bytes().decode().strip().splitlines()]
        if question == "stats country DE":
            found = {"": (int(rows[0][0]), int(rows[0][1]))}
        else:
            found = {r[0].strip('"'): (int(r[1]), int(r[2])) for r in rows}
        print(f"chDB      {question:28s} {percentiles(samples)}   "
              f"{agree(question, pulse_answer(question, answers), found, 'chDB')}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--project", required=True)
    parser.add_argument("--key", required=True, help="a query key of the project")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--sql-runs", type=int, default=5)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-chdb", action="store_true")
    args = parser.parse_args()

    last = datetime.now(UTC).date()
    first = last - timedelta(days=args.days - 1)
    print(f"last {args.days} days ({first} to {last}), {args.runs} runs each, one request at a time; "
          f"load {os.getloadavg()[0]:.2f}")
    with pulse_serve("--workers", str(args.workers), "--no-worker", PULSE_RATE_LIMIT_QUERY="1000000000") as served:
        answers = http(served.base, args.key, args.runs, first.isoformat(), last.isoformat())
    dsn = os.environ.get("BENCH_DSN")
    if dsn:
        asyncio.run(references(dsn, args.project, first, last, args.sql_runs, args.runs, answers, not args.no_chdb))
    print(f"load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
