"""The request side of the ingest stream.

Accepted payloads are appended to a Redis stream per shard (a project always maps to the same
shard, so one writer at a time owns a project's sessions and rollups). Appends from concurrent
requests share one pipelined round trip (pulse.pipelining); each request returns once Redis
has its entry.
"""

from __future__ import annotations

import time
import zlib
from uuid import UUID

from redis.exceptions import RedisError

from pulse import errors
from pulse.observability import INGEST_BACKLOG
from pulse.pipelining import Pipeliner

UNREACHABLE = "Service temporarily unavailable: Redis is unreachable."


def stream_key(shard: int) -> str:
    return f"pulse:{{ingest-{shard}}}:stream"


def shard_of(project_id: UUID, shards: int) -> int:
    return zlib.crc32(project_id.bytes) % shards


class IngestBuffer:
    def __init__(self, pipeliner: Pipeliner, *, shards: int, max_backlog: int) -> None:
        self.pipeliner = pipeliner
        self.shards = shards
        self.max_backlog = max_backlog
        self.backlog: dict[int, int] = {}  # stream length per shard, as of the last append
        self._checked: dict[int, float] = {}

    async def append(self, project_id: UUID, entry: bytes) -> None:
        """Append one request's packed records; returns once Redis has them."""
        shard = shard_of(project_id, self.shards)
        key = stream_key(shard)
        if self.backlog.get(shard, 0) >= self.max_backlog and not await self._drained(shard):
            # Refuse rather than let the stream grow without bound while writers catch up.
            raise errors.Unavailable("Ingestion is backlogged; retry shortly.", retry_after=5)

        def commands(pipe) -> None:
            pipe.xadd(key, {"r": entry})
            pipe.xlen(key)

        try:
            added, length = await self.pipeliner.run(commands)
        except (RedisError, OSError) as exc:
            raise errors.Unavailable(UNREACHABLE) from exc
        if isinstance(added, Exception):
            raise errors.Unavailable(UNREACHABLE) from added
        if isinstance(length, int):
            self.backlog[shard] = length
            INGEST_BACKLOG.labels(str(shard)).set(length)

    async def _drained(self, shard: int) -> bool:
        """Re-read a full shard's length, at most once a second, to notice writers catching up."""
        now = time.monotonic()
        if now - self._checked.get(shard, 0.0) >= 1.0:
            self._checked[shard] = now
            try:
                self.backlog[shard] = await self.pipeliner.redis.xlen(stream_key(shard))
            except (RedisError, OSError) as exc:
                raise errors.Unavailable(UNREACHABLE) from exc
        return self.backlog[shard] < self.max_backlog
