"""The writer: consumes the ingest stream in batches and stores them, exactly once.

Each shard's stream has one writer at a time (a Redis lease), so a project's sessions and
rollups have a single author and can be cached in memory. A batch is stored (pulse.ingest.storage)
in one PostgreSQL transaction that also records the stream entry ids in `ingest_ledger`;
entries are acknowledged only after the commit. So:
- PostgreSQL down: the batch fails, nothing is acknowledged, the writer retries until it is back;
- a writer killed mid-batch: its lease lapses, another writer claims the pending entries;
- a batch committed but not acknowledged: replayed, found in the ledger, skipped;
- a batch refused for a reason of its own (bad data, not an unreachable database: `retryable`):
  split in halves, each its own transaction, in order, until the entries that fail alone are
  found; those go to the shard's dead letters (pulse.ingest.deadletters), the rest commit.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import defaultdict
from datetime import UTC, date, datetime
from uuid import UUID

import asyncpg
from redis.exceptions import RedisError, ResponseError
from sqlalchemy import exc as sa_exc

from pulse.ingest import deadletters
from pulse.ingest.buffer import bytes_key, dead_key, stream_key
from pulse.ingest.records import Entry, Record, decode_entry
from pulse.ingest.storage import Staged, Storage
from pulse.observability import INGEST_BACKLOG, INGEST_DEAD_LETTERS
from pulse.runtime import Runtime

log = logging.getLogger("pulse.writer")

GROUP = "writers"
SETTLE_BYTES = 8 * 1024 * 1024  # dead letters' bytes per settle call (one Redis command)
LEASE_MS = 10_000

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""


# After a batch: dead letters in, written and dead entries acknowledged and deleted, their bytes
# taken off the backlog counter (reset when the stream is empty: pulse.ingest.buffer), atomically.
# KEYS: stream, bytes counter, dead letters. ARGV: group, bytes, n, n entry ids,
# then four values per dead letter (pulse.ingest.deadletters.letter). Returns the stream's
# length, its bytes and the number of dead letters. Deletes come first: a Redis at `maxmemory`
# (noeviction) refuses a script whose first write may grow memory, never one that already wrote.
_SETTLE = """
local n = tonumber(ARGV[3])
for i = 4, 3 + n, 500 do
  local ids = {}
  for j = i, math.min(i + 499, 3 + n) do ids[#ids + 1] = ARGV[j] end
  redis.call('XACK', KEYS[1], ARGV[1], unpack(ids))
  redis.call('XDEL', KEYS[1], unpack(ids))
end
for i = 4 + n, #ARGV, 4 do
  redis.call('XADD', KEYS[3], '*', 'id', ARGV[i], 'r', ARGV[i + 1], 'error', ARGV[i + 2], 'at', ARGV[i + 3])
end
local left = redis.call('XLEN', KEYS[1])
local size = redis.call('DECRBY', KEYS[2], ARGV[2])
if left == 0 or size < 0 then
  redis.call('DEL', KEYS[2])
  size = 0
end
return {left, size, redis.call('XLEN', KEYS[3])}
"""

# SQLSTATE classes that say nothing against the entries: connection trouble (08), transaction
# state (25), authorization (28), no such database (3D), serialization failure or deadlock (40),
# schema or privileges (42: the statements are fixed, so a deployment problem), resources such as
# too many connections or a full disk (53), locks and objects in use (55), operator intervention
# such as an admin shutdown or "cannot connect now" (57), system errors (58), snapshot too old
# (72), configuration files (F0) and internal errors (XX). Everything else, data exceptions (22),
# integrity violations (23), program limits such as an index row too large (54), blames the batch.
RETRY_SQLSTATE_CLASSES = frozenset({"08", "25", "28", "3D", "40", "42", "53", "55", "57", "58", "72", "F0", "XX"})


def retryable(exc: BaseException) -> bool:
    """Whether a failed batch should be retried as it is (the database or Redis is unreachable,
    busy or shutting down), rather than split to find an entry at fault. Follows SQLAlchemy's
    wrappers and exception causes down to the driver's error."""
    chain: list[BaseException] = []
    while exc is not None and exc not in chain and len(chain) < 10:
        chain.append(exc)
        exc = getattr(exc, "orig", None) or exc.__cause__ or exc.__context__
    for e in chain:
        if isinstance(e, (OSError, MemoryError, RedisError, sa_exc.TimeoutError)):
            return True  # OSError: refused and reset connections, timeouts (TimeoutError)
        if isinstance(e, sa_exc.DBAPIError) and e.connection_invalidated:
            return True
        if isinstance(e, asyncpg.PostgresError):  # the server's own verdict
            return str(e.sqlstate or "")[:2] in RETRY_SQLSTATE_CLASSES
        if isinstance(e, asyncpg.InterfaceError):  # client side: a closed connection, or bad input
            return not isinstance(e, ValueError)  # asyncpg's DataError is invalid query input
        if isinstance(e, asyncpg.exceptions.InternalClientError):
            return True
    # No driver error below: SQLAlchemy's own connection-level wrappers still mean "retry".
    return any(isinstance(e, (sa_exc.InterfaceError, sa_exc.OperationalError, sa_exc.DisconnectionError))
               for e in chain)


def lease_key(shard: int) -> str:
    return f"pulse:{{ingest-{shard}}}:lease"


class ShardWriter:
    """Writes one shard while it holds the shard's lease."""

    def __init__(self, runtime: Runtime, shard: int, consumer: str) -> None:
        self.runtime = runtime
        self.redis = runtime.redis
        self.streams = runtime.stream_redis  # entries are bytes (msgpack)
        self.shard = shard
        self.stream = stream_key(shard)
        self.consumer = consumer
        self.owned = False
        self.unacked = True  # entries read under this consumer name but not acknowledged may exist
        self._renew = self.redis.register_script(_RENEW)
        self._settle = self.streams.register_script(_SETTLE)
        # Its caches are only valid while this writer is the shard's sole author.
        self.storage = Storage(runtime.writer_engine)

    async def hold_lease(self) -> bool:
        """Take or renew the lease; a writer that loses it forgets what it cached."""
        key = lease_key(self.shard)
        if self.owned:
            self.owned = bool(await self._renew(keys=[key], args=[self.consumer, LEASE_MS]))
            if not self.owned:
                self.storage.reset()
            return self.owned
        if await self.redis.set(key, self.consumer, nx=True, px=LEASE_MS):
            self.owned = True
            self.storage.reset()
            await self._ensure_group()
            await self._claim_abandoned()
            self.unacked = True
        return self.owned

    async def release(self) -> None:
        if self.owned:
            script = self.redis.register_script(
                "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0")
            await script(keys=[lease_key(self.shard)], args=[self.consumer])
            self.owned = False

    async def _ensure_group(self) -> None:
        try:
            await self.streams.xgroup_create(self.stream, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def _claim_abandoned(self) -> None:
        """Take over entries a previous writer read but never acknowledged."""
        cursor = "0-0"
        while True:
            cursor, *_ = await self.streams.xautoclaim(self.stream, GROUP, self.consumer, min_idle_time=0,
                                                      start_id=cursor, count=1000)
            if cursor == b"0-0":
                return

    async def step(self, block_ms: int | None = 500) -> int:
        """Write one batch (this writer's pending entries first); return how many entries.
        `block_ms` None: do not wait for new entries."""
        size = self.runtime.settings.ingest_batch_size
        entries = []
        if self.unacked:  # only after a takeover or a failed batch: spare a round trip otherwise
            pending = await self.streams.xreadgroup(GROUP, self.consumer, {self.stream: "0"}, count=size)
            entries = pending[0][1] if pending else []
        from_pending = bool(entries)
        if not entries:
            fresh = await self.streams.xreadgroup(GROUP, self.consumer, {self.stream: ">"}, count=size,
                                                block=block_ms)
            entries = fresh[0][1] if fresh else []
        emptied = [entry_id for entry_id, fields in entries if not fields]
        if emptied:  # deleted from the stream while pending: nothing to write, only to forget
            await self.streams.xack(self.stream, GROUP, *emptied)
        more_pending = from_pending and len(entries) >= size
        entries = [(entry_id.decode(), fields) for entry_id, fields in entries if fields]
        if not entries:
            self.unacked = more_pending
            return len(emptied)
        self.unacked = True  # until the acknowledgement below
        dead = await self._write_isolating(entries)
        remaining, dead_letters = await self._settle_batch(entries, dead)
        self.unacked = more_pending
        INGEST_BACKLOG.labels(str(self.shard)).set(remaining)
        INGEST_DEAD_LETTERS.labels(str(self.shard)).set(dead_letters)
        return len(entries)

    async def _settle_batch(self, entries: list[tuple[str, dict]],
                            dead: list[tuple[str, dict, Exception]]) -> tuple[int, int]:
        """Acknowledge and delete a written batch, moving its `dead` entries to the dead letters;
        return the stream's length and the number of dead letters. Each call of the script is
        atomic (a dead letter is added in the step that deletes its entry: never lost, never
        doubled); dead letters go SETTLE_BYTES at a time, since entries may be large."""
        now = datetime.now(UTC)
        sizes = {entry_id: len(fields.get(b"r", b"")) for entry_id, fields in entries}
        failed = {entry_id for entry_id, _, _ in dead}
        chunks: list[list] = [[]]
        for entry_id, fields, exc in dead:
            log.error("ingest entry refused; moved to the dead letters",
                      extra={"shard": self.shard, "entry_id": entry_id, "error": deadletters.describe(exc)})
            if chunks[-1] and sum(sizes[i] for i, _ in chunks[-1]) + sizes[entry_id] > SETTLE_BYTES:
                chunks.append([])
            chunks[-1].append((entry_id, deadletters.letter(entry_id, fields.get(b"r", b""), exc, now)))
        written = [entry_id for entry_id, _ in entries if entry_id not in failed]
        for n, chunk in enumerate(chunks):
            ids = (written if n == 0 else []) + [entry_id for entry_id, _ in chunk]
            args = [GROUP, sum(sizes[i] for i in ids), len(ids), *ids]
            for _, values in chunk:
                args += values
            remaining, _, dead_letters = await self._settle(
                keys=[self.stream, bytes_key(self.shard), dead_key(self.shard)], args=args)
        return remaining, dead_letters

    async def _write_isolating(self, entries: list[tuple[str, dict]]) -> list[tuple[str, dict, Exception]]:
        """Write `entries`; if that fails for a reason of their own (not `retryable`), write each
        half in its own transaction, first half first, recursively: return the entries that fail
        alone, with their errors. Every other entry is committed, in stream order, once (the
        ledger skips halves already committed when a retry follows)."""
        try:
            await self.write(entries)
            return []
        except Exception as exc:
            if retryable(exc):
                raise
            if len(entries) == 1:
                return [(*entries[0], exc)]
        half = len(entries) // 2
        return await self._write_isolating(entries[:half]) + await self._write_isolating(entries[half:])

    # -- one batch, one transaction -------------------------------------------------------------

    async def write(self, entries: list[tuple[str, dict]]) -> None:
        """Write stream entries in stream order, skipping any the ledger says were written: the
        records in one transaction, except that each request to forget a visitor (pulse.privacy.forget)
        is a transaction of its own between the records before and after it."""
        decoded = [(entry_id, decode_entry(fields[b"r"])) for entry_id, fields in entries]
        run: list[tuple[str, Entry]] = []
        for entry_id, entry in decoded:
            if entry.forget is None and entry.rebuild is None:
                run.append((entry_id, entry))
                continue
            if run:
                await self._write_records(run)
                run = []
            await (self._forget(entry_id, entry) if entry.forget is not None else self._rebuild(entry_id, entry))
        if run:
            await self._write_records(run)

    async def _unwritten(self, conn: asyncpg.Connection, ids: list[str]) -> set[str]:
        seen = {r["entry_id"] for r in await conn.fetch(
            "SELECT entry_id FROM ingest_ledger WHERE shard = $1 AND entry_id = ANY($2::text[])", self.shard, ids)}
        return set(ids) - seen  # the rest were written before a crash, never acknowledged

    async def _ledger(self, conn: asyncpg.Connection, written: list[tuple[str, UUID]]) -> None:
        if written:
            await conn.executemany("INSERT INTO ingest_ledger (shard, entry_id, project_id) VALUES ($1, $2, $3)",
                                   [(self.shard, entry_id, project_id) for entry_id, project_id in written])

    async def _write_records(self, entries: list[tuple[str, Entry]]) -> None:
        async def body(conn: asyncpg.Connection, staged: Staged) -> None:
            unwritten = await self._unwritten(conn, [entry_id for entry_id, _ in entries])
            by_project: dict[UUID, list[Record]] = defaultdict(list)
            written = []
            for entry_id, entry in entries:
                if entry_id in unwritten:
                    project_id = UUID(bytes=entry.project_id)
                    by_project[project_id].extend(entry.records)
                    written.append((entry_id, project_id))
            for project_id, records in by_project.items():
                await self.storage.store(conn, project_id, records, staged)
            await self._ledger(conn, written)

        await self.storage.transaction(body)

    async def _forget(self, entry_id: str, entry: Entry) -> None:
        """Forget a visitor; publish what was deleted (once committed) for the request to read."""
        from pulse.privacy import dsar, forget

        project_id = UUID(bytes=entry.project_id)
        counts: dict[str, int] | None = None

        async def body(conn: asyncpg.Connection, staged: Staged) -> None:
            nonlocal counts
            if entry_id in await self._unwritten(conn, [entry_id]) and await self.storage.project_exists(
                    conn, project_id):
                counts = await forget.forget(conn, self.storage, staged, project_id, entry.forget)
            await self._ledger(conn, [(entry_id, project_id)])

        await self.storage.transaction(body)
        if counts is not None:
            await dsar.publish(self.redis, entry.forget.request_id, counts)


    async def _rebuild(self, entry_id: str, entry: Entry) -> None:
        """Rebuild a day of a project's session rollups (pulse.ingest.backfill), in a transaction of its own."""
        from pulse.ingest import backfill

        project_id = UUID(bytes=entry.project_id)

        async def body(conn: asyncpg.Connection, staged: Staged) -> None:
            if entry_id in await self._unwritten(conn, [entry_id]) and await self.storage.project_exists(
                    conn, project_id):
                day = date.fromisoformat(entry.rebuild.day)
                await backfill.rebuild_day(conn, self.storage, staged, project_id, day)
            await self._ledger(conn, [(entry_id, project_id)])

        await self.storage.transaction(body)


async def run_writers(runtime: Runtime, stop: asyncio.Event) -> None:
    """Write every shard this process can lease, until `stop`; retry after failures."""
    consumer = f"writer-{secrets.token_hex(6)}"
    writers = [ShardWriter(runtime, shard, consumer) for shard in range(runtime.settings.ingest_shards)]
    backoff = 0.5
    last_lease = 0.0
    idle_turn = 0
    try:
        while not stop.is_set():
            try:
                if time.monotonic() - last_lease > LEASE_MS / 3000:
                    for writer in writers:
                        await writer.hold_lease()
                    last_lease = time.monotonic()
                owned = [w for w in writers if w.owned]
                if not owned:
                    await _wait(stop, 1.0)
                    continue
                # Read every owned shard without waiting; only when all are idle, wait on one of
                # them (in turn), so a busy shard never waits behind an idle one.
                written = 0
                for writer in owned:
                    written += await writer.step(block_ms=None)
                if not written:
                    idle_turn = (idle_turn + 1) % len(owned)
                    await owned[idle_turn].step(block_ms=200)
                backoff = 0.5
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("ingest batch failed; retrying", extra={"backoff_s": backoff})
                await _wait(stop, backoff)
                backoff = min(backoff * 2, 5.0)
    finally:
        for writer in writers:
            try:
                await writer.release()
            except Exception:  # Redis may be the reason we are stopping
                log.warning("could not release ingest lease", exc_info=True)


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass

