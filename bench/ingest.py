"""Ingestion throughput: single-event requests per second, and events per second end to end.

    .venv/bin/python bench/ingest.py --workers 2 --duration 15 [--batch 1] [--connections 64]

Starts `pulse serve` (the API and, in each process, the writer), creates a project and an
ingest key, and drives `POST /api/collect` with `wrk` (Debian: `apt-get install wrk`) using
realistic pageviews: several user agents, paths and referrers. `--batch N` sends N events per
request. It reports wrk's requests/s and latency, then how long the writers took to commit
everything accepted (events/s end to end), and the resident memory of each process.
The ingest rate limit (100 requests/s per project by default) is lifted for the run.
Uses DATABASE_URL / REDIS_URL when set, else the embedded servers.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from serving import ADMIN_TOKEN, pulse_serve

WRK_SCRIPT = r"""
local agents = {
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) " ..
    "Version/17.1 Safari/605.1.15",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) " ..
    "Version/17.1 Mobile/15E148 Safari/604.1",
  "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
}
local paths = {"/", "/pricing", "/docs", "/blog/launch", "/signup", "/about"}
local referrers = {"", "https://www.google.com/", "https://news.ycombinator.com/", "https://twitter.com/"}
local batch = BATCH
local counter = 0
request = function()
  counter = counter + 1
  local items = {}
  for i = 1, batch do
    -- about three pageviews per visitor, as sites see
    local visitor = math.floor((counter * batch + i) / 3)
    items[i] = string.format('{"type":"pageview","path":"%s","referrer":"%s","visitor_id":"bench-%d"}',
      paths[(counter + i) %% #paths + 1], referrers[(visitor * 7) %% #referrers + 1], visitor)
  end
  local body = batch == 1 and items[1] or ("[" .. table.concat(items, ",") .. "]")
  wrk.headers["User-Agent"] = agents[counter %% #agents + 1]
  return wrk.format("POST", nil, nil, body)
end
"""



def call(url: str, token: str, body: dict) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(),
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())


def rss_mb(root_pid: int) -> dict[int, float]:
    out = subprocess.run(["ps", "-eo", "pid,ppid,rss,comm"], capture_output=True, text=True).stdout.splitlines()[1:]
    procs = {int(p): (int(pp), int(r)) for p, pp, r, *_ in (line.split() for line in out)}
    family = {root_pid}
    for _ in range(3):
        family |= {pid for pid, (ppid, _) in procs.items() if ppid in family}
    return {pid: procs[pid][1] / 1024 for pid in family if pid in procs}


def committed(project: str) -> int:
    # Counted through the database itself: the bench has no read API yet to ask.
    import asyncio

    import asyncpg

    async def count() -> int:
        conn = await asyncpg.connect(os.environ["BENCH_DSN"])
        try:
            return await conn.fetchval("SELECT count(*) FROM pageviews WHERE project_id = $1::uuid", project)
        finally:
            await conn.close()

    return asyncio.run(count())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--no-worker", action="store_true", help="API only: measure the request path alone")
    args = parser.parse_args()

    data_dir = tempfile.mkdtemp(prefix="pulse-bench-")
    mode = ["--no-worker"] if args.no_worker else []
    with pulse_serve("--workers", str(args.workers), *mode, PULSE_RATE_LIMIT_INGEST="1000000000",
                     PULSE_INGEST_MAX_BACKLOG="100000000") as served:
        base = served.base
        if "BENCH_DSN" not in os.environ:
            sys.exit("set BENCH_DSN to a postgresql:// URL of the same database (for counting rows)")
        project = call(f"{base}/api/admin/projects", ADMIN_TOKEN, {"name": "Bench", "domain": "bench.example.com"})
        key = call(f"{base}/api/admin/projects/{project['id']}/keys", ADMIN_TOKEN,
                   {"name": "b", "scopes": ["ingest"]})["key"]
        script = Path(data_dir) / "collect.lua"
        script.write_text(WRK_SCRIPT.replace("BATCH", str(args.batch)).replace("%%", "%"))
        url = f"{base}/api/collect"
        started = time.monotonic()
        result = subprocess.run(["wrk", "-t2", f"-c{args.connections}", f"-d{args.duration}s", "--latency",
                                 "-s", str(script), "-H", f"X-Pulse-Key: {key}",
                                 "-H", "Content-Type: application/json", url],
                                check=True, capture_output=True, text=True)
        load_ended = time.monotonic()
        memory = rss_mb(served.pid)
        requests = int(re.search(r"(\d+) requests in", result.stdout).group(1))
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", result.stdout)
        accepted_events = (requests - (int(non2xx.group(1)) if non2xx else 0)) * args.batch
        while (rows := committed(project["id"])) < accepted_events and not args.no_worker:
            if time.monotonic() - load_ended > 300:
                break
            time.sleep(0.25)
        drained = time.monotonic()
        print(f"pulse serve --workers {args.workers}; wrk -c{args.connections} -d{args.duration}s; "
              f"{args.batch} event(s) per request")
        print(result.stdout)
        print(f"accepted events: {accepted_events}; committed rows: {rows}")
        print(f"end to end: {rows / (drained - started):.0f} events/s "
              f"(committed {drained - load_ended:.1f} s after the load ended)")
        print("resident memory (MB) per process:", {pid: round(mb) for pid, mb in memory.items()})


if __name__ == "__main__":
    main()
