"""Data subject requests: everything Pulse holds about one visitor, exported or deleted.

Both cover every table of pulse.privacy.registry (so a module's new table is never forgotten).

Export streams one JSON document, read in one repeatable-read snapshot, a table at a time with a
cursor (a visitor with millions of rows costs no memory):

    {"visitor_id": ..., "project_id": ..., "exported_at": ...,
     "tables": {"<table>": [<row>, ...], ...}, "counts": {"<table>": n, ...}}

Each row is the table's columns as JSON (timestamps in UTC, ISO 8601), without `project_id`.

Delete appends a `Forget` entry to the project's ingest shard (pulse.privacy.forget says why and
what the writer does), then waits for the writer's answer, pushed to a Redis list the request
blocks on, up to `PULSE_DSAR_WAIT_SECONDS`: 200 with the rows deleted per table, or 202 when the
writer is behind (it deletes them when it gets there; the audit entry records what it deleted).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg
import redis.asyncio as aioredis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from pulse import audit, errors
from pulse.auth import Caller
from pulse.ingest.fields import Invalid, ident
from pulse.ingest.records import Entry, Forget, encode_entry
from pulse.privacy.registry import Visitor, locate, visitor_tables
from pulse.runtime import Runtime
from pulse.timestamps import iso_utc

RESULT_TTL_SECONDS = 3600


def visitor_id_of(value: str) -> str:
    """The path's visitor id, checked as ingestion checks one."""
    try:
        visitor_id = ident(value, "visitor_id")
    except Invalid as exc:
        raise errors.BadRequest(f"Invalid visitor id: {exc}") from exc
    if visitor_id is None:
        raise errors.BadRequest("Invalid visitor id: it must not be empty.")
    return visitor_id


def _not_found(visitor_id: str) -> errors.NotFound:
    return errors.NotFound(f"Visitor '{visitor_id}' not found.")


# -- export ------------------------------------------------------------------------------------

async def _holds(conn: asyncpg.Connection, visitor: Visitor) -> bool:
    if visitor.visitor_no is not None:
        return True
    for vt in visitor_tables():
        where = vt.where(visitor)
        if where is not None and await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {vt.name} WHERE {where[0]})",
                                                     *where[1]):
            return True
    return False


async def export(engine: AsyncEngine, project_id: UUID, visitor_id: str) -> AsyncIterator[bytes]:
    """The export document in chunks; raises NotFound (before the first chunk) when Pulse holds
    nothing about the visitor. Iterate it to the end: it holds a connection meanwhile."""
    # SQLAlchemy owns the transaction (so returning the connection to the pool always ends it);
    # the rows are read through the driver's cursor.
    sa_conn = await engine.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True).connect()
    try:
        await sa_conn.begin()
        await sa_conn.execute(text("SET LOCAL TimeZone = 'UTC'"))  # the first statement opens it
        conn: asyncpg.Connection = (await sa_conn.get_raw_connection()).driver_connection
        visitor, _ = await locate(conn, project_id, visitor_id)
        if not await _holds(conn, visitor):
            raise _not_found(visitor_id)
    except BaseException:
        await sa_conn.close()
        raise
    return _document(sa_conn, conn, visitor)


async def _document(sa_conn, conn: asyncpg.Connection, visitor: Visitor) -> AsyncIterator[bytes]:
    try:
        head = {"visitor_id": visitor.visitor_id, "project_id": str(visitor.project_id),
                "exported_at": iso_utc(datetime.now(UTC))}
        yield json.dumps(head)[:-1].encode() + b', "tables": {'
        counts: dict[str, int] = {}
        for n, vt in enumerate(visitor_tables()):
            yield (", " if n else "").encode() + json.dumps(vt.name).encode() + b": ["
            counts[vt.name] = 0
            where = vt.where(visitor)
            if where is not None:
                sql = (f"SELECT (to_jsonb(t) - 'project_id')::text FROM {vt.name} t WHERE {where[0]} "
                       f"ORDER BY {', '.join(c.name for c in vt.table.primary_key.columns)}")
                chunk: list[str] = []
                async for (row,) in conn.cursor(sql, *where[1], prefetch=500):
                    chunk.append(row)
                    if len(chunk) == 500:
                        yield ((", " if counts[vt.name] else "") + ", ".join(chunk)).encode()
                        counts[vt.name] += len(chunk)
                        chunk = []
                if chunk:
                    yield ((", " if counts[vt.name] else "") + ", ".join(chunk)).encode()
                    counts[vt.name] += len(chunk)
            yield b"]"
        yield b'}, "counts": ' + json.dumps(counts).encode() + b"}"
    finally:
        await sa_conn.close()  # rolls the read-only transaction back


async def export_document(engine: AsyncEngine, project_id: UUID, visitor_id: str) -> dict[str, Any]:
    """The whole export as one value (GraphQL's answer, which cannot stream)."""
    return json.loads(b"".join([chunk async for chunk in await export(engine, project_id, visitor_id)]))


async def audit_export(session: AsyncSession, caller: Caller, visitor_id: str) -> None:
    await audit.record(session, caller, "dsar.export", "visitor", visitor_id)


# -- delete ------------------------------------------------------------------------------------

def _result_key(request_id: str) -> str:
    return f"pulse:dsar:{request_id}"


async def publish(redis: aioredis.Redis, request_id: str, counts: dict[str, int]) -> None:
    """The writer's answer to one delete request (pulse.ingest.writer, after its commit)."""
    key = _result_key(request_id)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.rpush(key, json.dumps(counts))
        pipe.expire(key, RESULT_TTL_SECONDS)
        await pipe.execute()


async def delete(runtime: Runtime, caller: Caller, visitor_id: str) -> tuple[bool, dict[str, Any]]:
    """Ask the writer to forget the visitor; `(done, answer)`: done once it has, with the rows
    deleted per table, else (after the wait) pending."""
    request_id = f"dsar-{uuid.uuid4()}"
    actor_type, actor_id = audit.actor(caller)
    request = Forget(visitor_id=visitor_id, request_id=request_id, actor_type=actor_type,
                     actor_id=str(actor_id) if actor_id else None)
    entry = encode_entry(Entry(project_id=caller.project_id.bytes, records=[], forget=request))
    await runtime.ingestor.buffer.append(caller.project_id, entry, bounded=False)
    answer: dict[str, Any] = {"visitor_id": visitor_id, "request_id": request_id}
    wait = runtime.settings.dsar_wait_seconds
    result = await runtime.redis.blpop([_result_key(request_id)], timeout=wait) if wait > 0 else None
    if result is None:
        return False, {**answer, "status": "pending", "deleted": None}
    return True, {**answer, "status": "deleted", "deleted": json.loads(result[1])}
