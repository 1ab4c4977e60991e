"""`pulse serve` on its embedded PostgreSQL and Redis, stopped as a terminal stops it: Ctrl-C sends SIGINT
to the whole foreground process group. The servers live in sessions of their own, so only Pulse gets
it; Pulse stops its API and worker, then the servers, and says nothing alarming on the way out."""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil
import pytest

from tests.helpers import ROOT, clean_env

ANNOUNCE = re.compile(r"^Pulse is running: dashboard at (\S+)/dashboard, GraphQL at (\S+)/graphql, "
                      r"REST docs at (\S+)/api/docs$")


@pytest.fixture
def data_dir():
    """A scratch PULSE_DATA_DIR outside pytest's tmp_path: running as root, the embedded PostgreSQL runs
    as another user, and every pytest session makes /tmp/pytest-of-root private (0700) again."""
    path = Path(tempfile.mkdtemp(prefix="pulse-test-")).resolve()
    yield path / "data"
    shutil.rmtree(path, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def servers_of(data_dir: Path) -> list[psutil.Process]:
    """Running processes whose command line names the data dir: its redis-server and postgres."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        try:
            if any(str(data_dir) in arg for arg in process.info["cmdline"] or ()) and process.status() != "zombie":
                found.append(process)
        except psutil.Error:
            pass
    return found


class Served:
    """`pulse serve` in a process group of its own, as a shell starts a foreground job; its output
    (stdout and stderr together) read line by line in the background."""

    def __init__(self, data_dir: Path, port: int) -> None:
        env = clean_env(PULSE_DATA_DIR=str(data_dir), PULSE_PORT=str(port))
        self.process = subprocess.Popen([sys.executable, "-m", "pulse.cli", "serve"], env=env, cwd=ROOT,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                        process_group=0)
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, pattern: re.Pattern, timeout: float = 90) -> re.Match:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                raise AssertionError(f"pulse serve exited ({self.process.wait()}):\n" + "\n".join(self.lines))
            self.lines.append(line)
            if match := pattern.search(line):
                return match
        raise AssertionError(f"no line matching {pattern.pattern!r} in time:\n" + "\n".join(self.lines))

    def finish(self, timeout: float = 60) -> str:
        """Wait for the exit; everything it printed."""
        self.process.wait(timeout)
        while (line := self._queue.get(timeout=10)) is not None:
            self.lines.append(line)
        return "\n".join(self.lines)

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def test_ctrl_c_stops_pulse_then_its_servers_cleanly(data_dir):
    served = Served(data_dir, free_port())
    try:
        match = served.wait_for(ANNOUNCE)
        # Printed once it answers, not before: every address in the line works at once.
        base = match[1]
        assert match[2] == match[3] == base and base.startswith("http://127.0.0.1:")
        assert httpx.get(f"{base}/dashboard", follow_redirects=True).status_code == 200
        assert httpx.get(f"{base}/graphql", headers={"Accept": "text/html"}).status_code == 200
        assert httpx.get(f"{base}/api/docs").status_code == 200
        kinds = {" ".join(p.info["cmdline"][:1]) for p in servers_of(data_dir)}
        assert any("redis-server" in k for k in kinds) and any("postgres" in k for k in kinds), kinds
        os.killpg(served.process.pid, signal.SIGINT)  # Ctrl-C in the terminal
        output = served.finish()
    finally:
        served.kill()
    assert served.process.returncode == 0, output
    assert "ERROR" not in output and "Traceback" not in output and "WARNING" not in output, output
    assert sum(bool(ANNOUNCE.search(line)) for line in output.splitlines()) == 1
    assert servers_of(data_dir) == []
    assert not (data_dir / "postgres" / "postmaster.pid").exists() and not (data_dir / "redis.sock").exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Redis follows its parent on Linux only")
def test_a_killed_pulse_leaves_no_redis_and_the_next_start_stops_its_postgres(data_dir):
    port = free_port()
    served = Served(data_dir, port)
    try:
        served.wait_for(ANNOUNCE)
        os.kill(served.process.pid, signal.SIGKILL)  # no chance to stop anything itself
        served.process.wait()
        deadline = time.monotonic() + 15
        while any("redis" in " ".join(p.info["cmdline"]) for p in servers_of(data_dir)):
            assert time.monotonic() < deadline, "the embedded Redis outlived the Pulse that started it"
            time.sleep(0.05)
    finally:
        served.kill()
    # PostgreSQL (detached by pg_ctl) is still up: the next Pulse takes it over and stops it.
    served = Served(data_dir, port)
    try:
        served.wait_for(ANNOUNCE)
        os.killpg(served.process.pid, signal.SIGINT)
        output = served.finish()
    finally:
        served.kill()
    assert served.process.returncode == 0 and "Traceback" not in output, output
    assert servers_of(data_dir) == []
