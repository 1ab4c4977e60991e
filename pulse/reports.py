"""One descriptor per report: its parameters, its service call and its output type give its REST
route, its field of `Project` and, where it declares one, its CSV export.

A module lists its reports in its `Module` (pulse.modules.module); `rest_router` and
`project_type` turn them into the two faces. Every report takes the range (`start_at`,
`end_at`, in the project's days), `filter`s and `limit`/`offset` (used by the lists; the others
accept them, as the reference's rule for the core reports says), and is read with the module's
`query` need:

    shape ONE      the service returns one dataclass            REST: its fields
    shape SERIES   a list of dataclasses (every bucket)         REST: {"data": [...]}
    shape PAGE     (items, total), taking `limit` and `offset`  REST: {"data": [...], "total": n}
                   GraphQL pages with `first`/`after` and answers `<Item>List` (data, total, pageInfo)

The GraphQL types are made from the services' dataclasses (pulse.query.report.doc gives a field
its description), so a report's numbers have one definition. The query layer under them
(pulse.query) knows neither FastAPI nor Strawberry.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from functools import cache
from typing import Annotated, Any, get_args, get_origin, get_type_hints
from uuid import UUID

import strawberry
from fastapi import APIRouter, Query
from strawberry.types import Info

from pulse.auth import Caller, Need, check, need
from pulse.deps import SessionDep, requires
from pulse.graphql.filters import FilterInput, to_filters
from pulse.graphql.loaders import Loader
from pulse.graphql.paging import Listing, Window
from pulse.graphql.permissions import allow
from pulse.limits import MAX_OFFSET
from pulse.modules.registry import Action
from pulse.query.dates import DayRange, resolve
from pulse.query.filters import SEGMENT, Filter
from pulse.query.filters import make as make_filter
from pulse.query.filters import parse as parse_filters
from pulse.query.report import Reading, reading
from pulse.query.rollups import Row, direct_reader

# The query parameters every REST report takes.
StartAt = Annotated[str | None, Query()]
EndAt = Annotated[str | None, Query()]
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]
Filters = Annotated[list[str] | None, Query(alias="filter", description="dimension:operator:value, repeatable")]
SegmentParam = Annotated[str | None, Query(description="A saved segment's id: only its visitors' activity counts.")]
# The paging the reference gives every core report "unless otherwise noted", taken (and validated)
# by the reports that answer one object or every bucket too, where there is nothing to page.
UnpagedLimit = Annotated[int, Query(ge=1, le=1000, description="Accepted as on every report; this one is not paged.")]
UnpagedOffset = Annotated[int, Query(ge=0, le=MAX_OFFSET,
                                     description="Accepted as on every report; this one is not paged.")]


class Shape(Enum):
    ONE = "one"
    SERIES = "series"
    PAGE = "page"


@dataclass(frozen=True, slots=True)
class Param:
    """A report's own parameter, besides the range, filters and paging."""

    name: str
    type: Any = str | None
    default: Any = None
    description: str | None = None
    graphql_type: Any = None  # when GraphQL types it otherwise (a required argument the service checks)


@dataclass(frozen=True, slots=True)
class Export:
    """A report's CSV: `rows(result)` gives its rows, as dataclasses whose REST fields are the
    columns (`item`), or as tuples under `columns`. Without `rows`: the items of a list report."""

    item: type | None = None
    columns: tuple[str, ...] = ()
    rows: Callable[[Any], Iterable] | None = None


