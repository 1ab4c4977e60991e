"""Account analytics on a `pulse demo` dataset: Pulse's service beside the plain SQL it replaces.

    pulse demo --visitors 1000000 --days 90             # prints the project id (10M pageviews or so)
    BENCH_DSN=postgresql://... .venv/bin/python bench/identity.py --project ID [--members 1000] [--days 30] [--runs 20]

Makes (or reuses) an account `bench-account` whose members are `--members` visitors of the project
active in the last `--days` days (rows written straight into identity_accounts and account_members,
as the writer would for identify calls), then answers its analytics `--runs` times two ways:

- through `pulse.modules.identity.service.analytics` in this process (three statements: the members'
  visitor numbers, the whole-site rollup bitmaps of the range, the sessions of the active members);
- with plain SQL over the raw `pageviews`, `events` and `sessions` tables, restricted to the members'
  visitor numbers and the range (what a tool without rollups or session counters would run).

Both must agree; the script prints p50/p95 of each. Run `ANALYZE` after `pulse demo`: on a freshly
loaded database the planner's statistics are empty and it reads sessions by time, not by visitor
(1.2 s instead of 70 ms on 1M pageviews). `--drop` removes the bench account afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from datetime import UTC, datetime, timedelta
from uuid import UUID

from common import percentiles

ACCOUNT = "bench-account"

PLAIN = """
WITH m AS (SELECT v.visitor_no FROM account_members am JOIN visitors v ON v.project_id = am.project_id
           AND v.visitor_id = am.visitor_id WHERE am.project_id = $1 AND am.account_id = $2)
SELECT
  (SELECT count(*) FROM sessions s WHERE s.project_id = $1 AND s.visitor_no IN (SELECT visitor_no FROM m)
     AND s.started_at >= $3 AND s.started_at < $4 AND s.pageviews > 0) AS sessions,
  (SELECT count(*) FROM pageviews p WHERE p.project_id = $1 AND p.visitor_no IN (SELECT visitor_no FROM m)
     AND p.ts >= $3 AND p.ts < $4) AS pageviews,
  (SELECT count(*) FROM events e WHERE e.project_id = $1 AND e.visitor_no IN (SELECT visitor_no FROM m)
     AND e.ts >= $3 AND e.ts < $4) AS events,
  (SELECT coalesce(sum(revenue_amount), 0) FROM events e WHERE e.project_id = $1
     AND e.visitor_no IN (SELECT visitor_no FROM m) AND e.ts >= $3 AND e.ts < $4) AS revenue
"""



async def make_account(conn, project: UUID, members: int, since: datetime) -> int:
    """The bench account with `members` visitors active since `since` (kept between runs)."""
    have = await conn.fetchval("SELECT count(*) FROM account_members WHERE project_id = $1 AND account_id = $2",
                               project, ACCOUNT)
    if have == members:
        return have
    async with conn.transaction():
        await conn.execute("DELETE FROM account_members WHERE project_id = $1 AND account_id = $2", project, ACCOUNT)
        await conn.execute(
            "INSERT INTO identity_accounts (project_id, account_id, traits, first_seen_at, last_seen_at) "
            "VALUES ($1, $2, '{\"bench\": true}', now(), now()) ON CONFLICT DO NOTHING", project, ACCOUNT)
        await conn.execute(
            "INSERT INTO account_members (project_id, account_id, visitor_id, user_id, role, last_seen_at) "
            "SELECT $1, $2, v.visitor_id, 'bench-user-' || (v.visitor_no % 300), 'member', now() FROM visitors v "
            "WHERE v.project_id = $1 AND v.visitor_no IN (SELECT DISTINCT visitor_no FROM sessions "
            " WHERE project_id = $1 AND ended_at >= $3 LIMIT $4)", project, ACCOUNT, since, members)
    return await conn.fetchval("SELECT count(*) FROM account_members WHERE project_id = $1 AND account_id = $2",
                               project, ACCOUNT)


async def run(dsn: str, project: UUID, members: int, days: int, runs: int, drop: bool) -> None:
    import asyncpg
    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

    from pulse.modules.identity import service
    from pulse.query.dates import resolve

    conn = await asyncpg.connect(dsn)
    engine = create_async_engine(dsn.replace("postgresql://", "postgresql+asyncpg://", 1))
    try:
        tz = await conn.fetchval("SELECT timezone FROM projects WHERE id = $1", project)
        span = resolve(None, None, tz=tz, now=datetime.now(UTC))
        span = type(span)(span.last - timedelta(days=days - 1), span.last)
        start, end = span.bounds(tz)
        made = await make_account(conn, project, members, start)
        print(f"account {ACCOUNT}: {made} members, {span.first} .. {span.last} ({days} days)")

        samples, answer = [], None
        for _ in range(runs):
            async with AsyncSession(engine) as session:
                began = time.perf_counter()
                answer = await service.analytics(session=session, project_id=project, timezone=tz,
                                                 account_id=ACCOUNT, days=span)
                samples.append((time.perf_counter() - began) * 1000)
        print(f"service.analytics          {percentiles(samples)}")
        print(f"  {answer}")

        samples, plain = [], None
        for _ in range(runs):
            began = time.perf_counter()
            plain = await conn.fetchrow(PLAIN, project, ACCOUNT, start, end)
            samples.append((time.perf_counter() - began) * 1000)
        print(f"plain SQL over raw rows    {percentiles(samples)}")
        print(f"  {dict(plain)}")
        same = (answer.sessions, answer.pageviews, answer.events) == (plain["sessions"], plain["pageviews"],
                                                                        plain["events"])
        print("numbers agree" if same and abs(answer.revenue - float(plain["revenue"])) < 0.01 else "NUMBERS DIFFER")
        if drop:
            await conn.execute("DELETE FROM account_members WHERE project_id = $1 AND account_id = $2",
                               project, ACCOUNT)
            await conn.execute("DELETE FROM identity_accounts WHERE project_id = $1 AND account_id = $2",
                               project, ACCOUNT)
    finally:
        await conn.close()
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--project", required=True)
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--drop", action="store_true", help="remove the bench account afterwards")
    args = parser.parse_args()
    dsn = os.environ.get("BENCH_DSN") or os.environ["DATABASE_URL"]
    asyncio.run(run(dsn, UUID(args.project), args.members, args.days, args.runs, args.drop))


if __name__ == "__main__":
    main()
