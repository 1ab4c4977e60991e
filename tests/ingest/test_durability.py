"""Accepted data is never lost: PostgreSQL outages, writers dying, Redis unreachable, backlog."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from pulse.ingest import writer as writer_module
from pulse.ingest.buffer import stream_key
from pulse.ingest.writer import GROUP, ShardWriter
from pulse.runtime import Runtime
from tests.helpers import drain, make_app, rows, serving


class PostgresProxy:
    """A TCP proxy in front of PostgreSQL that can be switched off, like a server restart."""

    def __init__(self, database_url: str) -> None:
        url = make_url(database_url)
        self.socket_dir = url.query.get("host")
        self.upstream = (url.host or "127.0.0.1", url.port or 5432)
        self.port = url.port or 5432
        self.server: asyncio.Server | None = None
        self.tasks: set[asyncio.Task] = set()
        self.writers: set[asyncio.StreamWriter] = set()

    async def _open_upstream(self):
        if self.socket_dir:
            return await asyncio.open_unix_connection(f"{self.socket_dir}/.s.PGSQL.{self.port}")
        return await asyncio.open_connection(*self.upstream)

    async def _pipe(self, reader, writer) -> None:
        with contextlib.suppress(Exception):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _handle(self, client_reader, client_writer) -> None:
        up_reader, up_writer = await self._open_upstream()
        self.writers |= {client_writer, up_writer}
        for task in (self._pipe(client_reader, up_writer), self._pipe(up_reader, client_writer)):
            t = asyncio.create_task(task)
            self.tasks.add(t)
            t.add_done_callback(self.tasks.discard)

    async def start(self, port: int = 0) -> int:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", port)
        return self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Refuse new connections and cut the open ones."""
        self.server.close()
        await self.server.wait_closed()
        for w in list(self.writers):
            w.close()
        self.writers.clear()


def through_proxy(database_url: str, port: int) -> str:
    url = make_url(database_url)
    query = {k: v for k, v in url.query.items() if k != "host"}
    return url.set(host="127.0.0.1", port=port, query=query).render_as_string(hide_password=False)


async def send(client, site, n: int, path: str = "/") -> None:
    for i in range(n):
        response = await client.post("/api/collect", json={"type": "pageview", "path": f"{path}{i}"},
                                     headers=site["headers"])
        assert response.status_code == 200


async def count(app, site) -> int:
    return len(await rows(app, "SELECT 1 FROM pageviews WHERE project_id = :p", p=site["id"]))


async def test_postgres_down_for_a_while_then_back_loses_nothing(client, app, site, settings):
    proxy = PostgresProxy(settings.database_url)
    port = await proxy.start()
    runtime = Runtime(settings.model_copy(update={"database_url": through_proxy(settings.database_url, port)}))
    try:
        await send(client, site, 3, "/before")
        writers = [ShardWriter(runtime, shard, "proxied") for shard in range(settings.ingest_shards)]
        for w in writers:
            assert await w.hold_lease()
        await proxy.stop()  # PostgreSQL "goes away"
        await send(client, site, 2, "/during")  # still accepted: Redis holds them
        for w in writers:
            with contextlib.suppress(Exception):
                await w.step(block_ms=1)  # fails: nothing acknowledged
        kept = 0
        for shard in range(settings.ingest_shards):
            kept += await runtime.stream_redis.xlen(stream_key(shard))
        assert kept == 5  # every accepted request still waits in Redis, none acknowledged
        assert await count(app, site) == 0
        await proxy.start(port)  # PostgreSQL is back
        for _ in range(20):  # the first attempt may meet a connection that died with the old server
            try:
                for w in writers:
                    while await w.step(block_ms=1):
                        pass
                break
            except Exception:
                await asyncio.sleep(0.05)
        for w in writers:
            await w.release()
        assert await count(app, site) == 5
        assert await drain(app) == 0
    finally:
        await runtime.close()
        await proxy.stop()


async def test_a_writer_killed_mid_batch_is_taken_over_without_loss_or_duplicates(client, app, site, monkeypatch):
    monkeypatch.setattr(writer_module, "LEASE_MS", 300)
    runtime = app.state.runtime
    await send(client, site, 4)
    dead = [ShardWriter(runtime, s, "dies") for s in range(runtime.settings.ingest_shards)]
    for w in dead:
        assert await w.hold_lease()

    async def crash(entries: Any) -> None:
        raise asyncio.CancelledError  # what a task being killed sees (any Exception blames the entries)

    for w in dead:
        monkeypatch.setattr(w, "write", crash)
        with contextlib.suppress(asyncio.CancelledError):
            await w.step(block_ms=1)  # read the entries, then "died": no commit, no ack, lease kept
    heir = [ShardWriter(runtime, s, "heir") for s in range(runtime.settings.ingest_shards)]
    for w in heir:
        for _ in range(100):
            if await w.hold_lease():
                break
            await asyncio.sleep(0.02)  # until the dead writer's lease lapses
        assert w.owned
        while await w.step(block_ms=1):
            pass
        await w.release()
    assert await count(app, site) == 4


async def test_a_batch_committed_but_not_acknowledged_is_not_written_twice(client, app, site, monkeypatch):
    monkeypatch.setattr(writer_module, "LEASE_MS", 300)
    runtime = app.state.runtime
    await send(client, site, 3)
    for shard in range(runtime.settings.ingest_shards):
        first = ShardWriter(runtime, shard, "commits-then-dies")
        assert await first.hold_lease()
        entries = await runtime.stream_redis.xreadgroup(GROUP, first.consumer, {first.stream: ">"}, count=100)
        if entries:
            await first.write([(i.decode(), f) for i, f in entries[0][1]])  # committed; never acknowledged
    assert await count(app, site) == 3
    await asyncio.sleep(0.35)  # the first writer's lease lapses
    await drain(app, consumer="replays")
    assert await count(app, site) == 3


async def test_redis_unreachable_answers_503(settings, client, site):
    async with serving(make_app(settings, redis_url="redis://127.0.0.1:1/0")) as broken:
        response = await broken.post("/api/collect", json={"type": "pageview", "path": "/"}, headers=site["headers"])
        assert response.status_code == 503 and response.headers["Retry-After"] == "1"
        assert response.json() == {"error": "Service temporarily unavailable: Redis is unreachable."}


async def test_redis_failing_at_the_stream_answers_503(client, app, site, monkeypatch):
    from redis.exceptions import ConnectionError as RedisConnectionError

    async def unreachable(add):
        raise RedisConnectionError("gone")

    monkeypatch.setattr(app.state.runtime.stream_pipeliner, "run", unreachable)
    response = await client.post("/api/collect", json={"type": "pageview", "path": "/"}, headers=site["headers"])
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    assert response.json() == {"error": "Service temporarily unavailable: Redis is unreachable."}


@pytest.mark.parametrize("backlog", [2])
async def test_backpressure_when_the_stream_is_too_long(settings, site, backlog):
    async with serving(make_app(settings, ingest_max_backlog=backlog, ingest_shards=1)) as small:
        answers = []
        for _ in range(backlog + 2):
            response = await small.post("/api/collect", json={"type": "pageview", "path": "/"}, headers=site["headers"])
            answers.append(response.status_code)
        assert answers[:backlog] == [200] * backlog
        assert answers[-1] == 503
        refused = await small.post("/api/collect", json={"type": "pageview", "path": "/"}, headers=site["headers"])
        assert refused.headers["Retry-After"] == "5"
        assert refused.json() == {"error": "Ingestion is backlogged; retry shortly."}


async def test_the_worker_makes_accepted_data_queryable_within_two_seconds(client, app, site):
    import time

    from pulse.worker import run_worker

    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(app.state.runtime, stop))
    try:
        await send(client, site, 1, "/live")
        deadline = time.monotonic() + 2.0
        while await count(app, site) == 0:
            assert time.monotonic() < deadline, "not written within 2 seconds"
            await asyncio.sleep(0.02)
    finally:
        stop.set()
        await worker
    assert await count(app, site) == 1


async def test_ingestion_goes_on_while_postgres_is_down(client, app, site, settings, monkeypatch):
    from pulse import access
    from tests.helpers import create_key, key_header

    fresh_key = (await create_key(client, site["id"], "ingest"))["key"]
    proxy = PostgresProxy(settings.database_url)
    port = await proxy.start()
    proxied = make_app(settings, database_url=through_proxy(settings.database_url, port))
    try:
        async with serving(proxied) as api:
            assert (await api.post("/api/collect", json={"type": "pageview", "path": "/"}, headers=site["headers"])
                    ).status_code == 200  # the key is now cached
            await proxy.stop()
            monkeypatch.setattr(access, "_MAX_AGE", 0.0)  # as if the cache were old: a reload is due
            cached = await api.post("/api/collect", json={"type": "pageview", "path": "/"}, headers=site["headers"])
            assert cached.status_code == 200  # served from the cache; Redis holds the event
            unknown = await api.post("/api/collect", json={"type": "pageview", "path": "/"},
                                     headers={**site["headers"], **key_header(fresh_key)})
            assert unknown.status_code == 503 and "Retry-After" in unknown.headers
            assert unknown.json() == {"error": "Service temporarily unavailable: the database is unreachable."}
    finally:
        await proxy.stop()
    await drain(app)
    assert await count(app, site) == 2