@dataclass(frozen=True, slots=True)
class Report:
    """name         the field of `Project`, and the CSV export's type
    path         the REST route under /api/v1
    run          the service function: (read=, days=, [limit=, offset=,] [hours=,] **params)
    output       the dataclass the service returns (ONE), or of each item (SERIES, PAGE)
    limit        ONE reports that still take a `limit` (GraphQL: `first`), as devices does
    hours        the service takes `hours`, the raw hourly series (a timeseries by hour)
    rest_names   REST names of output fields ({"name": "country"}); rest_fields: the REST subset
    list_name    the GraphQL list type, when not `<output>List`"""

    name: str
    path: str
    run: Callable[..., Awaitable[Any]]
    output: type
    shape: Shape = Shape.PAGE
    params: tuple[Param, ...] = ()
    description: str | None = None
    limit: bool = False
    hours: bool = False
    rest_names: dict[str, str] = field(default_factory=dict)
    rest_fields: tuple[str, ...] | None = None
    list_name: str | None = None
    export: Export | None = None

    async def call(self, ctx: Reading, *, limit: int | None = None, offset: int = 0, **params: Any) -> Any:
        """The service's answer for the context (paged by limit and offset where it takes them)."""
        if self.shape is Shape.PAGE:
            params.update(limit=limit, offset=offset)
        elif self.limit:
            params["limit"] = limit
        if self.hours:
            params["hours"] = ctx.hours
        return await self.run(read=ctx.read, days=ctx.days, **params)

    def rest_item(self, item: Any) -> dict[str, Any]:
        values = dataclasses.asdict(item)
        if self.rest_fields is not None:
            values = {name: values[name] for name in self.rest_fields}
        return {self.rest_names.get(name, name): value for name, value in values.items()}

    def rest_body(self, result: Any) -> dict[str, Any]:
        if self.shape is Shape.ONE:
            return self.rest_item(result)
        if self.shape is Shape.SERIES:
            return {"data": [self.rest_item(p) for p in result]}
        items, total = result
        return {"data": [self.rest_item(i) for i in items], "total": total}

    def export_rows(self, result: Any) -> tuple[tuple[str, ...], list[Sequence]]:
        """The CSV's columns and rows from the service's answer."""
        export = self.export
        rows = list(export.rows(result) if export.rows else result[0])
        item = export.item or (self.output if export.rows is None else None)
        if item is None:
            return export.columns, rows
        columns = tuple(self.rest_names.get(f.name, f.name) for f in dataclasses.fields(item))
        return columns, [tuple(self.rest_item(r).values()) for r in rows]


# --------------------------------------------------------------------------------------------
# The context a report runs in: days, and a rollup reader (direct, batched, or filtered).


def days_for(caller: Caller, start_at: str | None, end_at: str | None) -> DayRange:
    return resolve(start_at, end_at, tz=caller.project.timezone, now=datetime.now(UTC))


class SegmentSets:
    """The visitors of the saved segments a request's reports filter by (`segment=`, or a
    `segment:is:<id>` filter), each evaluated once per range however many reports use it. The
    segments module must be readable by the caller; an unknown segment is a 404."""

    def __init__(self, caller: Caller, session) -> None:
        self.caller = caller
        self.session = session
        self.definitions: dict[str, Any] = {}
        self.found: dict[tuple, asyncio.Future] = {}

    async def prepare(self, filters: list[Filter]) -> None:
        """Check access and load the filters' segments before any report reads: a refusal or an
        unknown segment is answered before the reports start."""
        from pulse import conditions
        from pulse.modules.segments import service

        for f in filters:
            if f.dimension == SEGMENT and f.value not in self.definitions:
                check(self.caller, need("segments", "query"), Action.READ)
                segment = await service.get_segment(session=self.session, project_id=self.caller.project_id,
                                                    segment_id=f.value)
                self.definitions[f.value] = conditions.parse(segment.definition)

    async def __call__(self, segment_id: str, days: DayRange):
        key = (segment_id, days)
        if key not in self.found:
            self.found[key] = asyncio.ensure_future(self._evaluate(segment_id, days))
        return await self.found[key]

    async def _evaluate(self, segment_id: str, days: DayRange):
        from pulse.query import visitorsets

        await self.prepare([make_filter(SEGMENT, "is", segment_id)])
        return await visitorsets.visitors(self.session, self.caller.project, self.definitions[segment_id], days)


def with_segment(filters: list[Filter], segment: str | None) -> list[Filter]:
    """The filters, and the `segment=` parameter as the filter `segment:is:<id>`."""
    return [*filters, make_filter(SEGMENT, "is", segment)] if segment else filters


async def rest_context(caller: Caller, session, start_at: str | None, end_at: str | None,
                       raw_filters: list[str] | None, segment: str | None = None) -> Reading:
    """A REST report's context, from its `start_at`, `end_at`, `filter` and `segment` parameters.
    Without filters it reads the daily rollups; with them it computes the same rows from the raw tables."""
    filters = with_segment(parse_filters(raw_filters or []), segment)
    days = days_for(caller, start_at, end_at)
    segments = SegmentSets(caller, session)
    await segments.prepare(filters)
    if filters:
        from pulse.query.raw import filtered_reader

        read = filtered_reader(session, caller.project, filters, segments)
    else:
        read = direct_reader(session, caller.project_id)
    return reading(session, caller.project, days, filters, read, segments)


