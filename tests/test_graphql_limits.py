"""GraphQL has REST's limits: a query cost limit (PULSE_GRAPHQL_MAX_COST) that the dashboard's own
overview and GraphiQL's introspection stay within, and read statements cut by statement_timeout."""

from __future__ import annotations

import re
from pathlib import Path

from graphql import get_introspection_query

from pulse.graphql.cost import REPORT_COST
from tests.conftest import ADMIN, create_key, create_project, gql, gql_error, key_header, make_app, serving

OVERVIEW_JS = Path(__file__).resolve().parent.parent / "pulse/web/dashboard/src/views/overview.js"


def overview_query() -> str:
    return re.search(r"const REPORT = `(.*?)`;", OVERVIEW_JS.read_text(), re.S).group(1)


OVERVIEW_VARIABLES = {"startAt": "2026-01-01", "endAt": "2026-01-31", "filters": [], "interval": "day",
                      "rows": 10, "utm": True}


async def query_key(client) -> dict:
    project = await create_project(client, "Costly", "costly.test")
    return key_header((await create_key(client, project["id"], "query"))["key"])


async def test_the_dashboards_overview_and_introspection_are_within_the_cost_limit(client):
    headers = await query_key(client)
    result = await gql(client, overview_query(), OVERVIEW_VARIABLES, headers=headers)
    assert "errors" not in result, result
    result = await gql(client, get_introspection_query(descriptions=True), headers=headers)
    assert "errors" not in result, result


async def test_thirty_aliases_of_a_report_are_over_the_cost_limit(client):
    headers = await query_key(client)
    many = "{ project { " + " ".join(f"a{i}: pages(first: 1000) {{ total }}" for i in range(30)) + " } }"
    message, _ = gql_error(await gql(client, many, headers=headers))
    assert re.fullmatch(r"The operation costs \d+, more than the limit of 2000: .*", message), message
    few = "{ project { " + " ".join(f"a{i}: stats {{ current {{ pageviews }} }}" for i in range(30)) + " } }"
    message, _ = gql_error(await gql(client, few, headers=headers))
    assert "more than the limit of 2000" in message
    fine = "{ project { " + " ".join(f"a{i}: stats {{ current {{ pageviews }} }}" for i in range(5)) + " } }"
    assert "errors" not in await gql(client, fine, headers=headers)


async def test_the_cost_limit_is_a_setting(settings):
    async with serving(make_app(settings, graphql_max_cost=REPORT_COST + 10)) as c:
        headers = await query_key(c)
        assert "errors" not in await gql(c, "{ project { stats { current { pageviews } } } }", headers=headers)
        message, _ = gql_error(await gql(c, "{ project { stats { current { pageviews } } pages { total } } }",
                                         headers=headers))
        assert f"more than the limit of {REPORT_COST + 10}" in message
        assert "errors" not in await gql(c, "{ projects { id name } }", headers=ADMIN)
