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
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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

    port = free_port()
    data_dir = tempfile.mkdtemp(prefix="pulse-bench-")
    token = "bench-admin-token"
    env = dict(os.environ, PULSE_DATA_DIR=data_dir, PULSE_PORT=str(port), PULSE_ADMIN_TOKEN=token,
               PULSE_COOKIE_SECRET="bench", PULSE_RATE_LIMIT_QUERY="1000000000",
               PULSE_RATE_LIMIT_ADMIN="1000000000", PULSE_LOG_LEVEL=args.log_level)
    server = subprocess.Popen([sys.executable, "-m", "pulse.cli", "serve", "--workers", str(args.workers)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                urllib.request.urlopen(f"{base}/readyz", timeout=1)
                break
            except OSError:
                if server.poll() is not None:
                    sys.exit("pulse serve exited")
                time.sleep(0.05)
        project = call(f"{base}/api/admin/projects", token, {"name": "Bench", "domain": "bench.example.com"})
        key = call(f"{base}/api/admin/projects/{project['id']}/keys", token,
                   {"name": "bench", "scopes": ["admin"]})["key"]
        url = f"{base}/api/admin/projects/{project['id']}/modules"
        subprocess.run(["wrk", "-t1", "-c8", "-d2s", "-H", f"X-Pulse-Key: {key}", url],
                       check=True, capture_output=True)  # warm-up
        result = subprocess.run(["wrk", "-t2", f"-c{args.connections}", f"-d{args.duration}s", "--latency",
                                 "-H", f"X-Pulse-Key: {key}", url], check=True, capture_output=True, text=True)
        print(f"pulse serve --workers {args.workers}, PULSE_LOG_LEVEL={args.log_level}")
        print(result.stdout)
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(60)


if __name__ == "__main__":
    main()
