"""What a module package plugs into Pulse: one `Module` object, `MODULE` in its `__init__.py`.

The app's routers, the GraphQL schema (queries, mutations and the fields of `Project`), the
tables Alembic sees, the ingest parser table and the CSV exports are all derived from the
installed modules (pulse.modules.installed), so a new module edits nothing outside its package
but a migration and the exported SDL. See docs/architecture.md, "Adding a module".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import APIRouter
    from sqlalchemy import Table

    from pulse.reports import Report


@dataclass(frozen=True, slots=True)
class Payload:
    """A payload type `POST /api/collect` accepts, owned by the module that declares it.

    `parse` turns the merged payload dict into `struct` (a msgspec Struct tagged by `kind`), or
    raises pulse.ingest.fields.Invalid; None means the type has only the common fields. `sink`
    says where the writer puts its rows (pulse.ingest.sinks); None stores nothing of its own.
    `page_url` names the field holding the page's URL (an outlink's `url` is the link's target).
    `activity`: the visitor is active on the page, so the payload joins and extends their session
    (pageviews, events, engagement pings, replay chunks); other types only note the session.
    """

    type: str
    parse: Callable[[dict[str, Any]], Any] | None = None
    struct: type | None = None
    sink: Any = None
    page_url: str = "url"
    activity: bool = False


@dataclass(frozen=True, slots=True)
class Module:
    """One module of the registry (pulse.modules.registry.MODULES), as its package provides it.

    name            the registry name; access checks use it
    router          its REST routes (FastAPI APIRouter), besides those its reports give
    query, mutation its Strawberry Query and Mutation parts, merged into the schema
    project_fields  a Strawberry type mixed into `Project` (fields that hang off a project)
    reports         report descriptors (pulse.reports.Report): each gives a REST route, a field
                    of `Project` and, where it declares one, a CSV export
    tables          its SQLAlchemy tables (so Alembic's metadata holds them)
    payloads        the collected payload types it owns

    Its dashboard tab, if any, is a file of its own, pulse/web/dashboard/src/views/<name>.js
    (the dashboard's build lists every view there).
    """

    name: str
    router: APIRouter | None = None
    query: type | None = None
    mutation: type | None = None
    project_fields: type | None = None
    reports: Sequence[Report] = ()
    tables: Sequence[Table] = ()
    payloads: Sequence[Payload] = ()
