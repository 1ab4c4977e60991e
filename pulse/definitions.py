"""Saved definitions (funnels, goals, segments, flags, surveys, destinations, webhooks...): the
one way each resource is listed, fetched, created, updated and deleted, on both faces.

A resource declares two things, and writes its routes and fields itself, each a line or two:

    FUNNELS = Definitions(Funnel, noun="Funnel")            # the table and the 404's noun
    class FunnelIn(BodyModel): name: str; steps: list[Step]  # the body, fields named as columns

Its service then reads `values = validated(FunnelIn, body)` (or `partial=True` for PUT), applies
the rules only it knows, and calls `FUNNELS.create / page / get / update / delete`. Its rest.py
takes `body: JsonObject` and `window: Paging` and answers `listing(...)`; its schema.py returns
`Connection[Funnel]` built by `connection(...)` and feeds mutation inputs through `given(...)`
into the same service, so both faces give the same answers and messages.

The rules every resource shares, enforced here:
- a missing required field is reported first, before any other rule, as
  `Invalid request body: missing required field '<name>'.`;
- stored definitions come back exactly as sent: an object or array a client sent is stored as
  it came (validated, but with no defaults filled in inside it); only scalars are stored as
  validated (a parsed timestamp, a stripped name);
- `PUT` changes only the fields it is given;
- every statement is scoped by `project_id`: another project's resource is a plain 404, with
  the reference's message, `<Noun> '<id>' not found.`;
- lists are newest first, paged by `limit`/`offset` (REST) or `first`/`after` (GraphQL), with the
  `total`; delete answers 204;
- every create, update and delete writes its audit entry (pulse.audit), in the same transaction:
  `<object_type>.create|update|delete` (`webhook.create`, `scim_user.delete`), the object's public id,
  and for an update the names of the fields given (never their values: some are secrets). The actor
  is the caller the access check bound to the request.
Services never commit; the request or mutation boundary does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Generic, TypeVar
from uuid import UUID, uuid4

import strawberry
from fastapi import Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, ValidationError, create_model
from pydantic.fields import FieldInfo
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from pulse import audit, errors
from pulse.db import as_uuid
from pulse.graphql.paging import MAX_FIRST, Listing, Window
from pulse.limits import MAX_OFFSET

Row = TypeVar("Row")
T = TypeVar("T")

DEFAULT_LIMIT = 100


class BodyModel(BaseModel):
    """Base of a definition's body: unknown fields are refused, not ignored."""

    model_config = ConfigDict(extra="forbid")


# -- bodies ----------------------------------------------------------------------------------

def _invalid(exc: ValidationError) -> errors.BadRequest:
    """pydantic's first complaint in the wording every route uses (pulse.errors)."""
    located = [{**e, "loc": ("body", *e["loc"]),
                # A rule's own ValueError reads as its message, without pydantic's "Value error, ".
                "msg": str(e["ctx"]["error"]) if e["type"] == "value_error" else e["msg"]}
               for e in exc.errors()]
    return errors.BadRequest(errors.describe_validation_error(RequestValidationError(located)))


@cache
def _partial(model: type[BaseModel]) -> type[BaseModel]:
    """`model` with nothing required: a PUT body. Field validators still check what is given."""
    optional: dict[str, Any] = {
        name: (info.annotation, FieldInfo.merge_field_infos(info, default=None))
        for name, info in model.model_fields.items() if info.is_required()}
    return create_model(f"{model.__name__}Update", __base__=model, **optional)


