"""A segment of three conditions on a `pulse demo` dataset: Pulse beside plain SQL and chDB.

    pulse demo --visitors 1000000 --days 45             # prints the project id (10M pageviews or so)
    DATABASE_URL=... REDIS_URL=... BENCH_DSN=postgresql://... \
      PYTHON bench/segments.py --project ID [--days 30] [--runs 20] [--http QUERY_KEY] [--chdb]

PYTHON is .venv/bin/python, or for `--chdb` one that also has chdb (see bench/filtered.py).

The demo sends no identify calls, so the script first gives every fifth visitor a profile (rows
written straight into identity_profiles, as the writer would for identify calls; kept between runs):
`plan` is "pro" for half of them, "free" for the rest. The segment is

    all of: profile traits.plan = "pro"; event purchase with revenue_amount >= 40; session country = DE

and a second one (plan "free", a purchase, country US) for the comparison. Over the last `--days`
days it answers, `--runs` times each:
- evaluate (how many visitors match), breakdown of the segment by country, and the segment's
  traffic (sessions begun in the range, the range's pageviews and events, bounce rate, mean
  duration: what compare shows, the stats report filtered to the segment), through
  pulse.query.visitorsets in this process;
- with `--http`, over HTTP through `pulse serve` (the segments module enabled and both segments
  saved on the project): GET /segments/{id}/evaluate?limit=1, /segments/{id}/breakdown?property=country,
  /segments/compare?segment_ids=a,b;
- the same as plain SQL over the raw tables (INTERSECT of the three conditions' visitors, then
  the sessions and events of those visitors);
- with `--chdb`, the same on chDB over the same rows (profiles' plan, purchases, sessions).
All must agree; it prints p50/p95 of each. Run ANALYZE after the first run makes the profiles.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from datetime import UTC, datetime, timedelta
from uuid import UUID

from common import percentiles

DEFINITION = {"match": "all", "conditions": [
    {"source": "profile", "field": "traits.plan", "op": "eq", "value": "pro"},
    {"source": "event", "event": "purchase", "field": "revenue_amount", "op": "gte", "value": 40},
    {"source": "session", "field": "country", "op": "eq", "value": "DE"},
]}

MEMBERS = """
SELECT v.visitor_no FROM identity_profiles pr JOIN visitors v ON v.project_id = pr.project_id
  AND v.visitor_id = pr.visitor_id WHERE pr.project_id = $1 AND pr.traits ->> 'plan' = 'pro'
INTERSECT
SELECT visitor_no FROM events WHERE project_id = $1 AND ts >= $2 AND ts < $3 AND name = 'purchase'
  AND revenue_amount >= 40
INTERSECT
SELECT visitor_no FROM sessions WHERE project_id = $1 AND started_at < $3 AND ended_at >= $2
  AND pageviews > 0 AND country = 'DE'
"""
BREAKDOWN = f"""
WITH m AS ({MEMBERS})
SELECT s.country, count(DISTINCT s.visitor_no) FROM sessions s JOIN m ON m.visitor_no = s.visitor_no
WHERE s.project_id = $1 AND s.started_at < $3 AND s.ended_at >= $2 AND s.pageviews > 0 AND s.country IS NOT NULL
GROUP BY 1 ORDER BY 2 DESC, 1
"""
TRAFFIC = f"""
WITH m AS ({MEMBERS})
SELECT (SELECT count(*) FROM m),
  (SELECT count(*) FROM sessions s WHERE s.project_id = $1 AND s.started_at >= $2 AND s.started_at < $3
     AND s.pageviews > 0 AND s.visitor_no IN (SELECT visitor_no FROM m)),
  (SELECT count(*) FROM pageviews p WHERE p.project_id = $1 AND p.ts >= $2 AND p.ts < $3
     AND p.visitor_no IN (SELECT visitor_no FROM m)),
  (SELECT count(*) FROM events e WHERE e.project_id = $1 AND e.ts >= $2 AND e.ts < $3
     AND e.visitor_no IN (SELECT visitor_no FROM m))
