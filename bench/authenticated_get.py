"""Requests per second of an authenticated cheap GET: an admin-scoped key listing the
project's modules (`GET /api/admin/projects/{id}/modules`), served by `pulse serve`.

    .venv/bin/python bench/authenticated_get.py --workers 1 [--duration 10] [--connections 64]

Needs `wrk` (Debian: `apt-get install wrk`). Uses DATABASE_URL / REDIS_URL when set, else the
embedded servers. The query rate limit is lifted for the run (PULSE_RATE_LIMIT_QUERY), so every
request takes the full path: key lookup, one pipelined Redis round trip (rate limit, last use,
access epoch), the access check, one SELECT of the 33 module rows, JSON.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import urllib.request

from serving import ADMIN_TOKEN, pulse_serve


def call(url: str, token: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Authorization": f"Bearer {token}",
                                              "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--log-level", default="warning", help="PULSE_LOG_LEVEL; 'info' adds the access log")
    args = parser.parse_args()

    limits = {"PULSE_RATE_LIMIT_QUERY": "1000000000", "PULSE_RATE_LIMIT_ADMIN": "1000000000"}
    with pulse_serve("--workers", str(args.workers), PULSE_LOG_LEVEL=args.log_level, **limits) as served:
        base = served.base
        project = call(f"{base}/api/admin/projects", ADMIN_TOKEN, {"name": "Bench", "domain": "bench.example.com"})
        key = call(f"{base}/api/admin/projects/{project['id']}/keys", ADMIN_TOKEN,
                   {"name": "bench", "scopes": ["admin"]})["key"]
        url = f"{base}/api/admin/projects/{project['id']}/modules"
        subprocess.run(["wrk", "-t1", "-c8", "-d2s", "-H", f"X-Pulse-Key: {key}", url],
                       check=True, capture_output=True)  # warm-up
        result = subprocess.run(["wrk", "-t2", f"-c{args.connections}", f"-d{args.duration}s", "--latency",
                                 "-H", f"X-Pulse-Key: {key}", url], check=True, capture_output=True, text=True)
        print(f"pulse serve --workers {args.workers}, PULSE_LOG_LEVEL={args.log_level}")
        print(result.stdout)


if __name__ == "__main__":
    main()
