"""Time from `pulse serve` to a 200 on /readyz, on a fresh and then a warm data dir.

    .venv/bin/python bench/serve_ready.py [--runs 5]

Uses the embedded PostgreSQL and Redis (DATABASE_URL / REDIS_URL are removed from the
environment), as a new user's first `make run` does.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

from serving import free_port


def time_to_ready(data_dir: str) -> float:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(PULSE_DATA_DIR=data_dir, PULSE_PORT=str(port), PULSE_LOG_LEVEL="warning")
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "pulse.cli", "serve"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as response:
                    if response.status == 200:
                        return time.perf_counter() - start
            except OSError:
                time.sleep(0.02)
            if process.poll() is not None:
                raise RuntimeError("pulse serve exited before it was ready")
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(60)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    fresh, warm = [], []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as root:
            data_dir = os.path.join(root, "data")
            fresh.append(time_to_ready(data_dir))
            warm.append(time_to_ready(data_dir))
    for name, values in (("fresh data dir", fresh), ("warm data dir", warm)):
        print(f"{name}: median {statistics.median(values):.2f} s, min {min(values):.2f} s, "
              f"max {max(values):.2f} s over {len(values)} runs")


if __name__ == "__main__":
    main()
