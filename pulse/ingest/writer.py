"""The writer: consumes the ingest stream in batches and stores them, exactly once.

Each shard's stream has one writer at a time (a Redis lease), so a project's sessions and
rollups have a single author and can be cached in memory. A batch is written in one
PostgreSQL transaction that also records the stream entry ids in `ingest_ledger`; entries
are acknowledged only after the commit. So:
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
from pyroaring import BitMap
from redis.exceptions import RedisError, ResponseError
from sqlalchemy import exc as sa_exc

from pulse.ingest import deadletters, partitions, sinks
from pulse.ingest.buffer import bytes_key, dead_key, stream_key
from pulse.ingest.records import Entry, Record, decode_entry
from pulse.ingest.rollups import COUNTERS, Deltas, Key
from pulse.ingest.sessionize import TIMEOUT, Activity, Session, apply, client_session_uuid
from pulse.lru import LRU
from pulse.observability import INGEST_BACKLOG, INGEST_DEAD_LETTERS, INGEST_WRITTEN
from pulse.runtime import Runtime

log = logging.getLogger("pulse.writer")

GROUP = "writers"
SETTLE_BYTES = 8 * 1024 * 1024  # dead letters' bytes per settle call (one Redis command)
LEASE_MS = 10_000
CACHE_LIMIT = 200_000

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


def to_datetime(micros: int) -> datetime:
    return datetime.fromtimestamp(micros / 1_000_000, UTC)


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
        self._reset_caches()

    def _reset_caches(self) -> None:
        # Only valid while this writer is the shard's sole author.
        self.visitor_nos = LRU(CACHE_LIMIT)  # (project, visitor_id) -> visitor_no
        self.sessions = LRU(CACHE_LIMIT)  # (project, visitor_no) -> (complete since, [Session])
        self.bitmaps = LRU(CACHE_LIMIT)  # (project, day, dim, value) -> BitMap
        self.timezones: dict[UUID, str] = {}
        self.months: set[date] = set()

    async def hold_lease(self) -> bool:
        """Take or renew the lease; a writer that loses it forgets what it cached."""
        key = lease_key(self.shard)
        if self.owned:
            self.owned = bool(await self._renew(keys=[key], args=[self.consumer, LEASE_MS]))
            if not self.owned:
                self._reset_caches()
            return self.owned
        if await self.redis.set(key, self.consumer, nx=True, px=LEASE_MS):
            self.owned = True
            self._reset_caches()
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
        """Write stream entries in one transaction, skipping any the ledger says were written."""

        async def body(conn: asyncpg.Connection, staged: _Staged) -> None:
            ids = [entry_id for entry_id, _ in entries]
            seen = {r["entry_id"] for r in await conn.fetch(
                "SELECT entry_id FROM ingest_ledger WHERE shard = $1 AND entry_id = ANY($2::text[])",
                self.shard, ids)}
            by_project: dict[UUID, list[Record]] = defaultdict(list)
            ledger = []
            for entry_id, fields in entries:
                if entry_id in seen:
                    continue  # written before a crash, never acknowledged
                entry: Entry = decode_entry(fields[b"r"])
                project_id = UUID(bytes=entry.project_id)
                by_project[project_id].extend(entry.records)
                ledger.append((self.shard, entry_id, project_id))
            for project_id, records in by_project.items():
                await self._write_records(conn, project_id, records, staged)
            if ledger:
                await conn.executemany(
                    "INSERT INTO ingest_ledger (shard, entry_id, project_id) VALUES ($1, $2, $3)", ledger)

        await self._transaction(body)

    async def write_records(self, project_id: UUID, records: list[Record]) -> None:
        """Write records that did not come through the stream (the demo data generator)."""
        await self._transaction(lambda conn, staged: self._write_records(conn, project_id, records, staged))

    async def _transaction(self, body) -> None:
        staged = _Staged()
        try:
            async with self.runtime.writer_engine.connect() as sa_conn:
                raw = await sa_conn.get_raw_connection()
                conn: asyncpg.Connection = raw.driver_connection
                async with conn.transaction():
                    await body(conn, staged)
        except BaseException:
            self._reset_caches()  # what was cached may describe rows that were rolled back
            raise
        staged.apply(self)
        for kind, count in staged.written.items():
            INGEST_WRITTEN.labels(kind).inc(count)

    async def _write_records(self, conn: asyncpg.Connection, project_id: UUID, records: list[Record],
                             staged: _Staged) -> None:
        if await self._project_exists(conn, project_id):
            await self._write_project(conn, project_id, records, staged)
            for r in records:
                staged.written[r.type] += 1

    async def _project_exists(self, conn: asyncpg.Connection, project_id: UUID) -> bool:
        if project_id not in self.timezones:
            tz = await conn.fetchval("SELECT timezone FROM projects WHERE id = $1", project_id)
            if tz is None:
                log.warning("dropping records of a deleted project", extra={"project_id": str(project_id)})
                return False
            self.timezones[project_id] = tz
        return True

    async def _write_project(self, conn: asyncpg.Connection, project_id: UUID, records: list[Record],
                             staged: _Staged) -> None:
        records.sort(key=lambda r: r.ts)
        bots = [r for r in records if r.type == "bot"]
        records = [r for r in records if r.type != "bot"]
        if bots:
            await sinks.count_bots(conn, project_id, bots, self.timezones[project_id])
        if not records:
            return
        await self._ensure_months(conn, records)
        numbers = await self._visitor_numbers(conn, project_id, records, staged)
        sessions = await self._sessionize(conn, project_id, records, numbers, staged)
        await sinks.store(conn, project_id, records, numbers, sessions.session_of)
        await sinks.upsert_sessions(conn, project_id, sessions.changed())
        await self._rollups(conn, project_id, sessions.deltas, staged)
        await sinks.identities(conn, project_id, [r for r in records if r.type == "identify"])

    async def _ensure_months(self, conn: asyncpg.Connection, records: list[Record]) -> None:
        months = {partitions.month_start(to_datetime(r.ts).date()) for r in (records[0], records[-1])}
        months = set(partitions.months_between(min(months), max(months))) - self.months
        if months:
            async with conn.transaction():  # a savepoint: the DDL joins the batch's transaction
                for month in sorted(months):
                    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('pulse.partitions'))")
                    for table in partitions.COLLECTED:
                        await conn.execute(partitions.ddl(table.name, month))
            self.months |= months

    async def _visitor_numbers(self, conn: asyncpg.Connection, project_id: UUID, records: list[Record],
                               staged: _Staged) -> dict[str, int]:
        wanted = {r.visitor_id for r in records if r.visitor_id is not None}
        numbers = {v: self.visitor_nos[(project_id, v)] for v in wanted if (project_id, v) in self.visitor_nos}
        missing = wanted - set(numbers)
        if missing:
            for row in await conn.fetch("SELECT visitor_id, visitor_no FROM visitors "
                                        "WHERE project_id = $1 AND visitor_id = ANY($2::text[])",
                                        project_id, list(missing)):
                numbers[row["visitor_id"]] = row["visitor_no"]
            new = sorted(missing - set(numbers))
            if new:
                last = await conn.fetchval(
                    "INSERT INTO visitor_counters (project_id, next_no) VALUES ($1, $2 + 1) "
                    "ON CONFLICT (project_id) DO UPDATE SET next_no = visitor_counters.next_no + $2 "
                    "RETURNING next_no", project_id, len(new))
                first_seen = {}
                for r in records:
                    first_seen.setdefault(r.visitor_id, to_datetime(r.ts))
                start = last - len(new)
                rows = [(project_id, visitor_id, start + i, first_seen[visitor_id]) for i, visitor_id in enumerate(new)]
                await conn.copy_records_to_table(
                    "visitors", records=rows, columns=["project_id", "visitor_id", "visitor_no", "first_seen_at"])
                numbers.update({visitor_id: no for _, visitor_id, no, _ in rows})
        staged.visitor_nos.update({(project_id, v): n for v, n in numbers.items()})
        return numbers

    async def _sessionize(self, conn: asyncpg.Connection, project_id: UUID, records: list[Record],
                          numbers: dict[str, int], staged: _Staged) -> _SessionBatch:
        batch = _SessionBatch(Deltas(tz=self.timezones[project_id]))
        active = [r for r in records if r.type in sinks.SESSION_TYPES]
        if not active:
            return batch
        # A visitor's cached sessions are complete from some instant on; activity that could join a
        # session ending before it (a late or backfilled event) sends us back to the table.
        earliest: dict[int, datetime] = {}
        for r in active:
            earliest.setdefault(numbers[r.visitor_id], to_datetime(r.ts))  # `active` is in time order
        known: dict[int, list[Session]] = {}
        complete: dict[int, datetime] = {}
        for v, first in earliest.items():
            cached = self.sessions.get((project_id, v))
            if cached is not None and first - TIMEOUT >= cached[0]:
                complete[v], known[v] = cached[0], [s.copy() for s in cached[1]]
        missing = set(earliest) - set(known)
        client_ids = {client_session_uuid(project_id, numbers[r.visitor_id], r.session) for r in active if r.session}
        if missing or client_ids:
            # Every session of these visitors ending after `low`: what the cache may then claim.
            low = min((earliest[v] for v in missing), default=to_datetime(active[0].ts)) - TIMEOUT
            rows = await conn.fetch(
                "SELECT * FROM sessions WHERE project_id = $1 AND ((visitor_no = ANY($2::bigint[]) "
                "AND ended_at >= $3) OR id = ANY($4::uuid[]))",
                project_id, list(missing), low, list(client_ids))
            for v in missing:
                known[v], complete[v] = [], low
            for row in rows:
                sessions = known.setdefault(row["visitor_no"], [])
                if all(s.id != row["id"] for s in sessions):
                    sessions.append(sinks.session_from_row(row))
        before = {s.id: s.copy() for sessions in known.values() for s in sessions}
        for r in active:
            visitor_no = numbers[r.visitor_id]
            activity = Activity(
                ts=to_datetime(r.ts), visitor_no=visitor_no, is_pageview=r.type in sinks.PAGEVIEW_TYPES,
                is_event=r.type == "event",
                path=r.path, attrs=sinks.origin_of(r),
                client_session=client_session_uuid(project_id, visitor_no, r.session) if r.session else None)
            session, page_time = apply(known[visitor_no], activity)
            batch.session_of[r.id] = session.id
            batch.touched[session.id] = session
            if activity.is_pageview:
                batch.deltas.pageview(activity.ts, visitor_no, r.path, r.hostname, session)
            elif r.type == "event":
                batch.deltas.event(activity.ts, visitor_no, r.data.name)
            if page_time is not None:
                batch.deltas.page_time(page_time)
        for session in batch.touched.values():
            if session.id in before:
                batch.deltas.session(before[session.id], -1)
            batch.deltas.session(session, +1)
        horizon = to_datetime(active[-1].ts) - 2 * TIMEOUT
        for v, sessions in known.items():
            # Keep what a late event could still join; older sessions live on in the table.
            since = max(complete.get(v, horizon), horizon)
            staged.sessions[(project_id, v)] = (since, [s for s in sessions if s.ended_at >= since])
        return batch

    async def _rollups(self, conn: asyncpg.Connection, project_id: UUID, deltas: Deltas, staged: _Staged) -> None:
        keys = deltas.keys()
        if not keys:
            return
        bitmap_keys = [k for k in deltas.visitors if (project_id, *k) not in self.bitmaps]
        loaded: dict[Key, BitMap] = {}
        if bitmap_keys:
            rows = await conn.fetch(
                "SELECT r.day, r.dimension, r.value, r.visitors FROM daily_rollups r "
                "JOIN unnest($2::date[], $3::text[], $4::text[]) AS k(day, dimension, value) "
                "ON r.day = k.day AND r.dimension = k.dimension AND r.value = k.value "
                "WHERE r.project_id = $1", project_id,
                [k[0] for k in bitmap_keys], [k[1] for k in bitmap_keys], [k[2] for k in bitmap_keys])
            loaded = {(r["day"], r["dimension"], r["value"]): BitMap.deserialize(r["visitors"]) for r in rows}
        rows = []
        for key in keys:
            counters = deltas.counters.get(key, [0] * len(COUNTERS))
            bitmap_bytes = None  # None: the stored bitmap stays as it is
            added = deltas.visitors.get(key)
            if added:
                cached = self.bitmaps.get((project_id, *key))
                stored = cached if cached is not None else loaded.get(key)
                bitmap = BitMap(stored) if stored is not None else BitMap()
                before = len(bitmap)
                bitmap.update(added)
                staged.bitmaps[(project_id, *key)] = bitmap
                if stored is None or len(bitmap) != before:
                    bitmap_bytes = bitmap.serialize()
            rows.append((project_id, *key, *counters, bitmap_bytes))
        await conn.executemany(sinks.ROLLUP_UPSERT, rows)


class _SessionBatch:
    def __init__(self, deltas: Deltas) -> None:
        self.deltas = deltas
        self.session_of: dict[bytes, UUID] = {}
        self.touched: dict[UUID, Session] = {}

    def changed(self) -> list[Session]:
        return list(self.touched.values())


class _Staged:
    """Cache updates that take effect only once the batch has committed."""

    def __init__(self) -> None:
        self.written: dict[str, int] = defaultdict(int)
        self.visitor_nos: dict = {}
        self.sessions: dict = {}
        self.bitmaps: dict = {}

    def apply(self, writer: ShardWriter) -> None:
        for target, values in ((writer.visitor_nos, self.visitor_nos), (writer.sessions, self.sessions),
                               (writer.bitmaps, self.bitmaps)):
            for key, value in values.items():
                target.put(key, value)


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

