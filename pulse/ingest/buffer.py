"""The request side of the ingest stream: many requests' entries, one Redis round trip.

Accepted payloads are appended to a Redis stream per shard (a project always maps to the same
shard, so one writer at a time owns a project's sessions and rollups). Each request awaits
only the acknowledgement of the pipelined write that carries its entry: concurrent requests
share a round trip instead of paying one each.
"""

from __future__ import annotations

import asyncio
import time
import zlib
from uuid import UUID

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from pulse import errors

MAX_PIPELINE = 512  # entries per round trip


def stream_key(shard: int) -> str:
    return f"pulse:{{ingest-{shard}}}:stream"


def shard_of(project_id: UUID, shards: int) -> int:
    return zlib.crc32(project_id.bytes) % shards


class IngestBuffer:
    def __init__(self, redis: aioredis.Redis, *, shards: int, max_backlog: int) -> None:
        self.redis = redis
        self.shards = shards
        self.max_backlog = max_backlog
        self._pending: list[tuple[int, bytes, asyncio.Future]] = []
        self._flushing: asyncio.Task | None = None
        self.backlog: dict[int, int] = {}  # stream length per shard, as of the last write
        self._checked: dict[int, float] = {}

    async def append(self, project_id: UUID, entry: bytes) -> None:
        """Append one request's packed records; returns once Redis has them."""
        shard = shard_of(project_id, self.shards)
        if self.backlog.get(shard, 0) >= self.max_backlog and not await self._drained(shard):
            # Refuse rather than let the stream grow without bound while writers catch up.
            raise errors.Unavailable("Ingestion is backlogged; retry shortly.", retry_after=5)
        future = asyncio.get_running_loop().create_future()
        self._pending.append((shard, entry, future))
        if self._flushing is None:
            self._flushing = asyncio.create_task(self._flush_soon())
        await future

    async def _drained(self, shard: int) -> bool:
        """Re-read a full shard's length, at most once a second, to notice writers catching up."""
        now = time.monotonic()
        if now - self._checked.get(shard, 0.0) >= 1.0:
            self._checked[shard] = now
            try:
                self.backlog[shard] = await self.redis.xlen(stream_key(shard))
            except (RedisError, OSError) as exc:
                raise errors.Unavailable("Service temporarily unavailable: Redis is unreachable.") from exc
        return self.backlog[shard] < self.max_backlog

    async def _flush_soon(self) -> None:
        await asyncio.sleep(0)  # let requests already running add their entries first
        try:
            while self._pending:
                batch, self._pending = self._pending[:MAX_PIPELINE], self._pending[MAX_PIPELINE:]
                await self._write(batch)
        finally:
            self._flushing = None

    async def _write(self, batch: list[tuple[int, bytes, asyncio.Future]]) -> None:
        shards = sorted({shard for shard, _, _ in batch})
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for shard, entry, _ in batch:
                    pipe.xadd(stream_key(shard), {"r": entry})
                for shard in shards:
                    pipe.xlen(stream_key(shard))
                results = await pipe.execute()
        except (RedisError, OSError) as exc:
            error = errors.Unavailable("Service temporarily unavailable: Redis is unreachable.")
            error.__cause__ = exc
            for _, _, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        for shard, length in zip(shards, results[len(batch):], strict=True):
            self.backlog[shard] = length
        for _, _, future in batch:
            if not future.done():
                future.set_result(None)
