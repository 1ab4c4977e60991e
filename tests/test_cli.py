"""The `pulse` command: serve on embedded defaults (a new user's path), create-project, export-schema."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time

import httpx

from tests.helpers import ROOT, clean_env, pulse


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_export_schema_prints_the_checked_in_sdl():
    result = pulse("export-schema", env=clean_env())
    assert result.returncode == 0, result.stderr
    assert result.stdout == (ROOT / "schema" / "schema.graphql").read_text()


def test_serve_on_embedded_defaults_becomes_ready_and_stops_its_servers(tmp_path):
    port = free_port()
    data_dir = tmp_path / "data"
    env = clean_env(PULSE_DATA_DIR=str(data_dir), PULSE_PORT=str(port))
    process = subprocess.Popen([sys.executable, "-m", "pulse.cli", "serve"], env=env, cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        ready = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
                if ready.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        assert ready is not None and ready.json()["status"] == "ready", process.poll()
        secrets = json.loads((data_dir / "secrets.json").read_text())
        token = secrets["PULSE_ADMIN_TOKEN"]
        assert "PULSE_COOKIE_SECRET" in secrets
        listed = httpx.get(f"http://127.0.0.1:{port}/api/admin/projects",
                           headers={"Authorization": f"Bearer {token}"})
        assert listed.status_code == 200 and listed.json() == {"data": [], "total": 0}
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    assert token not in stderr  # never printed: where it is stored, and how to read it
    assert str((data_dir / "secrets.json").resolve()) in stderr and "PULSE_ADMIN_TOKEN" in stderr
    assert "set PULSE_ADMIN_TOKEN explicitly" in stderr
    assert not (data_dir / "postgres" / "postmaster.pid").exists()  # PostgreSQL stopped
    assert not (data_dir / "redis.sock").exists()  # Redis stopped

    # A second start, with two API processes, reuses the data dir and does not print the token
    # again; SIGTERM (what `docker stop` sends) stops the embedded servers too.
    process = subprocess.Popen([sys.executable, "-m", "pulse.cli", "serve", "--workers", "2"], env=env,
                               cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    assert token not in stderr
    assert not (data_dir / "postgres" / "postmaster.pid").exists()
    assert not (data_dir / "redis.sock").exists()


def test_create_project_prints_working_keys(settings, client):
    env = clean_env(DATABASE_URL=settings.database_url, REDIS_URL=settings.redis_url)
    result = pulse("create-project", "CLI Site", "cli.example.com", env=env)
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(": ", 1) for line in result.stdout.strip().splitlines())
    assert set(lines) == {"project_id", "ingest_key", "query_key"}
    assert lines["ingest_key"].startswith("pa_live_") and lines["query_key"].startswith("pa_live_")
    bad = pulse("create-project", "Bad", "not a domain", env=env)
    assert bad.returncode != 0 and "'domain' must be a hostname" in bad.stderr


async def test_created_keys_have_the_scopes_named(settings, client):
    env = clean_env(DATABASE_URL=settings.database_url, REDIS_URL=settings.redis_url)
    result = pulse("create-project", "Scoped", "scoped.example.com", env=env)
    lines = dict(line.split(": ", 1) for line in result.stdout.strip().splitlines())
    query = await client.post("/graphql", json={"query": "{ project { id name } }"},
                              headers={"X-Pulse-Key": lines["query_key"]})
    assert query.json()["data"]["project"] == {"id": lines["project_id"], "name": "Scoped"}
    from tests.helpers import ADMIN

    keys = (await client.get(f"/api/admin/projects/{lines['project_id']}/keys", headers=ADMIN)).json()["data"]
    assert sorted(k["scopes"][0] for k in keys) == ["ingest", "query"]


def test_worker_runs_alone_and_stops_on_sigterm(settings):
    env = clean_env(DATABASE_URL=settings.database_url, REDIS_URL=settings.redis_url)
    process = subprocess.Popen([sys.executable, "-m", "pulse.cli", "worker"], env=env, cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = process.stdout.readline()  # the JSON log line announcing the worker
        assert json.loads(first)["message"] == "worker started", first
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert "worker stopped" in stdout


def test_migrate_is_idempotent(settings):
    env = clean_env(DATABASE_URL=settings.database_url, REDIS_URL=settings.redis_url)
    for _ in range(2):
        result = pulse("migrate", env=env)
        assert result.returncode == 0, result.stderr
        assert "Migrations applied." in result.stderr


async def test_rebuild_session_rollups_queues_the_days_the_writer_rebuilds(settings, app, client):
    """`pulse ingest rebuild-session-rollups` (pulse.ingest.backfill): a project whose data predates
    the session rollups has days queued, and once the writer has them it has a `since` no more."""
    from sqlalchemy import text

    from tests.helpers import create_project, drain, rows

    project = await create_project(client, "Rebuilt", "rebuilt.example.com")
    async with app.state.runtime.engine.begin() as conn:
        await conn.execute(text("INSERT INTO session_rollups_since (project_id, since) VALUES (:p, current_date)"),
                           {"p": project["id"]})
    env = clean_env(DATABASE_URL=settings.database_url, REDIS_URL=settings.redis_url)
    result = pulse("ingest", "rebuild-session-rollups", "--project", project["id"], env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{project['id']}: 1 days queued"), result.stdout
    await drain(app)
    assert await rows(app, "SELECT * FROM session_rollups_since WHERE project_id = :p", p=project["id"]) == []
    again = pulse("ingest", "rebuild-session-rollups", "--project", project["id"], env=env)
    assert "0 days queued (nothing to rebuild)" in again.stdout, again.stdout
