"""Unknown query parameters on the REST API are a 400 that names them, never silently ignored.

A copied `?f=path:is:/pricing` or `?filters=...` would otherwise answer unfiltered numbers that
look right. One app-level dependency (wired in pulse.app) checks every request to a REST route
against the query parameters that route declares: the names FastAPI knows from its dependant
(the endpoint's own parameters and those of every dependency it uses, by their alias), which are
also the parameters its OpenAPI operation lists. So a route accepts a parameter by declaring it,
and nothing else needs to know:

- reports (pulse.reports) declare `start_at`, `end_at`, `filter`, `limit` and `offset`, and
  their own parameters; lists declare `limit` and `offset` through pulse.definitions' paging;
- `requires(...)` (pulse.deps) declares `key`, and `project_id` where the admin token may name
  the project, so every route that takes a credential takes them.

REST routes are the FastAPI routes under /api/ that the OpenAPI document lists. The rest are
left alone: /api/collect (a middleware, with its own rules), the tracking script's files (a
static asset a customer's page may load with a cache-busting query string), the dashboard, the
GraphQL endpoint and the operators' /healthz, /readyz and /metrics.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from weakref import WeakKeyDictionary

from fastapi import Depends, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts

from pulse import errors

REST_PREFIX = "/api/"

# Per app: id(route) -> the query parameter names it declares, None where it is not a REST route.
# (The request's scope names the route as its router declared it; the app knows it as included,
# with its full path and the including routers' dependencies.)
_tables: WeakKeyDictionary[FastAPI, dict[int, frozenset[str] | None]] = WeakKeyDictionary()


def rest_routes(app: FastAPI) -> Iterator[RouteContext]:
    """The app's REST routes (see the module docstring), as included: `.path`, `.methods`, `.dependant`."""
    for context in iter_route_contexts(app.routes):
        if (isinstance(context.original_route, APIRoute) and (context.path or "").startswith(REST_PREFIX)
                and context.include_in_schema):
            yield context


def declared_query_parameters(dependant: Dependant) -> frozenset[str]:
    """The query parameter names a route's dependant declares, its dependencies' included."""
    found: set[str] = set()
    pending = [dependant]
    while pending:
        current = pending.pop()
        found.update(param.alias for param in current.query_params)
        pending.extend(current.dependencies)
    return frozenset(found)


def _table(app: FastAPI) -> dict[int, frozenset[str] | None]:
    table: dict[int, frozenset[str] | None] = {id(c.original_route): None for c in iter_route_contexts(app.routes)}
    for context in rest_routes(app):  # a route included twice takes what either inclusion declares
        key = id(context.original_route)
        table[key] = (table[key] or frozenset()) | declared_query_parameters(context.dependant)
    _tables[app] = table
    return table


def accepted(app: FastAPI, route: object) -> frozenset[str] | None:
    """What `route` (the request's) accepts, or None when it is not a REST route."""
    table = _tables.get(app)
    if table is None or id(route) not in table:  # the first request, or a route added since
        table = _table(app)
    return table.get(id(route))


def _suggestion(name: str, known: frozenset[str]) -> str | None:
    """A known name `name` is probably a slip for: the one it abbreviates or extends (`f`,
    `filters` for `filter`), else the one closest to it."""
    near = [k for k in known if name and (k.startswith(name) or (len(k) >= 3 and name.startswith(k)))]
    if len(near) == 1:
        return near[0]
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
    return close[0] if close else None


def unknown_parameters_message(unknown: list[str], known: frozenset[str]) -> str:
    """`Unknown query parameter 'f'. Did you mean 'filter'?`; several are all named, sorted."""
    names = ", ".join(f"'{name}'" for name in unknown)
    message = f"Unknown query parameter{'s' if len(unknown) > 1 else ''} {names}."
    hints = [(name, hint) for name in unknown if (hint := _suggestion(name, known))]
    if len(unknown) == 1 and hints:
        message += f" Did you mean '{hints[0][1]}'?"
    elif hints:
        message += " Did you mean " + ", ".join(f"'{hint}' for '{name}'" for name, hint in hints) + "?"
    return message


async def known_query_parameters(request: Request) -> None:
    """The app-level dependency: 400 before anything else runs (no credential is checked, nothing
    is read or written) when the query string names a parameter the route does not declare."""
    known = accepted(request.app, request.scope.get("route"))
    if known is None:
        return
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        raise errors.BadRequest(unknown_parameters_message(unknown, known))


#: For `FastAPI(dependencies=[...])`: every route the app includes gets the check.
query_parameters_check = Depends(known_query_parameters)
