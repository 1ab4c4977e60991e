"""The SDK's server and React Native clients against a live Pulse (their unit tests, with the rest of
the SDK's, run with `npm --prefix sdk test`)."""

from __future__ import annotations

import asyncio
import json
import shutil
import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.browser import live_server, poll  # noqa: F401
from tests.helpers import create_key, create_project

SDK = Path(__file__).resolve().parents[2] / "sdk"


async def test_server_and_mobile_clients_deliver_to_pulse(live_server, settings):  # noqa: F811
    node = shutil.which("node")
    if node is None or not (SDK / "node_modules" / "esbuild").is_dir():
        pytest.fail("Node and sdk/node_modules are needed (run `npm --prefix sdk ci`).")
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as client:
        project = await create_project(client, "SDK", "sdk.test")
        ingest = (await create_key(client, project["id"], "ingest"))["key"]
        query = {"X-Pulse-Key": (await create_key(client, project["id"], "query"))["key"]}

        proc = await asyncio.create_subprocess_exec(node, str(SDK / "test" / "live-pulse.mjs"), live_server.url, ingest,
                                                    cwd=SDK, stdout=asyncio.subprocess.PIPE)
        out, _ = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0
        result = json.loads(out)
        assert result["delivered"] is True and result["pending"] == 0
        assert len(result["errors"]) == 1 and "name" in result["errors"][0]  # the nameless event, refused

        async def events():
            data = (await client.get("/api/v1/events", headers=query)).json()["data"]
            counts = {e["name"]: e["count"] for e in data}
            return counts if len(counts) == 3 else None

        assert await poll(events) == {"subscription_renewed": 1, "invoice_paid": 1, "purchase": 1}
        pages = {p["path"] for p in (await client.get("/api/v1/pages", headers=query)).json()["data"]}
        assert pages == {"/server-rendered", "Home"}  # a mobile screen is a pageview of its name

    url = make_url(settings.database_url).set(drivername="postgresql").render_as_string(False)
    conn = await asyncpg.connect(url)
    try:
        pid = uuid.UUID(project["id"])
        revenue = await conn.fetch("SELECT name, revenue_amount, revenue_currency FROM events "
                                   "WHERE project_id = $1 AND revenue_amount IS NOT NULL ORDER BY name", pid)
        assert [(r["name"], float(r["revenue_amount"]), r["revenue_currency"]) for r in revenue] == [
            ("invoice_paid", 499.0, "EUR"), ("purchase", 29.99, "USD")]
        (log,) = await conn.fetch("SELECT level, message, body, environment FROM logs WHERE project_id = $1", pid)
        assert (log["level"], log["message"], json.loads(log["body"]), log["environment"]) == \
            ("error", "Payment webhook failed", {"attempt": 3}, "production")
        aliases = await conn.fetch("SELECT user_id, visitor_id FROM identity_aliases WHERE project_id = $1 "
                                   "ORDER BY user_id", pid)
        assert [(a["user_id"], a["visitor_id"]) for a in aliases] == [("user_mobile", "device_1"),
                                                                      ("user_server", "visitor_123")]
    finally:
        await conn.close()
