"""Helpers shared by test modules (fixtures live in the conftest files): import them from here,
never from another test module or a conftest."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from sqlalchemy import text

from pulse.config import Settings
from pulse.ingest.writer import ShardWriter

ROOT = Path(__file__).resolve().parent.parent
ADMIN_TOKEN = "test-admin-token-" + "x" * 16
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/120.0.0.0 Safari/537.36")
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/17.1 Mobile/15E148 Safari/604.1")
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def pulse(*args: str, env: dict[str, str], **kwargs) -> subprocess.CompletedProcess:
    """Run the `pulse` command (`python -m pulse.cli`) and capture what it prints."""
    return subprocess.run([sys.executable, "-m", "pulse.cli", *args], env=env, capture_output=True, text=True,
                          timeout=120, cwd=kwargs.pop("cwd", ROOT), **kwargs)


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any Pulse setting, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULSE_", "DATABASE_URL", "REDIS_URL"))}
    env.update(extra)
    return env


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class LocalServer:
    """A tiny HTTP/1.1 server on 127.0.0.1; `answer(path)` gives (status, headers, body)."""

    answer: Callable[[str], tuple[int, dict[str, str], bytes]]
    requests: list[Received] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:] if line)}
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.requests.append(Received(method, path, headers, body))
            status, extra, content = self.answer(path)
            out = [f"HTTP/1.1 {status} X", f"Content-Length: {len(content)}", "Connection: close",
                   *(f"{k}: {v}" for k, v in extra.items())]
            writer.write(("\r\n".join(out) + "\r\n\r\n").encode() + content)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@asynccontextmanager
async def local_server(answer: Callable[[str], tuple[int, dict[str, str], bytes]] | None = None
                       ) -> AsyncIterator[LocalServer]:
    server = LocalServer(answer or (lambda path: (200, {}, b"ok")))
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    server.port = listener.sockets[0].getsockname()[1]
    try:
        yield server
    finally:
        listener.close()
        await listener.wait_closed()


@asynccontextmanager
async def serving(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """Start an app (its lifespan) and yield a client that calls it in-process."""
    async with LifespanManager(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://pulse.test") as c:
            yield c


def make_app(settings: Settings, **overrides: Any) -> Any:
    from pulse.app import create_app

    return create_app(settings.model_copy(update=overrides) if overrides else settings)


def key_header(key: str) -> dict[str, str]:
    return {"X-Pulse-Key": key}


async def create_project(client: httpx.AsyncClient, name: str = "Acme", domain: str = "acme.test") -> dict:
    response = await client.post("/api/admin/projects", json={"name": name, "domain": domain}, headers=ADMIN)
    assert response.status_code == 201, response.text
    return response.json()


async def create_key(client: httpx.AsyncClient, project_id: str, *scopes: str, **fields: Any) -> dict:
    body = {"name": fields.pop("name", "-".join(scopes) or "key"), "scopes": list(scopes), **fields}
    response = await client.post(f"/api/admin/projects/{project_id}/keys", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    return response.json()


async def gql(client: httpx.AsyncClient, query: str, variables: dict | None = None,
              headers: dict | None = None, path: str = "/graphql") -> dict:
    response = await client.post(path, json={"query": query, "variables": variables or {}},
                                 headers=headers or {})
    body = response.json()
    if response.status_code != 200:  # a refused operation answers its refusal's status, and no data
        assert body["data"] is None and response.status_code == body["errors"][0]["extensions"]["status"], body
    return body


@asynccontextmanager
async def sql_statements(app: Any) -> AsyncIterator[list[str]]:
    """Every statement the app runs on PostgreSQL inside the block."""
    from sqlalchemy import event

    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    engine = app.state.runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def gql_error(result: dict) -> tuple[str, str]:
    """The first error's message and code."""
    assert result.get("errors"), result
    error = result["errors"][0]
    return error["message"], error.get("extensions", {}).get("code")


async def drain(app: Any, consumer: str = "test-writer") -> int:
    """Write everything in the ingest stream, as the worker would; return entries written."""
    runtime = app.state.runtime
    total = 0
    for shard in range(runtime.settings.ingest_shards):
        writer = ShardWriter(runtime, shard, consumer)
        assert await writer.hold_lease(), f"shard {shard} is leased by someone else"
        try:
            while written := await writer.step(block_ms=1):
                total += written
        finally:
            await writer.release()
    return total


async def rows(app: Any, sql: str, **params: Any) -> list[dict]:
    async with app.state.runtime.engine.connect() as conn:
        return [dict(r) for r in (await conn.execute(text(sql), params)).mappings()]


def error_envelope(status: int, content: bytes, content_type: str) -> str | None:
    """What is wrong with an error response's body, or None when it is `{"error": "<string>"}`."""
    if status < 400:
        return None
    if "json" not in content_type:
        return f"an error answered with Content-Type {content_type!r}, not JSON: {content[:200]!r}"
    try:
        body = json.loads(content)
    except ValueError:
        return f"an error body that is not JSON: {content[:200]!r}"
    if not (isinstance(body, dict) and isinstance(body.get("error"), str)):
        return f'an error body that is not {{"error": "<string>"}}: {content[:300]!r}'
    return None


def needs_esbuild(package: Path):
    """Skip unless Node and the front-end package's node_modules are there (`make test` installs them)."""
    import pytest

    missing = shutil.which("node") is None or not (package / "node_modules" / "esbuild").exists()
    return pytest.mark.skipif(missing, reason=f"needs Node and `npm --prefix {package.relative_to(ROOT)} ci` "
                                              "(make test runs it)")


def assert_assets_built_from_sources(package: Path, out: Path) -> None:
    """Build the front-end package into `out` and compare with its checked-in assets/, byte for byte."""
    subprocess.run(["node", str(package / "build.mjs"), str(out)], check=True, cwd=package, timeout=180)
    built = sorted(p.name for p in out.iterdir())
    assert built == sorted(p.name for p in (package / "assets").iterdir())
    where = package.relative_to(ROOT)
    for name in built:
        assert (out / name).read_bytes() == (package / "assets" / name).read_bytes(), (
            f"{where}/assets/{name} is stale: run `npm --prefix {where} run build`")


# One payload of every collected type, as POST /api/collect takes it: type -> (fields, table, expected
# columns of its row). The optional modules must be enabled for some of them.
SURVEY = "c7f3e8a2-91b4-4d6e-b2f1-8a3c9d4e5f6a"

PAYLOADS = {
    "pageview": ({"path": "/pricing", "title": "Pricing", "screen": "1920x1080", "language": "en-US"},
                 "pageviews", {"path": "/pricing", "title": "Pricing", "screen": "1920x1080", "language": "en-US"}),
    "screen": ({"name": "Home"}, "pageviews", {"path": "Home", "title": "Home"}),
    "event": ({"name": "add_to_cart", "path": "/p", "data": {"quantity": 2}, "revenue_amount": 59.98,
               "revenue_currency": "usd"}, "events",
              {"name": "add_to_cart", "data": {"quantity": 2}, "revenue_currency": "USD"}),
    "web_vital": ({"name": "LCP", "value": 1842.5, "rating": "good", "path": "/home"}, "web_vitals",
                  {"name": "LCP", "value": 1842.5, "rating": "good", "path": "/home"}),
    "scroll_depth": ({"path": "/blog", "max_depth": 87}, "scroll_depths", {"max_depth": 87, "path": "/blog"}),
    "search_query": ({"query": "pricing plans", "results_count": 7, "path": "/search"}, "search_queries",
                     {"query": "pricing plans", "results_count": 7}),
    "outlink": ({"url": "https://github.com/acme/widget", "link_type": "external", "path": "/docs"}, "outlinks",
                {"url": "https://github.com/acme/widget", "link_type": "external"}),
    "js_error": ({"message": "TypeError: x is null", "stack": "at f (app.js:1:2)", "filename": "https://acme.test/app.js",
                  "lineno": 142, "colno": 18, "path": "/dashboard", "release": "2026.05.09",
                  "environment": "production"}, "js_errors",
                 {"message": "TypeError: x is null", "lineno": 142, "release": "2026.05.09"}),
    "log": ({"level": "warn", "message": "Checkout retry", "body": {"order_id": "ord_123"}, "path": "/checkout"},
            "logs", {"level": "warn", "message": "Checkout retry", "body": {"order_id": "ord_123"}}),
    "click_event": ({"path": "/pricing", "x": 482, "y": 1203, "element_selector": "button.cta",
                     "viewport_width": 1440, "viewport_height": 900}, "click_events",
                    {"x": 482, "y": 1203, "element_selector": "button.cta", "viewport_width": 1440}),
    "survey_response": ({"survey_id": SURVEY, "answers": [{"question_id": "q1", "value": "Yes"}], "completed": True},
                        "survey_responses", {"completed": True, "answers": [{"question_id": "q1", "value": "Yes"}]}),
    "replay": ({"recording_id": "rec-1", "seq": 0, "events": [{"type": 2, "timestamp": 1700000000000}]},
               "replay_events", {"recording_id": "rec-1", "seq": 0, "events_count": 1}),
}
OPTIONAL_MODULES = ["heatmaps", "surveys", "session_replay"]


async def new_project(client: httpx.AsyncClient, name: str) -> dict:
    """A project and its keys' headers: query, ingest and admin (a definition module's tests)."""
    project = await create_project(client, name, f"{name.lower()}.test")
    keys = {scope: key_header((await create_key(client, project["id"], scope))["key"])
            for scope in ("query", "ingest", "admin")}
    return {"project": project, **keys}


async def answer(client: httpx.AsyncClient, method: str, path: str, headers: dict, **kwargs) -> tuple[int, dict | None]:
    """A request's status and JSON body (None when it has none)."""
    response = await client.request(method, path, headers=headers, **kwargs)
    return response.status_code, (response.json() if response.content else None)
