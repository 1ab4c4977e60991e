"""The GraphQL endpoint: explorer, exported SDL, depth and cost limits, batching of loaders."""

from __future__ import annotations

from pathlib import Path

from pulse.graphql.schema import export_sdl
from tests.conftest import ADMIN, create_key, create_project, gql, gql_error, make_app, serving, sql_statements

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
    message, _ = gql_error(await gql(client, many))
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
