"""Batch storage: a project's records into PostgreSQL, in one transaction.

Given records for a project, `Storage` numbers their visitors, sessionizes them (numbering new
sessions), stores each type's rows (pulse.ingest.sinks), upserts the sessions, adds to the daily
rollups and to their per-session breakdown (pulse.ingest.sessionsets), counts bot hits and lets
modules store their own types (identify), all in the caller's transaction. It
caches visitor numbers, recent sessions and rollup bitmaps, which holds only while it is the
projects' sole author: the stream writer (writer.py) owns a shard by a lease; the demo writes
a project nobody else writes (pulse/demo.py). Cache updates take effect only after a commit;
a failed transaction forgets everything cached.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from uuid import UUID

import asyncpg
from pyroaring import BitMap
from sqlalchemy.ext.asyncio import AsyncEngine

from pulse.config import get_settings
from pulse.ingest import partitions, sinks
from pulse.ingest.records import Record
from pulse.ingest.rollups import COUNTERS, Deltas, Key
from pulse.ingest.sessionize import TIMEOUT, Activity, Session, apply, client_session_uuid
from pulse.ingest.sessionsets import CHUNK, SessionValues, counted
from pulse.lru import LRU, WeighedLRU
from pulse.observability import INGEST_WRITTEN
from pulse.timestamps import from_micros

log = logging.getLogger("pulse.writer")

CACHE_LIMIT = 200_000


class Staged:
    """Cache updates that take effect only once the batch has committed."""

    def __init__(self) -> None:
        self.written: dict[str, int] = defaultdict(int)
        self.visitor_nos: dict = {}
        self.sessions: dict = {}
        self.bitmaps: dict = {}
        self.session_sets: dict = {}
        self.forgotten: list[tuple[UUID, str, int | None]] = []  # (project, visitor_id, visitor_no)

    def apply(self, storage: Storage) -> None:
        for target, values in ((storage.visitor_nos, self.visitor_nos), (storage.sessions, self.sessions),
                               (storage.bitmaps, self.bitmaps)):
            for key, value in values.items():
                target.put(key, value)
        for key, (value, weight) in self.session_sets.items():
            storage.session_sets.put(key, value, weight)
        for project_id, visitor_id, visitor_no in self.forgotten:
            storage.visitor_nos.pop((project_id, visitor_id), None)
            storage.sessions.pop((project_id, visitor_no), None)


Body = Callable[[asyncpg.Connection, Staged], Awaitable[None]]


class Storage:
    """Stores batches of records; see the module docstring."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.reset()

    def reset(self) -> None:
        """Forget everything cached (it may describe rows another author changed, or rolled back)."""
        self.visitor_nos = LRU(CACHE_LIMIT)  # (project, visitor_id) -> visitor_no
        self.sessions = LRU(CACHE_LIMIT)  # (project, visitor_no) -> (complete since, [Session])
        self.bitmaps = LRU(CACHE_LIMIT)  # (project, day, dim, value) -> BitMap
        # (project, (day, dim, value), counter) -> SessionValues, bounded by their serialized size
        self.session_sets = WeighedLRU(get_settings().session_cache_mb << 20)
        self.timezones: dict[UUID, str] = {}
        self.months: set[date] = set()

    async def write(self, project_id: UUID, records: list[Record]) -> None:
        """Store one project's records in a transaction of their own."""
        await self.transaction(lambda conn, staged: self.store(conn, project_id, records, staged))

    async def transaction(self, body: Body) -> None:
        """Run `body(conn, staged)` in one transaction of the writer engine; apply `staged` after
        the commit, forget the caches if it fails."""
        staged = Staged()
        try:
            async with self.engine.connect() as sa_conn:
                raw = await sa_conn.get_raw_connection()
                conn: asyncpg.Connection = raw.driver_connection
                async with conn.transaction():
                    await body(conn, staged)
        except BaseException:
            self.reset()  # what was cached may describe rows that were rolled back
            raise
        staged.apply(self)
        for kind, count in staged.written.items():
            INGEST_WRITTEN.labels(kind).inc(count)

    async def store(self, conn: asyncpg.Connection, project_id: UUID, records: list[Record],
                    staged: Staged) -> None:
        """Store one project's records in the connection's transaction (nothing for a deleted project)."""
        if await self.project_exists(conn, project_id):
            await self._write_project(conn, project_id, records, staged)
            for r in records:
                staged.written[r.type] += 1

    async def project_exists(self, conn: asyncpg.Connection, project_id: UUID) -> bool:
        if project_id not in self.timezones:
            tz = await conn.fetchval("SELECT timezone FROM projects WHERE id = $1", project_id)
            if tz is None:
                log.warning("dropping records of a deleted project", extra={"project_id": str(project_id)})
                return False
            self.timezones[project_id] = tz
        return True

    async def _write_project(self, conn: asyncpg.Connection, project_id: UUID, records: list[Record],
                             staged: Staged) -> None:
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
        await sinks.store_own(conn, project_id, records)

    async def _ensure_months(self, conn: asyncpg.Connection, records: list[Record]) -> None:
        months = {partitions.month_start(from_micros(r.ts).date()) for r in (records[0], records[-1])}
        months = set(partitions.months_between(min(months), max(months))) - self.months
        if months:
            async with conn.transaction():  # a savepoint: the DDL joins the batch's transaction
                for month in sorted(months):
                    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('pulse.partitions'))")
                    for table in partitions.collected_tables():
                        await conn.execute(partitions.ddl(table.name, month))
            self.months |= months

    async def _visitor_numbers(self, conn: asyncpg.Connection, project_id: UUID, records: list[Record],
                               staged: Staged) -> dict[str, int]:
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
                    first_seen.setdefault(r.visitor_id, from_micros(r.ts))
                start = last - len(new)
                rows = [(project_id, visitor_id, start + i, first_seen[visitor_id]) for i, visitor_id in enumerate(new)]
                await conn.copy_records_to_table(
                    "visitors", records=rows, columns=["project_id", "visitor_id", "visitor_no", "first_seen_at"])
                numbers.update({visitor_id: no for _, visitor_id, no, _ in rows})
        staged.visitor_nos.update({(project_id, v): n for v, n in numbers.items()})
        return numbers

    async def _sessionize(self, conn: asyncpg.Connection, project_id: UUID, records: list[Record],
                          numbers: dict[str, int], staged: Staged) -> SessionBatch:
        batch = SessionBatch(Deltas(tz=self.timezones[project_id]))
        session_types = sinks.session_types()
        active = [r for r in records if r.type in session_types]
        if not active:
            return batch
        # A visitor's cached sessions are complete from some instant on; activity that could join a
        # session ending before it (a late or backfilled event) sends us back to the table.
        earliest: dict[int, datetime] = {}
        for r in active:
            earliest.setdefault(numbers[r.visitor_id], from_micros(r.ts))  # `active` is in time order
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
            low = min((earliest[v] for v in missing), default=from_micros(active[0].ts)) - TIMEOUT
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
                ts=from_micros(r.ts), visitor_no=visitor_no, is_pageview=r.type in sinks.PAGEVIEW_TYPES,
                is_event=r.type == "event",
                path=r.path, attrs=sinks.origin_of(r),
                client_session=client_session_uuid(project_id, visitor_no, r.session) if r.session else None)
            session, page_time = apply(known[visitor_no], activity)
            batch.session_of[r.id] = session.id
            batch.touched[session.id] = session
            if activity.is_pageview:
                batch.deltas.pageview(activity.ts, visitor_no, r.path, r.hostname, session)
            elif r.type == "event":
                batch.deltas.event(activity.ts, visitor_no, r.data.name, session)
            if page_time is not None:
                batch.deltas.page_time(page_time, session)
        await self._number_sessions(conn, project_id, [s for s in batch.touched.values() if not s.no])
        for session in batch.touched.values():
            if session.id in before:
                batch.deltas.session(before[session.id], -1)
            batch.deltas.session(session, +1)
        horizon = from_micros(active[-1].ts) - 2 * TIMEOUT
        for v, sessions in known.items():
            # Keep what a late event could still join; older sessions live on in the table.
            since = max(complete.get(v, horizon), horizon)
            staged.sessions[(project_id, v)] = (since, [s for s in sessions if s.ended_at >= since])
        return batch

    async def _number_sessions(self, conn: asyncpg.Connection, project_id: UUID, new: list[Session]) -> None:
        """Number the batch's new sessions (in start order) and note each one's visitor."""
        if not new:
            return
        last = await conn.fetchval(
            "INSERT INTO visitor_counters (project_id, next_no, next_session_no) VALUES ($1, 1, $2 + 1) "
            "ON CONFLICT (project_id) DO UPDATE SET next_session_no = visitor_counters.next_session_no + $2 "
            "RETURNING next_session_no", project_id, len(new))
        new.sort(key=lambda s: s.started_at)
        for no, session in enumerate(new, last - len(new)):
            session.no = no
        chunks: dict[int, list[Session]] = defaultdict(list)
        for session in new:
            chunks[session.no // CHUNK].append(session)
        # Each chunk's bytes up to its first new session are kept (zeros fill any gap), then appended to.
        await conn.executemany(
            "INSERT INTO session_visitors AS v (project_id, chunk, visitors) "
            "VALUES ($1, $2, decode(repeat('00', $3 * 4), 'hex') || $4) ON CONFLICT (project_id, chunk) DO UPDATE "
            "SET visitors = substring(v.visitors FROM 1 FOR $3 * 4) "
            "|| decode(repeat('00', greatest(0, $3 * 4 - length(v.visitors))), 'hex') || $4",
            [(project_id, chunk, sessions[0].no % CHUNK, _packed(sessions)) for chunk, sessions in chunks.items()])

    async def _rollups(self, conn: asyncpg.Connection, project_id: UUID, deltas: Deltas, staged: Staged) -> None:
        await self._session_rollups(conn, project_id, deltas.session_values(), staged)
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


    async def _session_values(self, conn: asyncpg.Connection, project_id: UUID, targets: list[tuple[Key, str]],
                              *, lock: bool = False) -> dict[tuple[Key, str], SessionValues]:
        """The stored session values of each (row key, counter), from the cache or the table (a copy)."""
        found = {t: self.session_sets.get((project_id, *t)) for t in targets}
        missing = [t for t, v in found.items() if v is None]
        if missing:
            rows = await conn.fetch(
                "SELECT r.day, r.dimension, r.value, r.counter, r.bitmaps FROM session_rollups r "
                "JOIN unnest($2::date[], $3::text[], $4::text[], $5::text[]) AS k(day, dimension, value, counter) "
                "ON r.dimension = k.dimension AND r.day = k.day AND r.value = k.value AND r.counter = k.counter "
                f"WHERE r.project_id = $1{' FOR UPDATE OF r' if lock else ''}", project_id,
                [t[0][0] for t in missing], [t[0][1] for t in missing], [t[0][2] for t in missing],
                [t[1] for t in missing])
            for r in rows:
                found[((r["day"], r["dimension"], r["value"]), r["counter"])] = SessionValues.load(r["bitmaps"])
        return {t: v.copy() if v is not None else SessionValues() for t, v in found.items()}

    async def _session_rollups(self, conn: asyncpg.Connection, project_id: UUID,
                               changes: dict[tuple[Key, str], dict[int, int]], staged: Staged) -> None:
        """Apply each row's per-session changes (pulse.ingest.sessionsets); rows left empty go."""
        targets = [t for t, c in changes.items() if any(c.values())]
        if not targets:
            return
        values = await self._session_values(conn, project_id, targets)
        for target, stored in values.items():
            stored.apply(changes[target], counted(target[0][1], target[1]))
        await self.write_session_values(conn, project_id, values, staged)

    async def write_session_values(self, conn: asyncpg.Connection, project_id: UUID,
                                    values: dict[tuple[Key, str], SessionValues], staged: Staged) -> None:
        """Store these session rollup rows as they now are (an empty one is deleted); cache them once committed."""
        dumped = {target: v.dump() for target, v in values.items() if v.members}
        kept = [(project_id, *key, counter, parts) for (key, counter), parts in dumped.items()]
        gone = [(key, counter) for (key, counter), v in values.items() if not v.members]
        if kept:
            await conn.executemany(
                "INSERT INTO session_rollups (project_id, day, dimension, value, counter, bitmaps) "
                "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (project_id, dimension, day, value, counter) "
                "DO UPDATE SET bitmaps = excluded.bitmaps", kept)
        if gone:
            await conn.execute(
                "DELETE FROM session_rollups r "
                "USING unnest($2::date[], $3::text[], $4::text[], $5::text[]) AS k(day, dimension, value, counter) "
                "WHERE r.project_id = $1 AND r.dimension = k.dimension AND r.day = k.day AND r.value = k.value "
                "AND r.counter = k.counter", project_id, [g[0][0] for g in gone], [g[0][1] for g in gone],
                [g[0][2] for g in gone], [g[1] for g in gone])
        for target, v in values.items():
            staged.session_sets[(project_id, *target)] = (v, sum(map(len, dumped.get(target, ()))))

    async def take_back_sessions(self, conn: asyncpg.Connection, project_id: UUID, sessions: list[Session],
                                 deltas: Deltas, staged: Staged) -> int:
        """Take a forgotten visitor's sessions out of the session rollups and the visitor map.
        Returns how many session rollup rows changed."""
        numbers = BitMap(s.no for s in sessions if s.no)
        targets = list(deltas.session_values())
        if not numbers or not targets:
            return 0
        values = await self._session_values(conn, project_id, targets, lock=True)
        for v in values.values():
            v.remove(numbers)
        await self.write_session_values(conn, project_id, values, staged)
        await conn.executemany(
            "UPDATE session_visitors SET visitors = overlay(visitors PLACING '\\x00000000'::bytea FROM $3 * 4 + 1) "
            "WHERE project_id = $1 AND chunk = $2 AND length(visitors) > $3 * 4",
            [(project_id, no // CHUNK, no % CHUNK) for no in numbers])
        return len(values)

    async def take_back(self, conn: asyncpg.Connection, project_id: UUID, visitor_no: int, deltas: Deltas,
                        staged: Staged) -> int:
        """Take a forgotten visitor's contribution (`deltas`, as their rows once added it) out of the
        rollups: its counters subtracted, the visitor's number removed from the bitmaps, rows left
        with nothing deleted. Returns how many rollup rows changed."""
        keys = sorted(deltas.keys())
        if not keys:
            return 0
        rows = await conn.fetch(
            f"SELECT r.day, r.dimension, r.value, {', '.join(f'r.{c}' for c in COUNTERS)}, r.visitors "
            "FROM daily_rollups r JOIN unnest($2::date[], $3::text[], $4::text[]) AS k(day, dimension, value) "
            "ON r.day = k.day AND r.dimension = k.dimension AND r.value = k.value "
            "WHERE r.project_id = $1 FOR UPDATE OF r", project_id,
            [k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys])
        updates, deletes = [], []
        for row in rows:
            key: Key = (row["day"], row["dimension"], row["value"])
            taken = deltas.counters.get(key, [0] * len(COUNTERS))
            # Never below zero: a count the visitor's rows cannot fully explain stays at zero.
            counters = [max(0, row[c] - amount) for c, amount in zip(COUNTERS, taken, strict=True)]
            bitmap = BitMap.deserialize(row["visitors"])
            bitmap.discard(visitor_no)
            staged.bitmaps[(project_id, *key)] = bitmap
            if not any(counters) and not bitmap:
                deletes.append(key)
            else:
                updates.append((project_id, *key, *counters, bitmap.serialize()))
        if updates:
            await conn.executemany(
                f"UPDATE daily_rollups SET {', '.join(f'{c} = ${i}' for i, c in enumerate(COUNTERS, 5))}, "
                f"visitors = ${len(COUNTERS) + 5} WHERE project_id = $1 AND day = $2 AND dimension = $3 "
                "AND value = $4", updates)
        if deletes:
            await conn.execute(
                "DELETE FROM daily_rollups r "
                "USING unnest($2::date[], $3::text[], $4::text[]) AS k(day, dimension, value) "
                "WHERE r.project_id = $1 AND r.day = k.day AND r.dimension = k.dimension AND r.value = k.value",
                project_id, [k[0] for k in deletes], [k[1] for k in deletes], [k[2] for k in deletes])
        return len(rows)


def _packed(sessions: list[Session]) -> bytes:
    """Consecutive sessions' visitor numbers, as session_visitors packs them."""
    return b"".join(s.visitor_no.to_bytes(4, "big") for s in sessions)


class SessionBatch:
    """What sessionizing a batch gives: each record's session, the sessions it touched, rollup deltas."""

    def __init__(self, deltas: Deltas) -> None:
        self.deltas = deltas
        self.session_of: dict[bytes, UUID] = {}
        self.touched: dict[UUID, Session] = {}

    def changed(self) -> list[Session]:
        return list(self.touched.values())
