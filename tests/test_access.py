"""The one access check, on a REST route and a GraphQL field that declare a module.

Probe routes stand in for the module endpoints later issues add: they declare their needs the
same way (`requires(need(...))`, `allow(need(...))`) and go through the same check.
"""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest_asyncio
import strawberry
from fastapi import APIRouter
from strawberry.fastapi import GraphQLRouter
from strawberry.types import Info

from pulse.auth import PROJECT_ADMIN, Caller, need
from pulse.deps import INVALID_METRICS_TOKEN, MISSING_METRICS_TOKEN, requires
from pulse.graphql.context import get_context
from pulse.graphql.permissions import allow
from pulse.logs import configure_logging
from tests.helpers import ADMIN, create_key, create_project, gql, gql_error, key_header, make_app, serving

probe = APIRouter()
FUNNELS = need("funnels", "query")


def _project(caller: Caller) -> dict:
    return {"project_id": str(caller.project_id)}

probe.add_api_route("/api/v1/probe/funnels", lambda caller=requires(FUNNELS): _project(caller), methods=["GET"])
probe.add_api_route("/api/v1/probe/funnels", lambda caller=requires(FUNNELS): _project(caller), methods=["POST"])
probe.add_api_route("/api/v1/probe/collect", lambda caller=requires(need("core", "ingest")): _project(caller),
                    methods=["POST"])
probe.add_api_route("/api/v1/probe/privacy", lambda caller=requires(PROJECT_ADMIN): _project(caller),
                    methods=["GET"])


@strawberry.type
class ProbeQuery:
    @strawberry.field(permission_classes=[allow(FUNNELS)])
    async def funnels(self, info: Info) -> str:
        return "ok"


@strawberry.type
class ProbeMutation:
    @strawberry.mutation(permission_classes=[allow(FUNNELS)])
    async def create_funnel(self, info: Info) -> str:
        return "created"


@pytest_asyncio.fixture(scope="module")
async def client(settings) -> AsyncIterator[httpx.AsyncClient]:
    from pulse.graphql.schema import build_schema

    app = make_app(settings)
    app.include_router(probe)
    app.include_router(GraphQLRouter(build_schema(settings, queries=(ProbeQuery,), mutations=(ProbeMutation,)),
                                     path="/graphql-probe", context_getter=get_context))
    async with serving(app) as c:
        yield c


async def setup(client, *scopes: str, **fields: Any) -> tuple[dict, dict]:
    project = await create_project(client)
    key = await create_key(client, project["id"], *scopes, **fields)
    return project, key_header(key["key"])


async def probe_gql(client, query: str, headers: dict) -> dict:
    return await gql(client, query, headers=headers, path="/graphql-probe")


async def test_missing_and_invalid_keys(client):
    missing = await client.get("/api/v1/probe/funnels")
    assert missing.status_code == 401
    assert missing.json() == {"error": "Missing API key. Provide it via X-Pulse-Key header or ?key= query parameter."}
    invalid = await client.get("/api/v1/probe/funnels", headers=key_header("pa_live_" + "x" * 24))
    assert invalid.status_code == 401 and invalid.json() == {"error": "Invalid API key."}
    assert gql_error(await probe_gql(client, "{ funnels }", {})) == (
        "Missing API key. Provide it via X-Pulse-Key header or ?key= query parameter.", "UNAUTHENTICATED")
    assert gql_error(await probe_gql(client, "{ funnels }", key_header("pa_live_nope"))) == (
        "Invalid API key.", "UNAUTHENTICATED")


async def test_a_key_works_from_the_header_the_query_string_or_a_bearer(client):
    project, headers = await setup(client, "query")
    key = headers["X-Pulse-Key"]
    for response in [await client.get("/api/v1/probe/funnels", headers=headers),
                     await client.get(f"/api/v1/probe/funnels?key={key}"),
                     await client.get("/api/v1/probe/funnels", headers={"Authorization": f"Bearer {key}"})]:
        assert response.status_code == 200 and response.json() == {"project_id": project["id"]}


async def test_scope(client):
    _, ingest = await setup(client, "ingest")
    refused = await client.get("/api/v1/probe/funnels", headers=ingest)
    assert refused.status_code == 403
    assert refused.json() == {"error": "API key does not have the required 'query' scope for this endpoint."}
    assert (await client.post("/api/v1/probe/collect", headers=ingest)).status_code == 200
    _, query = await setup(client, "query")
    refused = await client.post("/api/v1/probe/collect", headers=query)
    assert refused.json() == {"error": "API key does not have the required 'ingest' scope for this endpoint."}
    assert gql_error(await probe_gql(client, "{ funnels }", ingest)) == (
        "API key does not have the required 'query' scope for this endpoint.", "FORBIDDEN")
    _, admin = await setup(client, "admin")
    assert (await client.get("/api/v1/probe/funnels", headers=admin)).status_code == 200
    assert (await client.post("/api/v1/probe/collect", headers=admin)).status_code == 200
    assert (await client.get("/api/v1/probe/privacy", headers=admin)).status_code == 200
    refused = await client.get("/api/v1/probe/privacy", headers=query)
    assert refused.json() == {"error": "API key does not have the required 'admin' scope for this endpoint."}


