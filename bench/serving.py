"""`pulse serve` for a benchmark: a free port, a scratch data dir, and a wait until it is ready."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

ADMIN_TOKEN = "bench-admin-token-0123456789abcdef"  # PULSE_ADMIN_TOKEN needs 32+ characters


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Served:
    base: str  # http://127.0.0.1:PORT
    pid: int


@contextmanager
def pulse_serve(*args: str, **env: str) -> Iterator[Served]:
    """Run `pulse serve ARGS` with extra environment `env`; yield it once /readyz answers.
    DATABASE_URL / REDIS_URL come from the caller's environment (else the embedded servers)."""
    port = free_port()
    environment = {**os.environ, "PULSE_PORT": str(port), "PULSE_DATA_DIR": tempfile.mkdtemp(prefix="pulse-bench-"),
                   "PULSE_ADMIN_TOKEN": ADMIN_TOKEN, "PULSE_COOKIE_SECRET": "bench", "PULSE_LOG_LEVEL": "warning",
                   **env}
    server = subprocess.Popen([sys.executable, "-m", "pulse.cli", "serve", *args], env=environment,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                urllib.request.urlopen(f"{base}/readyz", timeout=1)
                break
            except OSError:
                if server.poll() is not None:
                    sys.exit("pulse serve exited: " + server.stderr.read())
                time.sleep(0.05)
        yield Served(base, server.pid)
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(60)
