"""The typed per-request GraphQL context: runtime, a lazily opened session, the caller, loaders."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import UUID

from aiodataloader import DataLoader
from fastapi import Depends, Request
from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    parse,
)
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.extensions import SchemaExtension
from strawberry.fastapi import BaseContext

from pulse import errors
from pulse.auth import Caller, Need, client_address
from pulse.db import commit
from pulse.deps import bearer_token, get_runtime, request_key
from pulse.graphql.loaders import ProjectAccessLoader
from pulse.modules.registry import Action
from pulse.runtime import Runtime


class Context(BaseContext):
    def __init__(self, runtime: Runtime, request: Request) -> None:
        super().__init__()
        self.runtime = runtime
        self.http_request = request
        self._session: AsyncSession | None = None
        # Set by get_context: why no field may run (a wrong credential); no credential was sent.
        self.refusal: errors.ApiError | None = None
        self.anonymous = False
        self._caller: asyncio.Future[Caller] | None = None
        self._scoped: dict[str, asyncio.Future[Caller]] = {}
        # The request's dataloaders (pulse.graphql.loaders: built per request, never shared), and
        # the batches they are running.
        self.loaders: dict[tuple, DataLoader] = {}
        self.running: set[asyncio.Task] = set()
        # Per project, the visitor sets of the segments its reports filter by (pulse.reports.SegmentSets).
        self.segment_sets: dict = {}

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
                    self.runtime.access.scoped(caller, project_id, ProjectAccessLoader.of(self).load_many))
            caller = await asyncio.shield(scoped)
        self.runtime.access.check(caller, need, action)
        return caller

    async def _identify(self, need: Need) -> Caller:
        request = self.http_request
        return await self.runtime.access.identify(
            key=await request_key(request, self.runtime, platform=need.platform),
            bearer=bearer_token(request.headers), platform=need.platform,
            client=client_address(request.scope))

    async def close(self) -> None:
        """Close the read session once every loader batch using it has finished: a field that fails
        cancels its siblings (graphql-core), but not the batch a sibling was waiting on, which may
        still be running a query on this session."""
        while self.running:
            await asyncio.gather(*self.running, return_exceptions=True)
        if self._session is not None:
            await self._session.close()


async def get_context(request: Request, runtime: Runtime = Depends(get_runtime)) -> AsyncIterator[Context]:
    context = Context(runtime, request)
    if request.method == "POST":
        context.refusal = await _admit(context)
    try:
        yield context
    finally:
        await context.close()


async def _admit(context: Context) -> errors.ApiError | None:
    """Why the operation is refused, if it is: every operation needs a credential (the REST 401's
    message), except introspection while PULSE_GRAPHQL_INTROSPECTION allows it. A credential that
    is sent is resolved here, once: a wrong one is refused whatever the operation asks, and the
    fields reuse the caller. `Admission` answers the refusal in place of the operation."""
    request = context.http_request
    try:
        key = await request_key(request, context.runtime)
        bearer = bearer_token(request.headers)
        if key is None and bearer is None:
            settings = context.runtime.settings
            context.anonymous = not (settings.graphql_introspection and _introspection_only(
                await _body(request), settings.graphql_max_tokens))
            return None
        context._caller = asyncio.ensure_future(context.runtime.access.identify(
            key=key, bearer=bearer, platform=key is None, client=client_address(request.scope)))
        await asyncio.shield(context._caller)
    except errors.ApiError as refusal:
        return refusal
    return None


class Admission(SchemaExtension):
    """An operation with a wrong credential is not executed: its one error is the refusal. One
    without a credential answers no data: its errors are those its fields gave (each field's own
    REST message: a missing key, or a missing admin token), else the missing key's. ApiErrors
    shapes them like every expected error (code UNAUTHENTICATED, status 401)."""

    def on_execute(self):
        context = self.execution_context.context
        refusal = getattr(context, "refusal", None)
        if refusal is not None:
            self.execution_context.result = ExecutionResult(
                data=None, errors=[GraphQLError(refusal.message, original_error=refusal)])
            _status(context, refusal)
        yield
        result = self.execution_context.result
        if getattr(context, "anonymous", False) and refusal is None and result is not None:
            missing = errors.Unauthorized(errors.MISSING_KEY)
            found = [e for e in result.errors or [] if isinstance(e.original_error, errors.Unauthorized)]
            result.data = None  # in place: the executor returns this very object
            result.errors = found[:1] or [GraphQLError(missing.message, original_error=missing)]
            _status(context, result.errors[0].original_error)


def _status(context: Context, refusal: errors.ApiError) -> None:
    """A refused operation answers with the refusal's HTTP status (401, or 429 when throttled) and
    its headers, as REST does; the body keeps GraphQL's shape, with the same message and code."""
    response = context.response
    if response is not None:
        response.status_code = refusal.status
        for name, value in (refusal.headers or {}).items():
            response.headers[name] = value


async def _body(request: Request) -> object:
    try:
        return await request.json()
    except ValueError:
        return None


_INTROSPECTION = frozenset({"__schema", "__type", "__typename"})


def _introspection_only(body: object, max_tokens: int) -> bool:
    """Whether the operation `body` asks for reads only the schema (`__schema`, `__type`)."""
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        return False
    try:
        document = parse(body["query"], max_tokens=max_tokens)
    except GraphQLError:
        return False
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    name = body.get("operationName")
    chosen = [o for o in operations if name is None or (o.name is not None and o.name.value == name)]
    if len(chosen) != 1 or chosen[0].operation != OperationType.QUERY:
        return False
    names: set[str] = set()
    pending, seen = [chosen[0].selection_set], set()
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FieldNode):
                names.add(selection.name.value)
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)
            elif selection.name.value in fragments and selection.name.value not in seen:
                seen.add(selection.name.value)
                pending.append(fragments[selection.name.value].selection_set)
    return names <= _INTROSPECTION and bool(names - {"__typename"})
