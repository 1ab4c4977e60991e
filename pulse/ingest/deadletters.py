"""Dead letters: stream entries the writer could not store, kept per shard for an operator.

A batch is written in one transaction. When PostgreSQL (or the writer's own code) refuses it
for a reason other than the database being unreachable (`pulse.ingest.writer.retryable`), the
writer splits it in halves, each its own transaction, in order, down to the entries that fail
alone. Each of those goes to the shard's dead-letter stream, `pulse:{ingest-<n>}:dead`, with
its original bytes, its stream id, the error and the time, in the same atomic step that removes
it from the main stream; every other entry commits. So one bad entry can never stop a shard.

`pulse ingest dead-letters list|replay|drop` (pulse.cli) works on them through this module.
A replayed entry goes back to the end of its shard's stream, as a new entry; if it still fails,
it comes back here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TextIO
from uuid import UUID

import redis.asyncio as aioredis

from pulse.ingest.buffer import bytes_key, dead_key, stream_key
from pulse.ingest.records import decode_entry

#: Characters of an error kept with a dead letter (its class and message).
ERROR_CHARS = 1000
_ID = re.compile(r"^[0-9]{1,20}-[0-9]{1,20}$")
_CHUNK = 100


def describe(exc: BaseException) -> str:
    """`Class: message`, cut to ERROR_CHARS."""
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= ERROR_CHARS else text[:ERROR_CHARS - 1] + "…"


def letter(entry_id: str, entry: bytes, exc: BaseException, at: datetime) -> list[str | bytes]:
    """A dead letter's fields, flat, as the writer's settle script takes them."""
    return [entry_id, entry, describe(exc), at.isoformat(timespec="milliseconds")]


@dataclass
class DeadLetter:
    shard: int
    id: str  # its id in the dead-letter stream: what replay and drop take
    entry_id: str  # its id in the main stream when it failed
    at: str
    error: str
    entry: bytes

    @classmethod
    def parse(cls, shard: int, letter_id: bytes | str, fields: dict) -> DeadLetter:
        def text(name: str) -> str:
            value = fields.get(name.encode(), fields.get(name, b""))
            return value.decode(errors="replace") if isinstance(value, bytes) else str(value)

        entry = fields.get(b"r", fields.get("r", b""))
        return cls(shard=shard, id=letter_id.decode() if isinstance(letter_id, bytes) else letter_id,
                   entry_id=text("id"), at=text("at"), error=text("error"),
                   entry=entry if isinstance(entry, bytes) else entry.encode())

    def decoded(self) -> tuple[str | None, int | None]:
        """The entry's project id and number of records; (None, None) when it does not decode."""
        try:
            entry = decode_entry(self.entry)
            return str(UUID(bytes=entry.project_id)), len(entry.records)
        except Exception:  # a dead letter may be there because it does not decode
            return None, None

    def as_dict(self) -> dict:
        project, records = self.decoded()
        return {"shard": self.shard, "id": self.id, "entry_id": self.entry_id, "project_id": project,
                "records": records, "at": self.at, "error": self.error, "bytes": len(self.entry)}


async def counts(redis: aioredis.Redis, shards: int) -> dict[int, int]:
    """Dead letters per shard, in one round trip."""
    async with redis.pipeline(transaction=False) as pipe:
        for shard in range(shards):
            pipe.xlen(dead_key(shard))
        return dict(enumerate(await pipe.execute()))


def _shards(shards: int, shard: int | None) -> Iterable[int]:
    if shard is None:
        return range(shards)
    if not 0 <= shard < shards:
        raise ValueError(f"shard must be between 0 and {shards - 1} (PULSE_INGEST_SHARDS is {shards})")
    return [shard]


async def listing(redis: aioredis.Redis, shards: int, *, shard: int | None = None,
                  limit: int = 100) -> list[DeadLetter]:
    """The oldest `limit` dead letters of each shard asked for."""
    found = []
    for s in _shards(shards, shard):
        found += [DeadLetter.parse(s, i, f) for i, f in await redis.xrange(dead_key(s), count=limit)]
    return found


