"""Async engine, session factory, table metadata, and the commit boundary."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any
from uuid import UUID

from sqlalchemy import MetaData, event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

from pulse.config import Settings

log = logging.getLogger("pulse.db")

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def create_engine(settings: Settings, *, writer: bool = False) -> AsyncEngine:
    """The request engine, or (`writer`) the ingest writers' own, so reads never starve ingestion.
    Request connections carry a statement_timeout; the writers' batches are bounded by their size."""
    server_settings = {"application_name": "pulse-writer" if writer else "pulse", "timezone": "UTC",
                       "work_mem": "32MB"}
    if not writer:
        server_settings["statement_timeout"] = str(settings.query_timeout_ms)
    engine = create_async_engine(
        settings.database_url,
        # A fixed pool: overflow connections are opened and closed per burst, and a new asyncpg
        # connection costs far more than waiting for a pooled one.
        pool_size=settings.db_writer_pool_size if writer else settings.db_pool_size,
        max_overflow=0,
        # UTC sessions: partition bounds and date literals must not depend on the server's zone.
        # work_mem: a filtered report sorts and hashes a month of raw rows, and the default 4MB
        # sends those to disk; a connection uses it a few times over at most.
        connect_args={"server_settings": server_settings},
    )
    if not writer:
        event.listen(engine.sync_engine, "handle_error", partial(_client_error, settings.query_timeout_ms))
    return engine


# SQLSTATEs a request's statement can fail with because of what the client asked for.
QUERY_CANCELED = "57014"  # statement_timeout
INVALID_REGULAR_EXPRESSION = "2201B"  # a `matches` filter PostgreSQL's regex engine refuses


def _client_error(timeout_ms: int, context) -> Exception | None:
    """The one place a request's failed statement becomes its API error (REST and GraphQL both
    show an ApiError as such): a statement cut by statement_timeout is a 503, a regular expression
    PostgreSQL refuses a 400. Anything else stays an unexpected error."""
    from pulse import errors

    state = getattr(context.original_exception, "sqlstate", None)
    if state == QUERY_CANCELED:
        return errors.Unavailable(f"The query took too long (over {timeout_ms} ms): "
                                  "narrow the date range or the filters and retry.")
    if state == INVALID_REGULAR_EXPRESSION:
        reason = str(context.original_exception).rsplit(": ", 1)[-1].strip()
        return errors.BadRequest(f"Invalid filter: not a regular expression PostgreSQL accepts ({reason}).")
    return None


def create_session_factory(engine: AsyncEngine, *, runtime: object) -> async_sessionmaker[AsyncSession]:
    # Sessions carry the runtime so a service can schedule post-commit work without extra arguments.
    return async_sessionmaker(engine, expire_on_commit=False, info={"runtime": runtime})


PostCommit = Callable[[], Awaitable[Any]]


def after_commit(session: AsyncSession, callback: PostCommit) -> None:
    """Run `callback` once the surrounding unit of work has committed (e.g. cache invalidation).

    Services never commit; the request or job boundary calls `commit()` below.
    """
    session.info.setdefault("post_commit", []).append(callback)


async def commit(session: AsyncSession) -> None:
    await session.commit()
    callbacks: list[PostCommit] = session.info.pop("post_commit", [])
    for callback in callbacks:
        try:
            await callback()
        except Exception:  # the change is committed; report it, do not turn success into a 500
            log.exception("post-commit callback failed")


def as_uuid(value: str | UUID) -> UUID | None:
    """Parse an id from a path or argument; None when it is not a UUID (callers answer 404)."""
    if isinstance(value, UUID):
        return value
    try:
        return UUID(value)
    except (ValueError, TypeError, AttributeError):
        return None
