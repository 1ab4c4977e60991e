"""One bad entry never stops a shard: the writer isolates it into the shard's dead letters, the
rest of the batch lands in order, exactly once; operators list, replay and drop dead letters."""

from __future__ import annotations

import io
import json
import os
import random
import subprocess
import sys
import time
import uuid
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from asgi_lifespan import LifespanManager
from sqlalchemy import exc as sa_exc

from pulse.ingest import deadletters, sinks
from pulse.ingest.buffer import bytes_key, dead_key, stream_key
from pulse.ingest.records import Entry, Record, encode_entry
from pulse.ingest.writer import GROUP, ShardWriter, retryable
from tests.helpers import CHROME, create_key, create_project, drain, key_header, make_app, rows

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest_asyncio.fixture(scope="module")
async def app(settings):
    """One shard: every project shares the writer a poison entry would wedge."""
    application = make_app(settings, ingest_shards=1)
    async with LifespanManager(application):
        yield application


@pytest_asyncio.fixture(scope="module")
async def projects(client) -> dict[str, dict]:
    found = {}
    for name in ("A", "B"):
        project = await create_project(client, name, f"{name.lower()}.test")
        key = (await create_key(client, project["id"], "ingest"))["key"]
        found[name] = {"id": project["id"], "headers": {**key_header(key), "User-Agent": CHROME}}
    return found


def cjk(n: int, seed: int = 1) -> str:
    rng = random.Random(seed)
    return "".join(chr(rng.randint(0x4E00, 0x9FFF)) for _ in range(n))


class Clock:
    """Increasing timestamps a minute ago, so the order of the entries is the order of time."""

    def __init__(self) -> None:
        self.ms = int(time.time() * 1000) - 600_000

    def next(self) -> int:
        self.ms += 1000
        return self.ms


async def send(client, project: dict, path: str, clock: Clock, visitor: str) -> None:
    response = await client.post("/api/collect", json={"type": "pageview", "path": path, "visitor_id": visitor,
                                                       "timestamp": clock.next()}, headers=project["headers"])
    assert response.status_code == 200, response.text


async def inject(app, project: dict, entry: bytes) -> None:
    """Straight into the stream, past validation, as if a bug had let it through."""
    await app.state.runtime.ingestor.buffer.append(uuid.UUID(project["id"]), entry)


def poison(project: dict, clock: Clock, path: str) -> bytes:
    record = Record(id=uuid.uuid4().bytes, type="pageview", ts=clock.next() * 1000, visitor_id="v-poison",
                    hostname="a.test", path=path)
    return encode_entry(Entry(uuid.UUID(project["id"]).bytes, [record]))


async def dead_letters(app) -> list[deadletters.DeadLetter]:
    return await deadletters.listing(app.state.runtime.stream_redis, 1)


async def paths(app, project: dict) -> list[str]:
    return [r["path"] for r in await rows(app, "SELECT path FROM pageviews WHERE project_id = :p ORDER BY ts",
                                          p=project["id"])]


async def cli(app, *args: str, **kwargs: Any) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = await deadletters.command(app.state.runtime.stream_redis, 1, *args, out=out, err=err, **kwargs)
    return status, out.getvalue(), err.getvalue()