async def test_module_disabled(client):
    project, headers = await setup(client, "query")
    await client.post(f"/api/admin/projects/{project['id']}/modules/funnels/disable", headers=ADMIN)
    refused = await client.get("/api/v1/probe/funnels", headers=headers)
    assert refused.status_code == 403
    assert refused.json() == {"error": "Module 'funnels' is not enabled for this project."}
    assert gql_error(await probe_gql(client, "{ funnels }", headers)) == (
        "Module 'funnels' is not enabled for this project.", "FORBIDDEN")
    await client.post(f"/api/admin/projects/{project['id']}/modules/funnels/enable", headers=ADMIN)
    assert (await client.get("/api/v1/probe/funnels", headers=headers)).status_code == 200


async def test_allowed_modules(client):
    _, headers = await setup(client, "query", allowed_modules=["goals"])
    refused = await client.get("/api/v1/probe/funnels", headers=headers)
    assert refused.status_code == 403
    assert refused.json() == {"error": "API key is not allowed to access module 'funnels'."}
    assert gql_error(await probe_gql(client, "{ funnels }", headers))[0] == (
        "API key is not allowed to access module 'funnels'.")
    _, allowed = await setup(client, "query", allowed_modules=["funnels"])
    assert (await client.get("/api/v1/probe/funnels", headers=allowed)).status_code == 200
    _, empty = await setup(client, "query", allowed_modules=[])
    assert (await client.get("/api/v1/probe/funnels", headers=empty)).status_code == 200


async def test_access_level(client):
    project, headers = await setup(client, "query")
    base = f"/api/admin/projects/{project['id']}/modules/funnels/access"
    await client.put(base, json={"access": "read"}, headers=ADMIN)
    assert (await client.get("/api/v1/probe/funnels", headers=headers)).status_code == 200
    refused = await client.post("/api/v1/probe/funnels", headers=headers)
    assert refused.status_code == 403
    assert refused.json() == {"error": "Module 'funnels' does not allow write access for this project."}
    assert (await probe_gql(client, "{ funnels }", headers))["data"] == {"funnels": "ok"}
    assert gql_error(await probe_gql(client, "mutation { createFunnel }", headers)) == (
        "Module 'funnels' does not allow write access for this project.", "FORBIDDEN")
    await client.put(base, json={"access": "write"}, headers=ADMIN)
    assert (await client.post("/api/v1/probe/funnels", headers=headers)).status_code == 200
    refused = await client.get("/api/v1/probe/funnels", headers=headers)
    assert refused.json() == {"error": "Module 'funnels' does not allow read access for this project."}
    await client.put(base, json={"access": "all"}, headers=ADMIN)
    assert (await client.get("/api/v1/probe/funnels", headers=headers)).status_code == 200


async def test_checks_run_in_the_documented_order(client):
    # A key lacking the scope, outside allowed_modules, on a disabled module: scope is reported first.
    project, headers = await setup(client, "ingest", allowed_modules=["goals"])
    await client.post(f"/api/admin/projects/{project['id']}/modules/funnels/disable", headers=ADMIN)
    first = await client.get("/api/v1/probe/funnels", headers=headers)
    assert first.json()["error"].startswith("API key does not have the required 'query' scope")
    project, headers = await setup(client, "query", allowed_modules=["goals"])
    await client.post(f"/api/admin/projects/{project['id']}/modules/funnels/disable", headers=ADMIN)
    second = await client.get("/api/v1/probe/funnels", headers=headers)
    assert second.json() == {"error": "Module 'funnels' is not enabled for this project."}


async def test_the_admin_token_acts_on_a_named_project(client):
    project, _ = await setup(client, "query")
    named = await client.get(f"/api/v1/probe/privacy?project_id={project['id']}", headers=ADMIN)
    assert named.status_code == 200 and named.json() == {"project_id": project["id"]}
    unnamed = await client.get("/api/v1/probe/privacy", headers=ADMIN)
    assert unnamed.status_code == 400
    assert unnamed.json() == {"error": "The admin token must name the project: ?project_id= on REST, "
                                       "the project's id argument in GraphQL."}
    unknown = await client.get("/api/v1/probe/privacy?project_id=00000000-0000-0000-0000-000000000000",
                               headers=ADMIN)
    assert unknown.status_code == 404