class Rollups(Loader):
    """(project, dimension, first day, last day) -> rollup rows; a whole dashboard in one query."""

    async def batch(self, keys: list) -> list:
        from pulse.query.rollups import load_batch

        return await load_batch(self.context.session, keys)


class FilteredRollups(Loader):
    """(dimension, first day, last day) -> rows computed from the raw tables with the filters of
    its key: the reports of a filtered dashboard are computed together, one scan per table and range."""

    async def batch(self, keys: list) -> list:
        from pulse.query.raw import compute_many

        project, segments, (_, filters) = self.init["project"], self.init["segments"], self.key
        by_range: dict[tuple, list[str]] = {}  # one computation per range, for every dimension asked
        for dimension, first, last in keys:
            by_range.setdefault((first, last), []).append(dimension)
        computed = {span: await compute_many(self.context.session, project, list(filters), dimensions,
                                             DayRange(*span), segments)
                    for span, dimensions in by_range.items()}
        return [computed[(first, last)][dimension] for dimension, first, last in keys]


async def graphql_context(project_uuid: UUID, info: Info, need_: Need, start_at: str | None,
                          end_at: str | None, filters: list[Filter]) -> Reading:
    """The same for a GraphQL field: every report of the request reads through the request's loaders
    (the rollups in one batch; filtered rows computed together, one statement per table and range)."""
    caller = await info.context.authorize(need_, project_uuid, Action.READ)
    days = days_for(caller, start_at, end_at)
    segments = info.context.segment_sets.get(caller.project_id)  # each segment evaluated once per request
    if segments is None:
        segments = info.context.segment_sets[caller.project_id] = SegmentSets(caller, info.context.session)
    await segments.prepare(filters)
    # load() queues the key at once, so every report of the request lands in one batch.
    if filters:
        filtered = FilteredRollups.of(info.context, caller.project_id, tuple(filters), project=caller.project,
                                      segments=segments)

        def read(dimension: str, span: DayRange) -> Awaitable[list[Row]]:
            return filtered.load((dimension, span.first, span.last))
    else:
        rollups = Rollups.of(info.context)

        def read(dimension: str, span: DayRange) -> Awaitable[list[Row]]:
            return rollups.load((caller.project_id, dimension, span.first, span.last))

    return reading(info.context.session, caller.project, days, filters, read, segments)


# --------------------------------------------------------------------------------------------
# REST


def _keyword(name: str, annotation: Any, default: Any = inspect.Parameter.empty) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default)


def _signed(function: Callable, name: str, parameters: list[inspect.Parameter], returns: Any) -> Callable:
    """`function` (taking **kwargs) presented to FastAPI and Strawberry with this signature."""
    function.__name__ = function.__qualname__ = name
    function.__signature__ = inspect.Signature(parameters, return_annotation=returns)
    function.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": returns}
    return function


def _rest_endpoint(module: str, report: Report) -> Callable:
    caller_type = Annotated[Caller, requires(need(module, "query"))]

    async def endpoint(*, caller: Caller, session, start_at=None, end_at=None, filters=None, segment=None,
                       limit=10, offset=0, **params: Any) -> dict:
        ctx = await rest_context(caller, session, start_at, end_at, filters, segment)
        return report.rest_body(await report.call(ctx, limit=limit, offset=offset, **params))

    parameters = [_keyword("caller", caller_type), _keyword("session", SessionDep),
                  _keyword("start_at", StartAt, None), _keyword("end_at", EndAt, None),
                  _keyword("filters", Filters, None), _keyword("segment", SegmentParam, None)]
    # Every report takes `limit` and `offset` (the reference's rule for the core reports, applied to
    # all); those that answer one object or every bucket take them without a use for them.
    parameters.append(_keyword("limit", Limit if report.shape is Shape.PAGE or report.limit else UnpagedLimit, 10))
    parameters.append(_keyword("offset", Offset if report.shape is Shape.PAGE else UnpagedOffset, 0))
    parameters += [_keyword(p.name, Annotated[p.type, Query(description=p.description)], p.default)
                   for p in report.params]
    return _signed(endpoint, report.name, parameters, dict)