async def test_a_poison_entry_between_good_ones_of_two_projects_is_dead_lettered_and_the_rest_lands(
        app, client, projects):
    a, b = projects["A"], projects["B"]
    clock = Clock()
    redis = app.state.runtime.stream_redis
    await send(client, a, "/a1", clock, "va")
    await send(client, b, "/b1", clock, "vb")
    await inject(app, a, poison(a, clock, "/" + cjk(1000)))  # index row too large for daily_rollups' key
    await send(client, a, "/a2", clock, "va")
    await send(client, b, "/b2", clock, "vb")
    await inject(app, b, b"\xc1 not msgpack")  # does not even decode
    await send(client, a, "/a3", clock, "va")
    stream = await redis.xrange(stream_key(0))
    assert len(stream) == 7
    assert int(await redis.get(bytes_key(0))) == sum(len(f[b"r"]) for _, f in stream)
    poison_ids = [stream[2][0].decode(), stream[5][0].decode()]

    assert await drain(app) == 7  # one batch of seven: split until the two bad ones are alone

    assert await paths(app, a) == ["/a1", "/a2", "/a3"]  # each once, and nothing of the poison
    assert await paths(app, b) == ["/b1", "/b2"]
    # Written in stream order: each visitor's pages make one session, entered and left where they should.
    for project, first, last, views in ((a, "/a1", "/a3", 3), (b, "/b1", "/b2", 2)):
        sessions = await rows(app, "SELECT entry_path, exit_path, pageviews FROM sessions WHERE project_id = :p",
                              p=project["id"])
        assert sessions == [{"entry_path": first, "exit_path": last, "pageviews": views}]
        site = await rows(app, "SELECT sum(pageviews) AS n FROM daily_rollups WHERE project_id = :p "
                               "AND dimension = '' AND value = ''", p=project["id"])
        assert site == [{"n": views}]
    ledger = await rows(app, "SELECT entry_id FROM ingest_ledger ORDER BY written_at, entry_id")
    good = [entry_id.decode() for entry_id, _ in stream if entry_id.decode() not in poison_ids]
    assert [r["entry_id"] for r in ledger] == good  # committed in stream order, each once

    letters = await dead_letters(app)
    assert [dl.entry_id for dl in letters] == poison_ids
    assert letters[0].entry == stream[2][1][b"r"] and letters[1].entry == stream[5][1][b"r"]  # the original bytes
    assert letters[0].error.startswith("ProgramLimitExceededError: index row size")
    assert "DecodeError" in letters[1].error or "ValidationError" in letters[1].error
    assert letters[0].decoded() == (a["id"], 1) and letters[1].decoded() == (None, None)
    assert letters[0].at.startswith(time.strftime("%Y-", time.gmtime()))
    # Nothing left behind: the stream is empty, nothing pending, and its byte count is back to zero.
    assert await redis.xlen(stream_key(0)) == 0
    assert (await redis.xpending(stream_key(0), GROUP))["pending"] == 0
    assert await redis.get(bytes_key(0)) is None

    ready = await client.get("/readyz")
    assert ready.status_code == 200  # a warning, not unreadiness
    assert ready.json()["status"] == "ready"
    assert ready.json()["dead_letters"] == {"total": 2, "by_shard": {"0": 2}}
    metrics = (await client.get("/metrics")).text
    assert 'pulse_ingest_dead_letters{shard="0"} 2.0' in metrics

    # list
    status, out, err = await cli(app, "list")
    assert status == 0 and err == "2 dead letters.\n"
    assert f"id {letters[0].id}  entry {poison_ids[0]}  project {a['id']}  records 1" in out
    assert "error: ProgramLimitExceededError: index row size" in out
    assert f"id {letters[1].id}  entry {poison_ids[1]}  project (undecodable)  records -" in out
    status, out, _ = await cli(app, "list", as_json=True)
    listed = json.loads(out)
    assert [(d["id"], d["entry_id"], d["project_id"], d["records"]) for d in listed] == [
        (letters[0].id, poison_ids[0], a["id"], 1), (letters[1].id, poison_ids[1], None, None)]

    # replay of a still-poisonous entry: back into the stream, then back to the dead letters
    status, _, err = await cli(app, "replay", letter_id=letters[0].id)
    assert (status, err) == (0, "Replayed 1 dead letter.\n")
    assert await redis.xlen(stream_key(0)) == 1 and len(await dead_letters(app)) == 1
    assert int(await redis.get(bytes_key(0))) == len(letters[0].entry)
    assert await drain(app) == 1
    again = await dead_letters(app)
    assert [dl.entry for dl in again] == [letters[1].entry, letters[0].entry]
    assert again[1].entry_id != poison_ids[0]  # a new stream entry, failing the same way
    assert again[1].error.startswith("ProgramLimitExceededError: index row size")
    assert await paths(app, a) == ["/a1", "/a2", "/a3"]

    # drop one, then the rest
    status, _, err = await cli(app, "drop", letter_id=again[0].id)
    assert (status, err) == (0, "Dropped 1 dead letter.\n")
    assert [dl.id for dl in await dead_letters(app)] == [again[1].id]
    status, _, err = await cli(app, "drop", letter_id=again[0].id)
    assert status == 1 and err == f"error: no dead letter {again[0].id}\n"
    status, _, err = await cli(app, "drop", every=True)
    assert (status, err) == (0, "Dropped 1 dead letter.\n")
    assert await dead_letters(app) == []
    assert (await client.get("/readyz")).json()["dead_letters"] == {"total": 0, "by_shard": {"0": 0}}


