"""Redis commands from concurrent requests, sent together in one pipelined round trip.

A request hands over the commands it needs and awaits only the results of the round trip that
carried them. Under load this turns one Redis round trip per request into one per event-loop
turn, which is most of what a small request costs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline

MAX_PIPELINE = 512  # commands' owners per round trip


class Pipeliner:
    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis
        self._pending: list[tuple[Callable[[Pipeline], None], asyncio.Future]] = []
        self._flushing: asyncio.Task | None = None

    async def run(self, add: Callable[[Pipeline], None]) -> list[Any]:
        """Queue the commands `add` puts on the pipeline; return their results (errors included)."""
        future = asyncio.get_running_loop().create_future()
        self._pending.append((add, future))
        if self._flushing is None:
            self._flushing = asyncio.create_task(self._flush_soon())
        return await future

    async def _flush_soon(self) -> None:
        await asyncio.sleep(0)  # let requests already running queue theirs first
        try:
            while self._pending:
                batch, self._pending = self._pending[:MAX_PIPELINE], self._pending[MAX_PIPELINE:]
                await self._send(batch)
        finally:
            self._flushing = None

    async def _send(self, batch: list[tuple[Callable[[Pipeline], None], asyncio.Future]]) -> None:
        spans = []
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for add, _ in batch:
                    start = len(pipe.command_stack)
                    add(pipe)
                    spans.append((start, len(pipe.command_stack)))
                results = await pipe.execute(raise_on_error=False)
        except Exception as exc:  # every waiting request must hear of it, whatever it is
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (start, end), (_, future) in zip(spans, batch, strict=True):
            if not future.done():
                future.set_result(results[start:end])
