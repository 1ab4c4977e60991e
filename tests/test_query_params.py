"""Unknown query parameters on REST routes are a 400 naming them (pulse.params); every parameter
the reference or routes.md gives a route is still accepted there.

The unknown-parameter cases walk every REST route of the app (so a new module's routes are
covered without editing this file); the documented ones are tables per route.
"""

from __future__ import annotations

import pytest
import pytest_asyncio

from pulse.params import declared_query_parameters, rest_routes
from tests.helpers import ADMIN, create_key, create_project, key_header, sql_statements


@pytest_asyncio.fixture(scope="module")
async def project(client) -> dict:
    project = await create_project(client, "Params", "params.test")
    for module in ("utm", "exports"):
        response = await client.post(f"/api/admin/projects/{project['id']}/modules/{module}/enable", headers=ADMIN)
        assert response.status_code == 200, response.text
    return project


@pytest_asyncio.fixture(scope="module")
async def query_key(client, project) -> str:
    return (await create_key(client, project["id"], "query"))["key"]


@pytest_asyncio.fixture(scope="module")
async def admin_key(client, project) -> dict:
    return await create_key(client, project["id"], "admin")


def concrete(path: str, project_id: str) -> str:
    """A route's path with its parameters filled in (the project's own id for project_id)."""
    values = {"project_id": project_id, "type": "pages"}
    for name in [part[1:-1] for part in path.split("/") if part.startswith("{")]:
        path = path.replace(f"{{{name}}}", values.get(name, "00000000-0000-0000-0000-000000000000"))
    return path


def operations(app) -> list[tuple[str, str]]:
    return sorted((method, context.path) for context in rest_routes(app) for method in context.methods
                  if method != "HEAD")


def test_the_walk_sees_every_kind_of_route(app):
    """The walk below is not vacuous: admin, privacy, core, utm and exports routes, every method."""
    paths = {path for _, path in operations(app)}
    assert {"/api/admin/projects", "/api/admin/projects/{project_id}/webhooks/{webhook_id}",
            "/api/v1/privacy/settings", "/api/v1/stats", "/api/v1/realtime", "/api/v1/campaigns/timeseries",
            "/api/v1/exports/{type}"} <= paths
    assert {method for method, _ in operations(app)} == {"GET", "POST", "PUT", "DELETE"}
    # Not REST routes: the collect middleware, the script's files, the dashboard, GraphQL, ops.
    assert not paths & {"/api/collect", "/api/script.js", "/dashboard", "/graphql", "/healthz", "/metrics"}


async def test_an_unknown_parameter_is_a_400_on_every_rest_route_and_runs_nothing(app, client, project, admin_key):
    """With a valid credential, on every method: 400 naming it, before any SQL (nothing read or
    written, not even the key's lookup)."""
    refused = {}
    async with sql_statements(app) as statements:
        for method, path in operations(app):
            headers = ADMIN if path.startswith("/api/admin") else key_header(admin_key["key"])
            response = await client.request(method, concrete(path, project["id"]), params={"zz_nope": "1"},
                                            headers=headers, json={})
            refused[(method, path)] = (response.status_code, response.json())
    assert refused == {operation: (400, {"error": "Unknown query parameter 'zz_nope'."})
                       for operation in operations(app)}
    assert statements == []


async def test_several_unknown_parameters_are_all_named_sorted(client, query_key):
    response = await client.get("/api/v1/pages?zeta=1&alpha=2&limit=5&beta=3", headers=key_header(query_key))
    assert response.status_code == 400
    assert response.json() == {"error": "Unknown query parameters 'alpha', 'beta', 'zeta'."}


@pytest.mark.parametrize(("param", "message"), [
    ("f", "Unknown query parameter 'f'. Did you mean 'filter'?"),
    ("filters", "Unknown query parameter 'filters'. Did you mean 'filter'?"),
    ("start", "Unknown query parameter 'start'. Did you mean 'start_at'?"),
])
async def test_a_slip_for_a_known_parameter_gets_a_hint(client, query_key, param, message):
    response = await client.get(f"/api/v1/stats?{param}=path:is:/pricing", headers=key_header(query_key))
    assert response.status_code == 400
    assert response.json() == {"error": message}


async def test_the_dashboards_f_on_stats_is_refused_not_ignored(client, query_key):
    """The issue's case: a copied `?f=` used to answer unfiltered numbers."""
    response = await client.get("/api/v1/stats?f=path:is:/pricing", headers=key_header(query_key))
    assert response.status_code == 400
    assert "'f'" in response.json()["error"]
    filtered = await client.get("/api/v1/stats?filter=path:is:/pricing", headers=key_header(query_key))
    assert filtered.status_code == 200, filtered.text