async def test_a_replayed_dead_letter_lands_once_its_cause_is_fixed(app, client, projects, monkeypatch):
    a = projects["A"]
    clock = Clock()
    store = sinks.store

    async def broken(conn, project_id, records, *args):
        if any(r.path == "/flaky" for r in records):
            raise ValueError("a bug in the writer")
        return await store(conn, project_id, records, *args)

    monkeypatch.setattr(sinks, "store", broken)
    await send(client, a, "/flaky", clock, "vf")
    await send(client, a, "/fine", clock, "vf")
    assert await drain(app) == 2
    assert "/fine" in await paths(app, a) and "/flaky" not in await paths(app, a)
    [letter] = await dead_letters(app)
    assert letter.error == "ValueError: a bug in the writer"

    monkeypatch.setattr(sinks, "store", store)  # the fix is deployed
    status, _, err = await cli(app, "replay", every=True)
    assert (status, err) == (0, "Replayed 1 dead letter.\n")
    assert await drain(app) == 1
    assert await dead_letters(app) == []
    assert (await paths(app, a)).count("/flaky") == 1


async def test_many_dead_letters_of_one_batch_are_settled_in_several_steps(app, client, projects, monkeypatch):
    from pulse.ingest import writer as writer_module

    monkeypatch.setattr(writer_module, "SETTLE_BYTES", 10)  # one dead letter per script call
    a = projects["A"]
    clock = Clock()
    await send(client, a, "/before-three", clock, "vm")
    for i in range(3):
        await inject(app, a, b"\xc1 bad " + bytes([i]) * 20)
    await send(client, a, "/after-three", clock, "vm")
    assert await drain(app) == 5
    letters = await dead_letters(app)
    assert [dl.entry[-1] for dl in letters] == [0, 1, 2]
    assert {"/before-three", "/after-three"} <= set(await paths(app, a))
    redis = app.state.runtime.stream_redis
    assert await redis.xlen(stream_key(0)) == 0 and await redis.get(bytes_key(0)) is None
    assert await cli(app, "drop", every=True) == (0, "", "Dropped 3 dead letters.\n")


async def test_cli_arguments_are_checked(app):
    assert await cli(app, "replay") == (2, "", "error: name one dead-letter id, or --all\n")
    assert await cli(app, "drop", letter_id="1-0", every=True) == (2, "", "error: name one dead-letter id, or --all\n")
    status, _, err = await cli(app, "drop", letter_id="nope")
    assert status == 2 and err.startswith("error: not a dead-letter id: 'nope'")
    status, _, err = await cli(app, "list", shard=3)
    assert status == 2 and err == "error: shard must be between 0 and 0 (PULSE_INGEST_SHARDS is 1)\n"


async def test_the_pulse_command_lists_replays_and_drops(app, settings):
    redis = app.state.runtime.stream_redis
    await redis.xadd(dead_key(0), {"id": "1-1", "r": b"\xc1", "error": "DecodeError: x", "at": "2026-01-01T00:00:00"})
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("PULSE_", "DATABASE_URL", "REDIS_URL"))},
           "REDIS_URL": settings.redis_url, "PULSE_INGEST_SHARDS": "1"}

    def pulse(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "pulse.cli", "ingest", "dead-letters", *args], env=env,
                              capture_output=True, text=True, timeout=60, cwd=ROOT)

    listed = pulse("list", "--json")
    assert listed.returncode == 0, listed.stderr
    [letter] = json.loads(listed.stdout)
    assert (letter["entry_id"], letter["error"], letter["project_id"]) == ("1-1", "DecodeError: x", None)
    assert pulse("replay").returncode == 2
    replayed = pulse("replay", letter["id"])
    assert replayed.returncode == 0 and replayed.stderr == "Replayed 1 dead letter.\n"
    assert [f[b"r"] for _, f in await redis.xrange(stream_key(0))] == [b"\xc1"]
    assert await drain(app) == 1  # still undecodable: a dead letter again
    dropped = pulse("drop", "--all")
    assert dropped.returncode == 0 and dropped.stderr == "Dropped 1 dead letter.\n"
    assert await redis.xlen(dead_key(0)) == 0


