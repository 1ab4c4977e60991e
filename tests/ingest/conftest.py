"""Helpers for ingestion tests: a project with an ingest key, draining the stream, reading rows."""

from __future__ import annotations

from typing import Any

import pytest_asyncio
from sqlalchemy import text

from pulse.ingest.writer import ShardWriter
from tests.conftest import create_key, create_project, key_header

CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/120.0.0.0 Safari/537.36")
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/17.1 Mobile/15E148 Safari/604.1")
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


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


@pytest_asyncio.fixture
async def site(client) -> dict:
    """A fresh project with an ingest key; `headers` send a desktop Chrome user agent."""
    project = await create_project(client, "Site", "acme.test")
    key = await create_key(client, project["id"], "ingest")
    return {"id": project["id"], "key": key["key"],
            "headers": {**key_header(key["key"]), "User-Agent": CHROME}}