async def test_a_refused_write_changes_nothing(client, project, admin_key):
    """Concretely, for the writes the walk above calls with bodies that would otherwise succeed."""
    projects = (await client.get("/api/admin/projects", headers=ADMIN)).json()["total"]
    created = await client.post("/api/admin/projects?f=1", json={"name": "No", "domain": "no.test"}, headers=ADMIN)
    assert created.status_code == 400
    assert (await client.get("/api/admin/projects", headers=ADMIN)).json()["total"] == projects

    base = f"/api/admin/projects/{project['id']}"
    revoked = await client.delete(f"{base}/keys/{admin_key['id']}?force=1", headers=ADMIN)
    assert revoked.status_code == 400
    assert admin_key["id"] in [k["id"] for k in (await client.get(f"{base}/keys", headers=ADMIN)).json()["data"]]

    disabled = await client.post(f"{base}/modules/utm/disable?now=1", headers=ADMIN)
    assert disabled.status_code == 400
    modules = {m["name"]: m for m in (await client.get(f"{base}/modules", headers=ADMIN)).json()["modules"]}
    assert modules["utm"]["enabled"] is True

    before = (await client.get("/api/v1/privacy/settings", headers=key_header(admin_key["key"]))).json()
    changed = await client.put("/api/v1/privacy/settings?dry_run=0", json={"respect_dnt": not before["respect_dnt"]},
                               headers=key_header(admin_key["key"]))
    assert changed.status_code == 400
    assert (await client.get("/api/v1/privacy/settings", headers=key_header(admin_key["key"]))).json() == before


# -- what stays accepted ------------------------------------------------------------------------

RANGE = {"start_at": "2026-03-01", "end_at": "2026-03-22"}
PAGING = {"limit": "5", "offset": "0"}
FILTER = {"filter": "path:is:/pricing"}
# The core reports: start_at, end_at, limit and offset on every one ("unless otherwise noted"),
# and filter; timeseries its interval; realtime the four (unused: it is the last five minutes).
CORE = ["/api/v1/stats", "/api/v1/stats/timeseries", "/api/v1/pages", "/api/v1/pages/entry", "/api/v1/pages/exit",
        "/api/v1/channels", "/api/v1/referrers", "/api/v1/events", "/api/v1/devices", "/api/v1/geo"]
UTM = ["/api/v1/campaigns", "/api/v1/campaigns/sources", "/api/v1/campaigns/mediums"]
DOCUMENTED = [
    *[(path, {**RANGE, **PAGING, **FILTER}) for path in CORE + UTM],
    ("/api/v1/stats/timeseries", {**RANGE, "interval": "week"}),
    ("/api/v1/realtime", {**RANGE, **PAGING}),
    ("/api/v1/campaigns/timeseries", {"utm_source": "google", **RANGE, **PAGING, **FILTER}),
    *[(f"/api/v1/exports/{kind}", {**RANGE, "limit": "5", **FILTER}) for kind in ("stats", "pages", "campaigns")],
]


@pytest.mark.parametrize(("path", "params"), DOCUMENTED, ids=[f"{p}?{'&'.join(q)}" for p, q in DOCUMENTED])
async def test_documented_report_parameters_are_accepted(client, query_key, path, params):
    response = await client.get(path, params=params, headers=key_header(query_key))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(("path", "items"), [("", "data"), ("/{project_id}/keys", "data"),
                                             ("/{project_id}/modules", "modules")])
async def test_admin_lists_take_limit_and_offset(client, project, query_key, admin_key, path, items):
    """Whole without them (as before), a page with them. (Webhooks page like every definition.)"""
    await create_project(client, "Params two", "two.params.test")
    url = "/api/admin/projects" + path.format(project_id=project["id"])
    whole = (await client.get(url, headers=ADMIN)).json()[items]
    assert len(whole) >= 2
    page = await client.get(url, params={"limit": 1, "offset": 1}, headers=ADMIN)
    assert page.status_code == 200, page.text
    assert page.json()[items] == whole[1:2]


async def test_webhooks_take_limit_and_offset(client, project):
    response = await client.get(f"/api/admin/projects/{project['id']}/webhooks", params=PAGING, headers=ADMIN)
    assert response.status_code == 200, response.text


async def test_the_key_may_come_as_a_query_parameter(client, project, query_key, admin_key):
    assert (await client.get("/api/v1/stats", params={"key": query_key})).status_code == 200
    assert (await client.get("/api/v1/realtime", params={"key": query_key})).status_code == 200
    privacy = await client.get("/api/v1/privacy/settings", params={"key": admin_key["key"]})
    assert privacy.status_code == 200, privacy.text
    keys = await client.get(f"/api/admin/projects/{project['id']}/keys", params={"key": admin_key["key"]})
    assert keys.status_code == 200, keys.text


async def test_the_admin_token_names_the_project_with_project_id(client, project):
    settings = await client.get("/api/v1/privacy/settings", params={"project_id": project["id"]}, headers=ADMIN)
    assert settings.status_code == 200, settings.text
    stats = await client.get("/api/v1/stats", params={"project_id": project["id"], **RANGE}, headers=ADMIN)
    assert stats.status_code == 200, stats.text
    # Where the path names the project, a query project_id may repeat it, not contradict it.
    base = f"/api/admin/projects/{project['id']}/keys"
    assert (await client.get(base, params={"project_id": project["id"]}, headers=ADMIN)).status_code == 200
    other = await client.get(base, params={"project_id": "00000000-0000-0000-0000-000000000000"}, headers=ADMIN)
    assert other.status_code == 400
    assert "project_id" in other.json()["error"]


async def test_the_openapi_document_lists_what_each_route_accepts(app, client):
    """One list: what the docs show a route taking is exactly what it accepts."""
    document = (await client.get("/api/openapi.json")).json()
    for context in rest_routes(app):
        for method in context.methods - {"HEAD"}:
            operation = document["paths"][context.path][method.lower()]
            listed = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
            assert listed == declared_query_parameters(context.dependant), (method, context.path)