async def _selected(redis: aioredis.Redis, shards: int, letter_id: str | None, shard: int | None):
    """Chunks of dead letters: the one named, or (None) every one there when we started, so an
    entry that fails again during a replay is not replayed twice."""
    if letter_id is not None and not _ID.match(letter_id):
        raise ValueError(f"not a dead-letter id: {letter_id!r} (see `pulse ingest dead-letters list`)")
    for s in _shards(shards, shard):
        key = dead_key(s)
        if letter_id is not None:
            rows = await redis.xrange(key, min=letter_id, max=letter_id)
            if rows:
                yield [DeadLetter.parse(s, i, f) for i, f in rows]
            continue
        last = await redis.xrevrange(key, count=1)
        if not last:
            continue
        end, start = last[0][0], "-"
        while rows := await redis.xrange(key, min=start, max=end, count=_CHUNK):
            yield [DeadLetter.parse(s, i, f) for i, f in rows]
            start = "(" + (rows[-1][0].decode() if isinstance(rows[-1][0], bytes) else rows[-1][0])


async def replay(redis: aioredis.Redis, shards: int, *, letter_id: str | None = None,
                 shard: int | None = None) -> int:
    """Move dead letters back to the end of their shard's stream, for the writer; return how many.
    Each move is one MULTI (the keys share a hash tag): an entry is never in both or in neither."""
    moved = 0
    async for letters in _selected(redis, shards, letter_id, shard):
        s = letters[0].shard
        async with redis.pipeline(transaction=True) as pipe:
            for dl in letters:
                pipe.xadd(stream_key(s), {"r": dl.entry})
                pipe.incrby(bytes_key(s), len(dl.entry))
                pipe.xdel(dead_key(s), dl.id)
            await pipe.execute()
        moved += len(letters)
    return moved


async def drop(redis: aioredis.Redis, shards: int, *, letter_id: str | None = None,
               shard: int | None = None) -> int:
    """Delete dead letters for good; return how many."""
    dropped = 0
    async for letters in _selected(redis, shards, letter_id, shard):
        dropped += await redis.xdel(dead_key(letters[0].shard), *[dl.id for dl in letters])
    return dropped


async def command(redis: aioredis.Redis, shards: int, action: str, *, letter_id: str | None = None,
                  every: bool = False, shard: int | None = None, limit: int = 100, as_json: bool = False,
                  out: TextIO, err: TextIO) -> int:
    """`pulse ingest dead-letters <action>`; returns the exit status."""
    try:
        if action == "list":
            letters = await listing(redis, shards, shard=shard, limit=limit)
            total = sum((await counts(redis, shards)).values()) if shard is None else \
                await redis.xlen(dead_key(shard))
            if as_json:
                out.write(json.dumps([dl.as_dict() for dl in letters], indent=2) + "\n")
            else:
                for dl in letters:
                    project, records = dl.decoded()
                    out.write(f"shard {dl.shard}  id {dl.id}  entry {dl.entry_id}  "
                              f"project {project or '(undecodable)'}  records {records if records is not None else '-'}"
                              f"  at {dl.at}\n    error: {dl.error}\n")
            shown = f" (showing {len(letters)})" if len(letters) < total else ""
            err.write(f"{total} dead letter{'s' if total != 1 else ''}{shown}.\n")
            return 0
        if (letter_id is None) == (not every):
            err.write("error: name one dead-letter id, or --all\n")
            return 2
        if action == "replay":
            n = await replay(redis, shards, letter_id=letter_id, shard=shard)
            verb = "Replayed"
        else:
            n = await drop(redis, shards, letter_id=letter_id, shard=shard)
            verb = "Dropped"
        if letter_id is not None and n == 0:
            err.write(f"error: no dead letter {letter_id}\n")
            return 1
        err.write(f"{verb} {n} dead letter{'s' if n != 1 else ''}.\n")
        return 0
    except ValueError as exc:
        err.write(f"error: {exc}\n")
        return 2
