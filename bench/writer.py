"""The writer alone: how fast a backlog of accepted pageviews is committed.

    DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/writer.py [--events 30000] [--per-visitor 3] [--profile]

Fills the ingest stream through the real request path (in-process, batches of 100), then
times one writer draining it: sessions, rollups, COPY, all in the writer's transactions.
`--profile` prints where the writer's time goes (cProfile, by internal time).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import time

import httpx
from asgi_lifespan import LifespanManager

from pulse.app import create_app
from pulse.config import Settings
from pulse.ingest.writer import ShardWriter

AGENT = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/120.0.0.0 Safari/537.36")
PATHS = ["/", "/pricing", "/docs", "/blog/launch", "/signup", "/about"]
REFERRERS = ["", "https://www.google.com/", "https://news.ycombinator.com/", "https://twitter.com/"]


async def main(events: int, per_visitor: int, profile: bool) -> None:
    settings = Settings(PULSE_ADMIN_TOKEN="b" * 32, PULSE_RATE_LIMIT_INGEST=10**9, PULSE_INGEST_MAX_BACKLOG=10**9,
                        PULSE_INGEST_SHARDS=1)
    app = create_app(settings)
    async with LifespanManager(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
            admin = {"Authorization": f"Bearer {settings.admin_token}"}
            project = (await client.post("/api/admin/projects", json={"name": "Writer bench",
                                                                     "domain": "bench.example.com"},
                                         headers=admin)).json()
            key = (await client.post(f"/api/admin/projects/{project['id']}/keys",
                                     json={"name": "bench", "scopes": ["ingest"]}, headers=admin)).json()["key"]
            headers = {"X-Pulse-Key": key, "User-Agent": AGENT, "Content-Type": "application/json"}
            for start in range(0, events, 100):
                batch = [{"type": "pageview", "path": PATHS[n % len(PATHS)],
                          "referrer": REFERRERS[(n // per_visitor) % len(REFERRERS)],
                          "visitor_id": f"v{n // per_visitor}"} for n in range(start, min(start + 100, events))]
                await client.post("/api/collect", content=json.dumps(batch), headers=headers)
        writer = ShardWriter(app.state.runtime, 0, "bench-writer")
        assert await writer.hold_lease()
        profiler = cProfile.Profile()
        started = time.perf_counter()
        if profile:
            profiler.enable()
        while await writer.step(block_ms=1):
            pass
        profiler.disable()
        elapsed = time.perf_counter() - started
        await writer.release()
        print(f"{events} pageviews ({per_visitor} per visitor) written in {elapsed:.2f} s: "
              f"{events / elapsed:,.0f} events/s")
        if profile:
            pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=30_000)
    parser.add_argument("--per-visitor", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    asyncio.run(main(args.events, args.per_visitor, args.profile))
