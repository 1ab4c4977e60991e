"""The GraphQL endpoint: explorer, exported SDL, depth and cost limits, batching of loaders."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import get_introspection_query

from pulse.errors import INVALID_KEY, MISSING_ADMIN_TOKEN, MISSING_KEY
from pulse.graphql.schema import export_sdl
from pulse.web import session
from tests.helpers import (
    ADMIN,
    create_key,
    create_project,
    gql,
    gql_error,
    key_header,
    make_app,
    serving,
    sql_statements,
)

SDL = Path(__file__).resolve().parent.parent / "schema" / "schema.graphql"


def test_checked_in_sdl_is_current():
    assert SDL.read_text() == export_sdl(), "schema/schema.graphql is stale: run `make schema`"


async def test_get_serves_the_graphiql_explorer(client):
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_depth_limit(settings):
    async with serving(make_app(settings, graphql_max_depth=1)) as c:
        assert "errors" not in await gql(c, "{ projects { id } }", headers=ADMIN)
        message, _ = gql_error(await gql(c, "{ projects { keys { id } } }", headers=ADMIN))
        assert "exceeds maximum operation depth of 1" in message


async def test_alias_limit(client):
    many = "{ " + " ".join(f"a{i}: modules {{ name }}" for i in range(40)) + " }"
    message, _ = gql_error(await gql(client, many, headers=ADMIN))
    assert "aliases" in message.lower()


async def count_statements(app, client, query: str) -> tuple[dict, list[str]]:
    async with sql_statements(app) as statements:
        result = await gql(client, query, headers=ADMIN)
    return result, statements


async def test_nested_fields_cost_the_same_statements_for_any_number_of_projects(client, app):
    query = "{ projects { id keys { id } modules { name enabled } } }"

    async def add_projects(n: int) -> None:
        for i in range(n):
            project = await create_project(client, f"P{i}", f"p{i}.test")
            await create_key(client, project["id"], "query")

    await add_projects(2)
    few, few_statements = await count_statements(app, client, query)
    await add_projects(5)
    many, many_statements = await count_statements(app, client, query)
    assert len(many["data"]["projects"]) == len(few["data"]["projects"]) + 5
    # projects; their access settings (projects, modules, privacy) for the permission checks; keys; modules.
    assert len(few_statements) == len(many_statements) == 6, many_statements


# -- credentials -------------------------------------------------------------------------------

INTROSPECTION = get_introspection_query()
ANONYMOUS = ["{ __typename }", "{ modules { name } }", "{ projects { id } }", "query { project { id } }",
             "mutation { createProject(name: \"X\", domain: \"x.test\") { id } }",
             "query A { __schema { queryType { name } } } query B { __typename }",
             "{ __schema { queryType { name } } modules { name } }",
             "{ ...F } fragment F on Query { __type(name: \"Project\") { name } projects { id } }"]


@pytest.mark.parametrize("query", ANONYMOUS)
async def test_without_a_credential_every_operation_is_a_401(client, query):
    response = await client.post("/graphql", json={"query": query})
    assert response.status_code == 401  # as on REST; the body keeps GraphQL's shape
    result = response.json()
    assert result["data"] is None and len(result["errors"]) == 1, result
    # the first field's own REST message: a missing key, or for admin fields a missing admin token
    assert result["errors"][0]["message"] in (MISSING_KEY, MISSING_ADMIN_TOKEN)
    assert result["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED", "status": 401}


async def test_a_wrong_credential_is_a_401_whatever_the_operation(client):
    for headers in ({"X-Pulse-Key": "pa_live_nope"}, {"Authorization": "Bearer wrong-admin-token-wrong-admin-token"}):
        for query in ("{ __typename }", INTROSPECTION):
            result = await gql(client, query, headers=headers)
            assert result["data"] is None, result
            assert gql_error(result) in ((INVALID_KEY, "UNAUTHENTICATED"), ("Invalid admin token.", "UNAUTHENTICATED"))


async def test_introspection_without_a_credential_is_allowed_by_default(client):
    for query in (INTROSPECTION, "{ __type(name: \"Project\") { name } }",
                  "query Q { ...F } fragment F on Query { __schema { types { name } } }"):
        result = await gql(client, query)
        assert "errors" not in result and result["data"], result


async def test_introspection_can_be_turned_off_for_anonymous_callers(settings):
    async with serving(make_app(settings, graphql_introspection=False)) as c:
        assert gql_error(await gql(c, INTROSPECTION)) == (MISSING_KEY, "UNAUTHENTICATED")
        page = await c.get("/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 200 and "graphiql" in page.text.lower()  # the explorer stays public
        project = await create_project(c, "Intro", "intro.test")
        key = (await create_key(c, project["id"], "query"))["key"]
        login = await c.post("/dashboard/login", data={"key": key}, follow_redirects=False)
        cookie = {"Cookie": f"{session.COOKIE}={login.cookies[session.COOKIE]}"}
        for headers, path in ((key_header(key), "/graphql"), ({}, f"/graphql?key={key}"), (ADMIN, "/graphql"),
                              (cookie, "/graphql")):
            result = await gql(c, INTROSPECTION, headers=headers, path=path)
            assert "errors" not in result and result["data"]["__schema"], (headers, path, result)
        assert (await gql(c, "{ __typename }", headers=key_header(key)))["data"] == {"__typename": "Query"}