"""



async def timed(runs: int, fn):
    samples, answer = [], None
    for _ in range(runs):
        began = time.perf_counter()
        answer = await fn()
        samples.append((time.perf_counter() - began) * 1000)
    return percentiles(samples), answer


async def make_profiles(conn, project: UUID) -> int:
    have = await conn.fetchval("SELECT count(*) FROM identity_profiles WHERE project_id = $1", project)
    if not have:
        await conn.execute(
            "INSERT INTO identity_profiles (project_id, visitor_id, visitor_no, user_id, traits, first_seen_at, "
            "last_seen_at) SELECT project_id, visitor_id, visitor_no, 'user-' || visitor_no, "
            "jsonb_build_object('plan', CASE WHEN visitor_no % 10 = 0 THEN 'pro' ELSE 'free' END), first_seen_at, "
            "first_seen_at "
            "FROM visitors WHERE project_id = $1 AND visitor_no % 5 = 0", project)
        have = await conn.fetchval("SELECT count(*) FROM identity_profiles WHERE project_id = $1", project)
    return have


async def run(dsn: str, project_id: UUID, days: int, runs: int, use_chdb: bool) -> None:
    import asyncpg
    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

    from pulse.auth import ProjectAccess
    from pulse.conditions import parse
    from pulse.query import visitorsets
    from pulse.query.dates import resolve

    conn = await asyncpg.connect(dsn)
    engine = create_async_engine(dsn.replace("postgresql://", "postgresql+asyncpg://", 1))
    try:
        tz, domain = await conn.fetchrow("SELECT timezone, domain FROM projects WHERE id = $1", project_id)
        print(f"profiles: {await make_profiles(conn, project_id)}")
        span = resolve(None, None, tz=tz, now=datetime.now(UTC))
        span = type(span)(span.last - timedelta(days=days - 1), span.last)
        start, end = span.bounds(tz)
        project = ProjectAccess(project_id=project_id, domain=domain, modules={}, timezone=tz)
        definition = parse(DEFINITION)

        async with AsyncSession(engine) as session:
            async def evaluate():
                return len(await visitorsets.visitors(session, project, definition, span))

            async def breakdown():
                members = await visitorsets.visitors(session, project, definition, span)
                return await visitorsets.breakdown(session, project, members, "country", span, 10)

            async def traffic():
                members = await visitorsets.visitors(session, project, definition, span)
                return await visitorsets.metrics(session, project, members, span)

            for name, fn in (("evaluate", evaluate), ("breakdown by country", breakdown), ("traffic", traffic)):
                figures, answer = await timed(runs, fn)
                print(f"Pulse {name:22} {figures}   {answer}")

        async def plain_evaluate():
            return len(await conn.fetch(MEMBERS, project_id, start, end))

        async def plain_breakdown():
            return [tuple(r) for r in await conn.fetch(BREAKDOWN, project_id, start, end)]

        async def plain_traffic():
            return tuple(await conn.fetchrow(TRAFFIC, project_id, start, end))

        for name, fn in (("evaluate", plain_evaluate), ("breakdown by country", plain_breakdown),
                         ("traffic", plain_traffic)):
            figures, answer = await timed(runs, fn)
            print(f"SQL   {name:22} {figures}   {answer}")
        if use_chdb:
            await chdb_run(conn, project_id, start, end, runs)
    finally:
        await conn.close()
        await engine.dispose()


CHDB_MEMBERS = """
SELECT visitor_no FROM profiles WHERE plan = 'pro'
INTERSECT DISTINCT SELECT visitor_no FROM ev WHERE {ev} AND name = 'purchase' AND revenue_amount >= 40
INTERSECT DISTINCT SELECT visitor_no FROM sess WHERE {overlap} AND pageviews > 0 AND country = 'DE'
"""
CHDB = {
    "evaluate": f"SELECT count() FROM ({CHDB_MEMBERS})",
    "breakdown by country": f"SELECT country, uniqExact(visitor_no) AS n FROM sess WHERE {{overlap}} AND pageviews > 0 "
                            f"AND country != '' AND visitor_no IN ({CHDB_MEMBERS}) GROUP BY country ORDER BY n DESC, "
                            "country",
    "traffic": f"WITH m AS ({CHDB_MEMBERS}) SELECT (SELECT count() FROM m), (SELECT count() FROM sess WHERE "
               "{started} AND pageviews > 0 AND visitor_no IN m), "
               "(SELECT count() FROM pv WHERE {ev} AND visitor_no IN m), (SELECT count() FROM ev WHERE {ev} "
               "AND visitor_no IN m)",
}


async def chdb_run(conn, project_id: UUID, start: datetime, end: datetime, runs: int) -> None:
    """The three questions on chDB, over the same rows copied into MergeTree tables."""
    import tempfile

    import chdb.session

    workdir = tempfile.mkdtemp(prefix="pulse-chdb-")
    copies = {
        "profiles": ("SELECT visitor_no, traits ->> 'plan' FROM identity_profiles WHERE project_id = $1 "
                     "AND visitor_no IS NOT NULL", "visitor_no UInt64, plan String", "visitor_no"),
        "ev": ("SELECT ts, visitor_no, name, coalesce(revenue_amount, 0) FROM events WHERE project_id = $1",
               "ts DateTime64(6, 'UTC'), visitor_no UInt64, name String, revenue_amount Float64", "ts"),
        "pv": ("SELECT ts, visitor_no FROM pageviews WHERE project_id = $1", "ts DateTime64(6, 'UTC'), "
               "visitor_no UInt64", "ts"),
        "sess": ("SELECT started_at, ended_at, visitor_no, coalesce(country, ''), pageviews FROM sessions "
                 "WHERE project_id = $1", "started_at DateTime64(6, 'UTC'), ended_at DateTime64(6, 'UTC'), "
                 "visitor_no UInt64, country String, pageviews UInt32", "started_at"),
    }
    db = chdb.session.Session(os.path.join(workdir, "db"))
    began = time.perf_counter()
    for table, (query, columns, order) in copies.items():
        path = os.path.join(workdir, f"{table}.csv")
        with open(path, "wb") as out:
            await conn.copy_from_query(query, project_id, output=out, format="csv")
        db.query(f"CREATE TABLE {table} ({columns}) ENGINE = MergeTree ORDER BY {order}")
        escaped = columns.replace("'", "\\'")
        db.query(f"INSERT INTO {table} SELECT * FROM file('{path}', CSV, '{escaped}')")
    print(f"chDB load: {time.perf_counter() - began:.1f} s")
    a, b = (f"'{t.astimezone(UTC):%Y-%m-%d %H:%M:%S.%f}'" for t in (start, end))
    bounds = {"ev": f"ts >= {a} AND ts < {b}", "overlap": f"started_at < {b} AND ended_at >= {a}",
              "started": f"started_at >= {a} AND started_at < {b}"}
    for name, query in CHDB.items():
        sql = query.format(**bounds)
        samples = []
        for _ in range(runs):
            t = time.perf_counter()
            result = db.query(sql, "CSV")
            samples.append((time.perf_counter() - t) * 1000)
        print(f"chDB  {name:22} {percentiles(samples)}   {result.bytes().decode().strip().splitlines()[:6]}")


OTHER = {"match": "all", "conditions": [
    {"source": "profile", "field": "traits.plan", "op": "eq", "value": "free"},
    {"source": "event", "event": "purchase", "op": "exists"},
    {"source": "session", "field": "country", "op": "eq", "value": "US"},
]}


def http(project_id: UUID, key: str, days: int, runs: int) -> None:
    """Evaluate, breakdown and compare over HTTP through `pulse serve`, on two saved segments."""
    import json
    import urllib.request

    from serving import ADMIN_TOKEN, pulse_serve

    def call(url: str, body=None, method=None, headers=None) -> tuple[float, object]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method, headers={
            "Content-Type": "application/json", **(headers or {"X-Pulse-Key": key})})
        began = time.perf_counter()
        with urllib.request.urlopen(request) as response:
            answer = json.loads(response.read() or b"null")
        return (time.perf_counter() - began) * 1000, answer

    last = datetime.now(UTC).date()
    span = f"start_at={(last - timedelta(days=days - 1)).isoformat()}&end_at={last.isoformat()}"
    with pulse_serve("--workers", "2", "--no-worker", PULSE_RATE_LIMIT_QUERY="1000000000") as served:
        base = served.base
        call(f"{base}/api/admin/projects/{project_id}/modules/segments/enable", {}, "POST",
             {"Authorization": f"Bearer {ADMIN_TOKEN}"})
        ids = [call(f"{base}/api/v1/segments", {"name": name, "definition": definition})[1]["id"]
               for name, definition in (("bench: pro DE buyers", DEFINITION), ("bench: free US buyers", OTHER))]
        try:
            cases = {"evaluate": f"/api/v1/segments/{ids[0]}/evaluate?{span}&limit=1",
                     "breakdown by country": f"/api/v1/segments/{ids[0]}/breakdown?{span}&property=country",
                     "compare of two": f"/api/v1/segments/compare?{span}&segment_ids={ids[0]},{ids[1]}"}
            for name, path in cases.items():
                samples, answer = [], None
                for _ in range(runs):
                    ms, answer = call(base + path)
                    samples.append(ms)
                shown = json.dumps(answer)[:160]
                print(f"HTTP  {name:22} {percentiles(samples)}   {shown}")
        finally:
            for segment_id in ids:
                call(f"{base}/api/v1/segments/{segment_id}", method="DELETE")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--project", required=True)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--http", metavar="QUERY_KEY", help="also over HTTP, with this query key of the project")
    parser.add_argument("--chdb", action="store_true")
    args = parser.parse_args()
    dsn = os.environ.get("BENCH_DSN") or os.environ["DATABASE_URL"]
    asyncio.run(run(dsn, UUID(args.project), args.days, args.runs, args.chdb))
    if args.http:
        http(UUID(args.project), args.http, args.days, args.runs)


if __name__ == "__main__":
    main()
