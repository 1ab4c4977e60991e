"""The typed per-request GraphQL context: runtime, a lazily opened session, the caller, loaders."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import UUID

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.fastapi import BaseContext

from pulse.auth import Caller, Need
from pulse.db import commit
from pulse.deps import bearer_token, get_runtime, request_key
from pulse.modules.registry import Action
from pulse.runtime import Runtime


class Context(BaseContext):
    def __init__(self, runtime: Runtime, request: Request) -> None:
        super().__init__()
        from pulse.graphql.loaders import Loaders  # loaders import module types

        self.runtime = runtime
        self.http_request = request
        self._session: AsyncSession | None = None
        self._caller: asyncio.Future[Caller] | None = None
        self._scoped: dict[str, asyncio.Future[Caller]] = {}
        self.loaders = Loaders(self)  # built per request, never shared

    @property
    def session(self) -> AsyncSession:
        """The read session of this request (no transaction), opened on first use. Mutations
        write through `transaction()`."""
        if self._session is None:
            self._session = self.runtime.read_session()
        return self._session

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A unit of work for one mutation: committed when it succeeds, rolled back if it raises."""
        async with self.runtime.session() as session:
            yield session
            await commit(session)

    async def authorize(self, need: Need, project_id: str | UUID | None, action: Action) -> Caller:
        """The same check as REST. The credential is resolved (and rate-limited) once per request,
        however many fields ask at once; project targets load in one batch; each field then
        checks its own need."""
        if self._caller is None:
            self._caller = asyncio.ensure_future(self._identify(need))
        caller = await asyncio.shield(self._caller)
        if project_id is not None and not need.platform:
            scoped = self._scoped.get(str(project_id))
            if scoped is None:
                scoped = self._scoped[str(project_id)] = asyncio.ensure_future(
                    self.runtime.access.scoped(caller, project_id, self.loaders.project_access.load_many))
            caller = await asyncio.shield(scoped)
        self.runtime.access.check(caller, need, action)
        return caller

    async def _identify(self, need: Need) -> Caller:
        request = self.http_request
        return await self.runtime.access.identify(
            key=await request_key(request, self.runtime, platform=need.platform),
            bearer=bearer_token(request.headers), platform=need.platform)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


async def get_context(request: Request, runtime: Runtime = Depends(get_runtime)) -> AsyncIterator[Context]:
    context = Context(runtime, request)
    try:
        yield context
    finally:
        await context.close()