def rest_router(module: str, reports: Sequence[Report]) -> APIRouter:
    """The module's report routes: GET /api/v1/<path> for each."""
    router = APIRouter(prefix="/api/v1", tags=[module])
    for report in reports:
        router.add_api_route(report.path, _rest_endpoint(module, report), methods=["GET"],
                             description=report.description)
    return router


# --------------------------------------------------------------------------------------------
# GraphQL


@cache
def object_type(cls: type) -> type:
    """The Strawberry type of a service dataclass (nested dataclasses too), same name and fields;
    a field's description comes from its metadata (pulse.query.report.doc)."""
    hints = get_type_hints(cls)
    namespace: dict[str, Any] = {"__annotations__": {}, "__module__": cls.__module__}
    for f in dataclasses.fields(cls):
        namespace["__annotations__"][f.name] = _graphql_annotation(hints[f.name])
        if "doc" in f.metadata:
            namespace[f.name] = strawberry.field(description=f.metadata["doc"])
    own_doc = cls.__doc__ if cls.__doc__ and not cls.__doc__.startswith(f"{cls.__name__}(") else None
    return strawberry.type(type(cls.__name__, (), namespace), description=own_doc)


def _graphql_annotation(annotation: Any) -> Any:
    if dataclasses.is_dataclass(annotation):
        return object_type(annotation)
    if get_origin(annotation) is list:
        return list[_graphql_annotation(get_args(annotation)[0])]
    return annotation


@cache
def list_type(item: type, name: str) -> type:
    """`<Item>List`: a page of items, with the list's `total` and `pageInfo`."""
    return strawberry.type(type(name, (Listing,), {"__annotations__": {"data": list[object_type(item)]},
                                                   "__module__": item.__module__}))


def _graphql_output(report: Report) -> Any:
    if report.shape is Shape.PAGE:
        return list_type(report.output, report.list_name or f"{report.output.__name__}List")
    if report.shape is Shape.SERIES:
        return list[object_type(report.output)]
    return object_type(report.output)


def _resolver(module: str, report: Report) -> Callable:
    need_ = need(module, "query")
    output = _graphql_output(report)

    async def resolve(root, info: Info, *, start_at=None, end_at=None, filters=None, segment=None, first=10,
                      after=None, **params: Any):
        ctx = await graphql_context(root.project_uuid, info, need_, start_at, end_at,
                                    with_segment(to_filters(filters), segment))
        window = Window.of(first, after if report.shape is Shape.PAGE else None)
        result = await report.call(ctx, limit=window.limit, offset=window.offset, **params)
        if report.shape is not Shape.PAGE:
            return result
        items, total = result
        return output(data=items, **window.listing(len(items), total))

    parameters = [inspect.Parameter("root", inspect.Parameter.POSITIONAL_OR_KEYWORD),
                  inspect.Parameter("info", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Info)]
    parameters += [_keyword(p.name, p.graphql_type or p.type, inspect.Parameter.empty if p.graphql_type
                            else p.default) for p in report.params if p.graphql_type]
    parameters += [_keyword("start_at", str | None, None), _keyword("end_at", str | None, None),
                   _keyword("filters", list[FilterInput] | None, None), _keyword("segment", strawberry.ID | None, None)]
    if report.shape is Shape.PAGE or report.limit:
        parameters.append(_keyword("first", int, 10))
    if report.shape is Shape.PAGE:
        parameters.append(_keyword("after", str | None, None))
    parameters += [_keyword(p.name, p.type, p.default) for p in report.params if not p.graphql_type]
    return _signed(resolve, report.name, parameters, output)


def project_type(module: str, reports: Sequence[Report], fields: type | None = None) -> type:
    """The Strawberry type the module mixes into `Project`: a field per report, after `fields`
    (the module's own fields of `Project`, if any)."""
    namespace: dict[str, Any] = {"__annotations__": {"project_uuid": strawberry.Private[UUID]}}
    for report in reports:
        namespace[report.name] = strawberry.field(resolver=_resolver(module, report), description=report.description,
                                                  permission_classes=[allow(need(module, "query"))])
    name = "".join(part.title() for part in module.split("_")) + "Reports"
    return strawberry.type(type(name, (fields,) if fields else (), namespace))
