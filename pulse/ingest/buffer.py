"""The request side of the ingest stream.

Accepted payloads are appended to a Redis stream per shard (a project always maps to the same
shard, so one writer at a time owns a project's sessions and rollups). Appends from concurrent
requests share one pipelined round trip (pulse.pipelining); each request returns once Redis
has its entry.

The backlog is bounded twice per shard: in entries (`XLEN`) and in bytes. The bytes are a
counter beside the stream, `INCRBY`'d in the same pipeline as the `XADD` and `DECRBY`'d by the
writer in the same atomic step that deletes the entries it wrote (pulse.ingest.writer), so the
hot path stays one round trip. A stream found empty resets its counter, so any drift (entries
appended before the counter existed, a crash between an `XADD` and its `INCRBY`) heals as soon
as the writers catch up.
"""

from __future__ import annotations

import time
import zlib
from uuid import UUID

from redis.exceptions import OutOfMemoryError, RedisError

from pulse import errors
from pulse.observability import INGEST_BACKLOG
from pulse.pipelining import Pipeliner

BACKLOGGED = "Ingestion is backlogged; retry shortly."


def stream_key(shard: int) -> str:
    return f"pulse:{{ingest-{shard}}}:stream"


def bytes_key(shard: int) -> str:
    """Bytes of the entries waiting in the shard's stream (their msgpack, as appended)."""
    return f"pulse:{{ingest-{shard}}}:bytes"


def dead_key(shard: int) -> str:
    """The shard's dead letters: entries the writer could not store (pulse.ingest.deadletters)."""
    return f"pulse:{{ingest-{shard}}}:dead"


def shard_of(project_id: UUID, shards: int) -> int:
    return zlib.crc32(project_id.bytes) % shards


class IngestBuffer:
    def __init__(self, pipeliner: Pipeliner, *, shards: int, max_backlog: int, max_backlog_bytes: int) -> None:
        self.pipeliner = pipeliner
        self.shards = shards
        self.max_backlog = max_backlog
        self.max_backlog_bytes = max_backlog_bytes
        # Per shard, as of the last append (or re-read): stream length and bytes.
        self.backlog: dict[int, int] = {}
        self.backlog_bytes: dict[int, int] = {}
        self._checked: dict[int, float] = {}

    def _full(self, shard: int) -> bool:
        return (self.backlog.get(shard, 0) >= self.max_backlog
                or self.backlog_bytes.get(shard, 0) >= self.max_backlog_bytes)

    async def append(self, project_id: UUID, entry: bytes, *, bounded: bool = True) -> None:
        """Append one request's packed records; returns once Redis has them. `bounded=False`: a
        small control entry (a DSAR delete), taken even when the backlog is full."""
        shard = shard_of(project_id, self.shards)
        key = stream_key(shard)
        if bounded and self._full(shard) and not await self._drained(shard):
            # Refuse rather than let the stream grow without bound while writers catch up.
            raise errors.Unavailable(BACKLOGGED, retry_after=5)

        def commands(pipe) -> None:
            pipe.xadd(key, {"r": entry})
            pipe.xlen(key)
            pipe.incrby(bytes_key(shard), len(entry))

        try:
            added, length, size = await self.pipeliner.run(commands)
        except (RedisError, OSError) as exc:
            raise errors.RedisUnavailable() from exc
        if isinstance(added, Exception):
            if isinstance(added, OutOfMemoryError):  # Redis at its maxmemory (noeviction): full too
                raise errors.Unavailable(BACKLOGGED, retry_after=5) from added
            raise errors.RedisUnavailable() from added
        if isinstance(length, int):
            self.backlog[shard] = length
            INGEST_BACKLOG.labels(str(shard)).set(length)
        if isinstance(size, int):
            self.backlog_bytes[shard] = size

    async def _drained(self, shard: int) -> bool:
        """Re-read a full shard's length and bytes, at most once a second, to notice writers
        catching up."""
        now = time.monotonic()
        if now - self._checked.get(shard, 0.0) >= 1.0:
            self._checked[shard] = now
            try:
                async with self.pipeliner.redis.pipeline(transaction=False) as pipe:
                    pipe.xlen(stream_key(shard))
                    pipe.get(bytes_key(shard))
                    length, size = await pipe.execute()
            except (RedisError, OSError) as exc:
                raise errors.RedisUnavailable() from exc
            self.backlog[shard] = length
            self.backlog_bytes[shard] = int(size or 0)
        return not self._full(shard)