async def test_an_unreachable_database_is_retried_not_dead_lettered(app, client, projects, monkeypatch):
    a = projects["A"]
    clock = Clock()
    await send(client, a, "/retried", clock, "vr")
    writer = ShardWriter(app.state.runtime, 0, "flaky-network")
    assert await writer.hold_lease()
    write = writer.write
    failures = [ConnectionResetError("connection reset by peer"),
                asyncpg.exceptions.CannotConnectNowError("the database system is starting up")]

    async def unreachable(entries):
        if failures:
            raise failures.pop(0)
        await write(entries)

    monkeypatch.setattr(writer, "write", unreachable)
    try:
        for _ in range(2):
            with pytest.raises((OSError, asyncpg.exceptions.CannotConnectNowError)):
                await writer.step(block_ms=1)
            assert await app.state.runtime.stream_redis.xlen(stream_key(0)) == 1  # kept, pending
            assert await dead_letters(app) == []
        assert await writer.step(block_ms=1) == 1
    finally:
        await writer.release()
    assert await dead_letters(app) == []
    assert (await paths(app, a)).count("/retried") == 1


def _wrapped(orig: BaseException, cls=sa_exc.DBAPIError, **kw) -> BaseException:
    try:
        raise orig
    except BaseException as inner:
        try:
            raise cls("SELECT 1", {}, inner, **kw) from inner
        except BaseException as outer:
            return outer


@pytest.mark.parametrize(("error", "retry"), [
    (OSError("network unreachable"), True),
    (ConnectionRefusedError(111, "refused"), True),
    (TimeoutError(), True),
    (asyncpg.exceptions.CannotConnectNowError("starting up"), True),
    (asyncpg.exceptions.TooManyConnectionsError("too many clients"), True),
    (asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"), True),
    (asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation"), True),
    (asyncpg.exceptions.SerializationError("could not serialize access"), True),
    (asyncpg.exceptions.DeadlockDetectedError("deadlock detected"), True),
    (asyncpg.exceptions.DiskFullError("could not extend file"), True),
    (asyncpg.InterfaceError("connection is closed"), True),
    (_wrapped(asyncpg.exceptions.ConnectionFailureError("x"), sa_exc.OperationalError), True),
    (_wrapped(ValueError("x"), sa_exc.DBAPIError, connection_invalidated=True), True),
    (_wrapped(RuntimeError("no driver error"), sa_exc.InterfaceError), True),
    (asyncpg.exceptions.ProgramLimitExceededError("index row size 3048 exceeds btree version 4 maximum 2704"), False),
    (asyncpg.exceptions.DataError("invalid input syntax"), False),
    (asyncpg.exceptions.UniqueViolationError("duplicate key"), False),
    (asyncpg.exceptions.CharacterNotInRepertoireError("invalid byte sequence"), False),
    (asyncpg.exceptions._base.DataError("invalid input for query argument $1"), False),  # client side
    (_wrapped(asyncpg.exceptions._base.DataError("invalid input for query argument $2"), sa_exc.InterfaceError),
     False),
    (_wrapped(asyncpg.exceptions.IntegrityConstraintViolationError("x"), sa_exc.IntegrityError), False),
    (ValueError("bad entry"), False),
    (KeyError("America/Nowhere"), False),
    (OverflowError("date value out of range"), False),
])
def test_which_failures_are_retried(error, retry):
    assert retryable(error) is retry