async def test_tenant_isolation(client):
    """Project A's keys can never read or change project B."""
    a, a_query = await setup(client, "query")
    b, _ = await setup(client, "query")
    _, a_admin = await setup(client, "admin")
    # A key's project is its own, whatever the request names.
    named_b = await client.get(f"/api/v1/probe/funnels?project_id={b['id']}", headers=a_query)
    assert named_b.status_code == 404
    assert (await client.get("/api/v1/probe/funnels", headers=a_query)).json() == {"project_id": a["id"]}
    assert gql_error(await gql(client, "query($id: ID) { project(id: $id) { id } }", {"id": b["id"]},
                               headers=a_query))[1] == "NOT_FOUND"
    assert gql_error(await gql(client, "query($id: ID) { project(id: $id) { keys { id } } }", {"id": b["id"]},
                               headers=a_admin))[1] == "NOT_FOUND"
    for mutation in [
        'mutation($p: ID!) { createApiKey(projectId: $p, name: "x", scopes: ["admin"]) { key } }',
        'mutation($p: ID!) { enableModule(projectId: $p, name: "bi") { enabled } }',
        'mutation($p: ID!) { updateModules(projectId: $p, modules: [{name: "bi", enabled: true}]) { name } }',
    ]:
        result = await gql(client, mutation, {"p": b["id"]}, headers=a_admin)
        assert gql_error(result)[1] == "NOT_FOUND", mutation
    keys_of_b = (await client.get(f"/api/admin/projects/{b['id']}/keys", headers=ADMIN)).json()["data"]
    assert len(keys_of_b) == 1
    modules_of_b = (await client.get(f"/api/admin/projects/{b['id']}/modules", headers=ADMIN)).json()["modules"]
    assert next(m for m in modules_of_b if m["name"] == "bi")["enabled"] is False


async def test_metrics_can_require_a_token_and_always_take_the_admin_token(settings):
    token = "metrics-" + "m" * 24
    async with serving(make_app(settings, metrics_token=token)) as c:
        missing = await c.get("/metrics")
        assert missing.status_code == 401 and missing.json() == {"error": MISSING_METRICS_TOKEN}
        wrong = await c.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and wrong.json() == {"error": INVALID_METRICS_TOKEN}
        project_key = await c.get("/metrics", headers={"Authorization": "Bearer pa_live_" + "x" * 24})
        assert project_key.status_code == 401
        for bearer in (token, ADMIN["Authorization"].removeprefix("Bearer ")):
            ok = await c.get("/metrics", headers={"Authorization": f"Bearer {bearer}"})
            assert ok.status_code == 200 and "pulse_http_requests_total" in ok.text
    async with serving(make_app(settings)) as c:  # unset: open, as before
        assert (await c.get("/metrics")).status_code == 200


async def test_no_key_value_reaches_a_log_line(settings, client):
    """`?key=` works as documented, but neither the access log, nor a uvicorn-style request line,
    nor an exception's traceback shows the key: every line's key values are redacted."""
    project, headers = await setup(client, "query")
    key, unknown = headers["X-Pulse-Key"], "pa_live_" + "Q" * 24
    loggers = [logging.getLogger(name) for name in ("", "uvicorn", "uvicorn.error", "uvicorn.access")]
    saved = [(lg.handlers[:], lg.level, lg.propagate, lg.disabled) for lg in loggers]
    out = io.StringIO()
    configure_logging("info", stream=out)
    try:
        async with serving(make_app(settings)) as c:
            assert (await c.get(f"/api/v1/probe/funnels?key={key}")).status_code == 404  # not in this app
            assert (await c.get(f"/api/v1/stats?key={key}&limit=5")).status_code == 200
            refused = await c.get(f"/api/v1/stats?key={unknown}")
            assert refused.status_code == 401 and unknown not in refused.text
        logging.getLogger("uvicorn.error").info('%s - "%s %s HTTP/%s" %d', "203.0.113.9", "GET",
                                                f"/api/v1/stats?range=7d&key={key}", "1.1", 200)
        try:
            raise RuntimeError(f"failed with {key}")
        except RuntimeError:
            logging.getLogger("pulse.test").exception("request to %s failed", f"/api/v1/stats?key={unknown}")
    finally:
        for lg, (handlers, level, propagate, disabled) in zip(loggers, saved, strict=True):
            lg.handlers[:], lg.level, lg.propagate, lg.disabled = handlers, level, propagate, disabled
    text = out.getvalue()
    assert '"path": "/api/v1/stats"' in text  # the access log was there
    for secret in (key, unknown, key.removeprefix("pa_live_"), unknown.removeprefix("pa_live_")):
        assert secret not in text
    assert "range=7d&key=REDACTED" in text and "stats?key=REDACTED" in text
    assert "failed with pa_live_REDACTED" in text
