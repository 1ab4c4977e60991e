"""The stream backlog is bounded in bytes as well as entries; the embedded Redis has a maxmemory
with noeviction, and a Redis at its maxmemory turns into the same 503 as a full backlog."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import redis.asyncio as aioredis

from pulse import errors
from pulse.embedded import EmbeddedRedis
from pulse.ingest.buffer import BACKLOGGED, IngestBuffer, bytes_key, stream_key
from pulse.pipelining import Pipeliner
from tests.helpers import drain, make_app, serving

BIG_PATH = "/" + "p" * 1000  # an entry of a little over 1 KiB
PAGEVIEW = {"type": "pageview", "path": "/"}


async def test_appends_past_the_byte_bound_are_refused_until_the_writer_drains(settings, site):
    async with serving(make_app(settings, ingest_shards=1, ingest_max_backlog_bytes=4096)) as small:
        app = small._transport.app
        redis = app.state.runtime.stream_redis
        answers = []
        for i in range(8):
            response = await small.post("/api/collect", json={"type": "pageview", "path": f"{BIG_PATH}{i}"},
                                        headers=site["headers"])
            answers.append(response.status_code)
        accepted = answers.count(200)
        assert answers == [200] * accepted + [503] * (8 - accepted) and 3 <= accepted <= 4
        refused = await small.post("/api/collect", json=PAGEVIEW, headers=site["headers"])
        assert refused.status_code == 503 and refused.headers["Retry-After"] == "5"
        assert refused.json() == {"error": "Ingestion is backlogged; retry shortly."}
        # The counter is the bytes of what waits, exactly.
        waiting = await redis.xrange(stream_key(0))
        assert len(waiting) == accepted
        assert int(await redis.get(bytes_key(0))) == sum(len(f[b"r"]) for _, f in waiting) >= 4096

        assert await drain(app) == accepted
        assert await redis.get(bytes_key(0)) is None  # written, deleted, counted off
        await asyncio.sleep(1.05)  # a full shard is re-read at most once a second
        again = await small.post("/api/collect", json=PAGEVIEW, headers=site["headers"])
        assert again.status_code == 200 and again.json() == {"ok": True}
        assert await drain(app) == 1


async def test_a_counter_that_drifted_heals_when_the_stream_empties(settings, site):
    async with serving(make_app(settings, ingest_shards=1, ingest_max_backlog_bytes=4096)) as small:
        app = small._transport.app
        redis = app.state.runtime.stream_redis
        assert (await small.post("/api/collect", json=PAGEVIEW, headers=site["headers"])).status_code == 200
        await redis.incrby(bytes_key(0), 10**9)  # as if entries had been counted and never counted off
        assert (await small.post("/api/collect", json=PAGEVIEW, headers=site["headers"])).status_code == 200
        assert (await small.post("/api/collect", json=PAGEVIEW, headers=site["headers"])).status_code == 503
        assert await drain(app) == 2
        assert await redis.get(bytes_key(0)) is None
        await asyncio.sleep(1.05)
        assert (await small.post("/api/collect", json=PAGEVIEW, headers=site["headers"])).status_code == 200
        assert await drain(app) == 1


def test_the_embedded_redis_has_a_maxmemory_and_never_evicts(tmp_path):
    command = EmbeddedRedis(tmp_path, "512MB").command()
    assert command[command.index("--maxmemory") + 1] == "512mb"
    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"
    assert command[command.index("--appendonly") + 1] == "yes"
    assert EmbeddedRedis(tmp_path).maxmemory == "1gb"
    for bad in ("", "lots", "1tb", "-1gb", "1 gb"):
        with pytest.raises(ValueError, match="PULSE_EMBEDDED_REDIS_MAXMEMORY"):
            EmbeddedRedis(tmp_path, bad)


async def test_a_redis_at_its_maxmemory_refuses_appends_as_a_full_backlog(tmp_path):
    server = EmbeddedRedis(tmp_path, "4mb")
    server.start()
    client = aioredis.Redis(unix_socket_path=str(server.socket), decode_responses=False)
    try:
        config = {(k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
                  for k, v in (await client.config_get("maxmemory*")).items()}
        assert config["maxmemory"] == str(4 * 1024 * 1024)
        assert config["maxmemory-policy"] == "noeviction"
        buffer = IngestBuffer(Pipeliner(client), shards=1, max_backlog=10**6, max_backlog_bytes=10**9)
        with pytest.raises(errors.Unavailable) as refused:
            for _ in range(100):  # 100 × 100 KB: well past 4 MB
                await buffer.append(uuid.uuid4(), b"x" * 100_000)
        assert refused.value.message == BACKLOGGED and refused.value.headers == {"Retry-After": "5"}
        assert await client.xlen(stream_key(0)) < 100  # nothing was evicted to make room either
    finally:
        await client.aclose()
        server.stop()