def validated(model: type[BaseModel], body: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """The fields of `body` to store, checked against `model` (400 with the shared wording).

    Create (`partial=False`): every field, defaults included at the top level. Update: only the
    fields given. Objects and arrays are returned exactly as sent (see the module docstring)."""
    if not partial:
        for name, info in model.model_fields.items():
            if info.is_required() and name not in body:
                raise errors.BadRequest(f"Invalid request body: missing required field '{name}'.")
    try:
        checked = (_partial(model) if partial else model).model_validate(dict(body))
    except ValidationError as exc:
        raise _invalid(exc) from None
    names = [n for n in model.model_fields if n in body] if partial else list(model.model_fields)
    return {name: body[name] if isinstance(body.get(name), (dict, list)) else getattr(checked, name)
            for name in names}


async def json_object(request: Request) -> dict[str, Any]:
    """The request body, which must be a JSON object (REST routes validate it with `validated`,
    so a missing field is reported before any other complaint)."""
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise errors.BadRequest("Invalid request body: expected a JSON object.")
    return body


#: A route's JSON object body: `body: JsonObject`.
JsonObject = Annotated[dict[str, Any], Depends(json_object)]


# -- what a definition module's messages say of a value ----------------------------------------

def kind(value: Any) -> str:
    """A value's JSON type, as messages name it ("a string", "an object")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "a list" if isinstance(value, list) else "an object"


def shown(value: Any) -> str:
    """A value for a message: a string quoted (cut to 60 characters), a number as written, else its type."""
    if isinstance(value, str):
        return "'" + (value if len(value) <= 60 else value[:57] + "...") + "'"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return kind(value)


def has_nul(value: Any) -> bool:
    """Whether a JSON value holds a NUL character anywhere (PostgreSQL's JSONB and text cannot)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_nul(item) for item in value)
    return False


def given(input_: object) -> dict[str, Any]:
    """A GraphQL input's fields that were given (not UNSET), as a body for `validated`."""
    return {f.name: _plain(getattr(input_, f.name)) for f in dataclasses.fields(input_)
            if getattr(input_, f.name) is not strawberry.UNSET}


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return given(value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


# -- paging ----------------------------------------------------------------------------------

def _window(limit: Annotated[int, Query(ge=1, le=MAX_FIRST, description="Items per page.")] = DEFAULT_LIMIT,
            offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip.")] = 0) -> Window:
    return Window(limit, offset)


#: A list route's `limit` (default 100, at most 1000) and `offset`: `window: Paging`.
Paging = Annotated[Window, Depends(_window)]


def _slice(limit: Annotated[int | None, Query(ge=1, le=MAX_FIRST, description="Items per page (default: all).")] = None,
           offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip.")] = 0) -> slice:
    return slice(offset, None if limit is None else offset + limit)


#: The `limit` and `offset` of a list that is short and answered whole unless they are given (the
#: admin API's projects, keys and modules): `rows[window]` with `window: Slice`.
Slice = Annotated[slice, Depends(_slice)]


def listing(rows: Iterable[Row], total: int, shape: Callable[[Row], dict]) -> dict:
    """A REST list: `{"data": [...], "total": n}`."""
    return {"data": [shape(row) for row in rows], "total": total}


@strawberry.type
class Connection(Listing, Generic[T]):
    """A page of saved definitions (`<Type>Connection` in the schema), with `total` and `pageInfo`."""

    data: list[T]


def connection(window: Window, rows: list[Row], total: int, shape: Callable[[Row], T]) -> Connection[T]:
    return Connection(data=[shape(row) for row in rows], **window.listing(len(rows), total))


# -- storage ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Definitions(Generic[Row]):
    """The storage of one resource: `table` has `project_id` and `id` (its primary key, in that
    order) and `created_at`. `prefix` is how its ids are shown (`wh-` for webhooks); an id is
    accepted with or without it. `object_type` names it in the audit log (default: the noun in
    snake case, `SCIM user` -> `scim_user`)."""

    table: type[Row]
    noun: str
    prefix: str = ""
    object_type: str = ""

    def __post_init__(self) -> None:
        if not self.object_type:
            object.__setattr__(self, "object_type", "_".join(self.noun.lower().split()))

    async def _audit(self, session: AsyncSession, project_id: UUID, verb: str, object_id: str,
                     details: dict[str, Any] | None = None) -> None:
        await audit.record(session, None, f"{self.object_type}.{verb}", self.object_type, object_id, details,
                           project_id=project_id)

    def public_id(self, row: Row) -> str:
        return f"{self.prefix}{row.id}"

    def _uuid(self, value: str | UUID) -> UUID | None:
        if isinstance(value, str) and self.prefix and value.startswith(self.prefix):
            value = value[len(self.prefix):]
        return as_uuid(value)

    def not_found(self, value: str | UUID) -> errors.NotFound:
        return errors.NotFound(f"{self.noun} '{value}' not found.")

    def _where(self, project_id: UUID, value: str | UUID):
        found = self._uuid(value)
        if found is None:
            raise self.not_found(value)
        return (self.table.project_id == project_id, self.table.id == found)

    async def page(self, *, session: AsyncSession, project_id: UUID, window: Window) -> tuple[list[Row], int]:
        """One page of the project's definitions, newest first, and how many there are."""
        table = self.table
        total = (await session.execute(
            select(func.count()).select_from(table).where(table.project_id == project_id))).scalar_one()
        if total <= window.offset:
            return [], total
        rows = (await session.execute(
            select(table).where(table.project_id == project_id)
            .order_by(table.created_at.desc(), table.id).limit(window.limit).offset(window.offset))).scalars()
        return list(rows), total

    async def get(self, *, session: AsyncSession, project_id: UUID, id: str | UUID) -> Row:
        """One definition of the project, or 404."""
        row = (await session.execute(select(self.table).where(*self._where(project_id, id)))).scalar_one_or_none()
        if row is None:
            raise self.not_found(id)
        return row

    async def create(self, *, session: AsyncSession, project_id: UUID, values: Mapping[str, Any]) -> Row:
        """Store a new definition from `validated(...)` values (plus what the service adds)."""
        row = self.table(project_id=project_id, id=uuid4(), **values)
        session.add(row)
        await session.flush()
        await session.refresh(row)
        await self._audit(session, project_id, "create", self.public_id(row))
        return row

    async def update(self, *, session: AsyncSession, project_id: UUID, id: str | UUID,
                     values: Mapping[str, Any]) -> Row:
        """Change only the fields in `values`; 404 if the project has no such definition."""
        where = self._where(project_id, id)
        if not values:
            return await self.get(session=session, project_id=project_id, id=id)
        row = (await session.execute(
            update(self.table).where(*where).values(**values).returning(self.table)
            .execution_options(synchronize_session=False, populate_existing=True))).scalar_one_or_none()
        if row is None:
            raise self.not_found(id)
        await self._audit(session, project_id, "update", self.public_id(row), {"fields": sorted(values)})
        return row

    async def delete(self, *, session: AsyncSession, project_id: UUID, id: str | UUID) -> None:
        """Remove a definition; 404 if the project has none by that id."""
        gone = (await session.execute(
            delete(self.table).where(*self._where(project_id, id)).returning(self.table.id))).scalar_one_or_none()
        if gone is None:
            raise self.not_found(id)
        await self._audit(session, project_id, "delete", f"{self.prefix}{gone}")
