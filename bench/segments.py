"""A segment of three conditions on a `pulse demo` dataset: Pulse's visitor-set engine beside plain SQL.

    pulse demo --visitors 1000000 --days 90             # prints the project id (10M pageviews or so)
    BENCH_DSN=postgresql://... .venv/bin/python bench/segments.py --project ID [--days 30] [--runs 20]

The demo sends no identify calls, so the script first gives every fifth visitor a profile (rows
written straight into identity_profiles, as the writer would for identify calls; kept between runs):
`plan` is "pro" for half of them, "free" for the rest. The segment is

    all of: profile traits.plan = "pro"; event purchase with revenue_amount >= 40; session country = DE

Over the last `--days` days it answers, `--runs` times each, three ways of asking:
- evaluate (how many visitors match), breakdown of the segment by device, and the segment's
  traffic (sessions, pageviews, events, bounce rate, mean duration: what compare shows), through
  pulse.query.visitorsets in this process;
- the same as plain SQL over the raw tables (INTERSECT of the three conditions' visitors, then
  the sessions and events of those visitors).
Both must agree; it prints p50/p95 of each. Run ANALYZE after the first run makes the profiles.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from datetime import UTC, datetime, timedelta
from uuid import UUID

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
SELECT s.device, count(DISTINCT s.visitor_no) FROM sessions s JOIN m ON m.visitor_no = s.visitor_no
WHERE s.project_id = $1 AND s.started_at < $3 AND s.ended_at >= $2 AND s.pageviews > 0 AND s.device IS NOT NULL
GROUP BY 1 ORDER BY 2 DESC, 1
"""
TRAFFIC = f"""
WITH m AS ({MEMBERS})
SELECT (SELECT count(*) FROM m),
  (SELECT count(*) FROM sessions s WHERE s.project_id = $1 AND s.started_at >= $2 AND s.started_at < $3
     AND s.pageviews > 0 AND s.visitor_no IN (SELECT visitor_no FROM m)),
  (SELECT coalesce(sum(pageviews), 0) FROM sessions s WHERE s.project_id = $1 AND s.started_at >= $2
     AND s.started_at < $3 AND s.pageviews > 0 AND s.visitor_no IN (SELECT visitor_no FROM m)),
  (SELECT count(*) FROM events e WHERE e.project_id = $1 AND e.ts >= $2 AND e.ts < $3
     AND e.visitor_no IN (SELECT visitor_no FROM m))
"""


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered):8.1f} ms   p95 {p95:8.1f} ms"


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
            "INSERT INTO identity_profiles (project_id, visitor_id, user_id, traits, first_seen_at, last_seen_at) "
            "SELECT project_id, visitor_id, 'user-' || visitor_no, jsonb_build_object('plan', "
            "CASE WHEN visitor_no % 10 = 0 THEN 'pro' ELSE 'free' END), first_seen_at, first_seen_at "
            "FROM visitors WHERE project_id = $1 AND visitor_no % 5 = 0", project)
        have = await conn.fetchval("SELECT count(*) FROM identity_profiles WHERE project_id = $1", project)
    return have


async def run(dsn: str, project_id: UUID, days: int, runs: int) -> None:
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
                return await visitorsets.breakdown(session, project, members, "device", span, 10)

            async def traffic():
                members = await visitorsets.visitors(session, project, definition, span)
                return await visitorsets.metrics(session, project, members, span)

            for name, fn in (("evaluate", evaluate), ("breakdown by device", breakdown), ("traffic", traffic)):
                figures, answer = await timed(runs, fn)
                print(f"Pulse {name:22} {figures}   {answer}")

        async def plain_evaluate():
            return len(await conn.fetch(MEMBERS, project_id, start, end))

        async def plain_breakdown():
            return [tuple(r) for r in await conn.fetch(BREAKDOWN, project_id, start, end)]

        async def plain_traffic():
            return tuple(await conn.fetchrow(TRAFFIC, project_id, start, end))

        for name, fn in (("evaluate", plain_evaluate), ("breakdown by device", plain_breakdown),
                         ("traffic", plain_traffic)):
            figures, answer = await timed(runs, fn)
            print(f"SQL   {name:22} {figures}   {answer}")
    finally:
        await conn.close()
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--project", required=True)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    dsn = os.environ.get("BENCH_DSN") or os.environ["DATABASE_URL"]
    asyncio.run(run(dsn, UUID(args.project), args.days, args.runs))


if __name__ == "__main__":
    main()
