"""One PostgreSQL and one Redis for the whole run; a fresh database per test module.

Servers: PULSE_TEST_DATABASE_URL / PULSE_TEST_REDIS_URL, else DATABASE_URL / REDIS_URL, else the
embedded ones Pulse itself starts (in a temporary directory). The database URL names a server
we may create databases on; the Redis URL's logical database is flushed before each module.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import redis as sync_redis
from asgi_lifespan import LifespanManager
from sqlalchemy.engine import make_url

from pulse.config import Settings
from pulse.migrate import upgrade
from tests.helpers import ADMIN_TOKEN, make_app


def _server_urls(tmp_root: Path) -> tuple[str, str, Any]:
    from pulse.embedded import embedded_services

    db = os.environ.get("PULSE_TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
    rd = os.environ.get("PULSE_TEST_REDIS_URL") or os.environ.get("REDIS_URL")
    warnings.filterwarnings("ignore", module="platformdirs")
    services = embedded_services(tmp_root, postgres=db is None, redis=rd is None)
    urls = services.__enter__()
    db = Settings(DATABASE_URL=db or urls["DATABASE_URL"]).database_url
    return db, rd or urls["REDIS_URL"], services


@pytest.fixture(scope="session")
def servers() -> Any:
    # Not pytest's tmp_path: the embedded PostgreSQL runs as its own user and must reach its dir.
    root = Path(tempfile.mkdtemp(prefix="pulse-test-"))
    db, rd, services = _server_urls(root)
    template = f"pulse_test_template_{os.getpid()}"
    _psql(db, f'DROP DATABASE IF EXISTS "{template}"', f'CREATE DATABASE "{template}"')
    upgrade(Settings(DATABASE_URL=make_url(db).set(database=template).render_as_string(False)))
    yield {"database_url": db, "redis_url": rd, "template": template}
    _psql(db, f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
    services.__exit__(None, None, None)
    shutil.rmtree(root, ignore_errors=True)


def _psql(database_url: str, *statements: str) -> None:
    """Run statements on the server's maintenance database with asyncpg (autocommit)."""

    import asyncpg

    url = make_url(database_url).set(drivername="postgresql", database="postgres")

    async def run() -> None:
        conn = await asyncpg.connect(url.render_as_string(hide_password=False))
        try:
            for statement in statements:
                await conn.execute(statement)
        finally:
            await conn.close()

    # In a thread of its own, so pytest-asyncio's event loop is left alone.
    _in_thread(run)


def _in_thread(coro_fn) -> None:
    import asyncio
    import threading

    error: list[BaseException] = []
    thread = threading.Thread(target=lambda: _capture(error, lambda: asyncio.run(coro_fn())))
    thread.start()
    thread.join()
    if error:
        raise error[0]


def _capture(errors: list, fn) -> None:
    try:
        fn()
    except BaseException as exc:  # re-raised in the calling thread
        errors.append(exc)


@pytest.fixture(scope="module")
def settings(servers, request) -> Any:
    """A fresh database (cloned from the migrated template) and an empty Redis for this module."""
    name = f"pulse_t_{request.module.__name__.rsplit('.', 1)[-1][:30]}_{secrets.token_hex(3)}"
    _psql(servers["database_url"], f'CREATE DATABASE "{name}" TEMPLATE "{servers["template"]}"')
    sync_redis.Redis.from_url(servers["redis_url"]).flushdb()
    url = make_url(servers["database_url"]).set(database=name).render_as_string(hide_password=False)
    yield Settings(DATABASE_URL=url, REDIS_URL=servers["redis_url"], PULSE_ADMIN_TOKEN=ADMIN_TOKEN,
                   PULSE_COOKIE_SECRET="test-cookie-secret", PULSE_RATE_LIMIT_INGEST=100_000,
                   PULSE_RATE_LIMIT_QUERY=100_000, PULSE_RATE_LIMIT_ADMIN=100_000, PULSE_DB_POOL_SIZE=4)
    _psql(servers["database_url"], f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest_asyncio.fixture(scope="module")
async def app(settings) -> AsyncIterator[Any]:
    application = make_app(settings)
    async with LifespanManager(application):
        yield application


@pytest_asyncio.fixture(scope="module")
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://pulse.test") as c:
        yield c
