"""The per-process resources: database engine, Redis client and the access cache."""

from __future__ import annotations

from functools import cached_property

import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from pulse.access import AccessControl
from pulse.config import Settings
from pulse.db import create_engine, create_session_factory


class Runtime:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine: AsyncEngine = create_engine(settings)
        self.writer_engine: AsyncEngine = create_engine(settings, writer=True)
        # Writes run in a transaction the request or job commits; reads need none, and skipping
        # BEGIN/COMMIT saves two round trips on every GET.
        self.session: async_sessionmaker[AsyncSession] = create_session_factory(self.engine, runtime=self)
        self.read_session: async_sessionmaker[AsyncSession] = create_session_factory(
            self.engine.execution_options(isolation_level="AUTOCOMMIT"), runtime=self)
        self.redis: aioredis.Redis = aioredis.Redis.from_url(
            settings.redis_url, decode_responses=True, socket_timeout=5, socket_connect_timeout=2,
            health_check_interval=30,
        )
        # The ingest stream carries msgpack: a client that hands back bytes, on the same server.
        self.stream_redis: aioredis.Redis = aioredis.Redis.from_url(
            settings.redis_url, decode_responses=False, socket_timeout=5, socket_connect_timeout=2,
            health_check_interval=30,
        )
        self.access = AccessControl(settings=settings, redis=self.redis, pipeliner=self.pipeliner,
                                    read_session=self.read_session)

    @cached_property
    def pipeliner(self):
        """Shares one Redis round trip among the concurrent requests that need one."""
        from pulse.pipelining import Pipeliner

        return Pipeliner(self.redis)

    @cached_property
    def stream_pipeliner(self):
        from pulse.pipelining import Pipeliner

        return Pipeliner(self.stream_redis)

    @cached_property
    def ingestor(self):
        """The request side of ingestion (geo database, salts, stream buffer), made on first use."""
        from pulse.ingest.service import Ingestor

        return Ingestor(self.settings, redis=self.redis, stream_pipeliner=self.stream_pipeliner)

    def warm_up(self) -> None:
        """Load what the first requests would otherwise load (parser tables, the geo database)."""
        from pulse.ingest.useragent import parse_user_agent

        parse_user_agent("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                         "Chrome/120.0.0.0 Safari/537.36")
        self.ingestor.locator.lookup("8.8.8.8")

    async def close(self) -> None:
        await self.redis.aclose()
        await self.stream_redis.aclose()
        await self.engine.dispose()
        await self.writer_engine.dispose()
