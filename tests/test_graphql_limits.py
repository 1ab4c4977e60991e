"""GraphQL has REST's limits: a query cost limit (PULSE_GRAPHQL_MAX_COST) that the dashboard's own
overview and GraphiQL's introspection stay within; read statements cut by statement_timeout are
503s, the writers' and the jobs' are not; the writers' own pool keeps ingestion going when every
request connection is taken."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from graphql import get_introspection_query
from sqlalchemy import text

from pulse import errors
from pulse.graphql.cost import REPORT_COST
from pulse.worker import NO_STATEMENT_TIMEOUT
from tests.helpers import ADMIN, create_key, create_project, drain, gql, gql_error, key_header, make_app, serving

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


# -- statement_timeout ---------------------------------------------------------------------------

TOO_LONG = "The query took too long (over 300 ms): narrow the date range or the filters and retry."


async def test_read_sessions_carry_the_statement_timeout_and_the_writers_do_not(settings):
    async with serving(make_app(settings, query_timeout_ms=300)) as c:
        runtime = c._transport.app.state.runtime
        async with runtime.read_session() as session:
            assert (await session.execute(text("SHOW statement_timeout"))).scalar() == "300ms"
            with pytest.raises(errors.Unavailable) as cut:
                await session.execute(text("SELECT pg_sleep(2)"))
            assert cut.value.message == TOO_LONG and cut.value.status == 503
        async with runtime.session() as session:
            assert (await session.execute(text("SHOW statement_timeout"))).scalar() == "300ms"
        async with runtime.writer_engine.connect() as conn:
            assert (await conn.execute(text("SHOW statement_timeout"))).scalar() == "0"
            await conn.execute(text("SELECT pg_sleep(0.5)"))  # writers are not cut


async def test_worker_jobs_are_not_cut(settings):
    from pulse.worker import prune_ingest_ledger

    async with serving(make_app(settings, query_timeout_ms=300)) as c:
        runtime = c._transport.app.state.runtime
        async with runtime.engine.begin() as conn:
            await conn.execute(text(NO_STATEMENT_TIMEOUT))
            assert (await conn.execute(text("SHOW statement_timeout"))).scalar() == "0"
            await conn.execute(text("SELECT pg_sleep(0.5)"))
        await prune_ingest_ledger(runtime)


async def test_a_report_cut_by_the_statement_timeout_is_a_clean_503(settings):
    async with serving(make_app(settings, query_timeout_ms=300)) as c:
        headers = await query_key(c)
        runtime = c._transport.app.state.runtime
        async with runtime.writer_engine.connect() as locker:  # another connection holds the rollups
            await locker.execute(text("BEGIN"))
            await locker.execute(text("LOCK TABLE daily_rollups IN ACCESS EXCLUSIVE MODE"))
            response = await c.get("/api/v1/stats", headers=headers)
            assert response.status_code == 503 and response.json() == {"error": TOO_LONG}
            assert response.headers["retry-after"] == "1"
            result = await gql(c, "{ project { stats { current { pageviews } } } }", headers=headers)
            assert gql_error(result) == (TOO_LONG, "UNAVAILABLE")
            assert result["errors"][0]["extensions"]["status"] == 503
            await locker.execute(text("ROLLBACK"))
        assert (await c.get("/api/v1/stats", headers=headers)).status_code == 200


# -- the writers' own pool -----------------------------------------------------------------------

async def test_ingestion_writes_while_every_request_connection_is_held(settings):
    async with serving(make_app(settings, db_pool_size=1)) as c:
        app = c._transport.app
        project = await create_project(c, "Busy", "busy.test")
        ingest = key_header((await create_key(c, project["id"], "ingest"))["key"])
        first = {"type": "pageview", "visitor_id": "v1", "path": "/before"}
        assert (await c.post("/api/collect", json=first, headers=ingest)).status_code == 200  # caches the key
        await drain(app)
        async with app.state.runtime.engine.connect() as held:  # the request pool's only connection
            await held.execute(text("SELECT 1"))
            body = {"type": "pageview", "visitor_id": "v2", "path": "/during"}
            assert (await c.post("/api/collect", json=body, headers=ingest)).status_code == 200
            assert await asyncio.wait_for(drain(app), timeout=20) == 1
            async with app.state.runtime.writer_engine.connect() as conn:
                paths = (await conn.execute(text("SELECT path FROM pageviews WHERE project_id = :p ORDER BY ts"),
                                            {"p": project["id"]})).scalars().all()
        assert paths == ["/before", "/during"]


@pytest.mark.parametrize("variables", [{"first": 2**31}, {"first": 2**63}, {"first": 1.5}, {"first": "10"},
                                       {"first": None}])
async def test_a_variable_its_type_refuses_is_a_client_error(client, variables):
    project = await create_project(client, "Vars", "vars.test")
    key = (await create_key(client, project["id"], "query"))["key"]
    query = "query Q($first: Int!) { project { pages(first: $first) { total } } }"
    result = await gql(client, query, variables, headers=key_header(key))
    assert result["data"] is None
    error = result["errors"][0]
    assert error["extensions"] == {"code": "BAD_REQUEST", "status": 400}
    assert error["message"].startswith("Variable '$first'")


async def test_a_failing_field_returns_its_siblings_connection(client, app):
    """A field that fails cancels its siblings, not the loader batch one was waiting on: the read
    session must close only after that batch, or its connection stays checked out (found by fuzzing:
    a query key could drain the pool a few requests at a time)."""
    project = await create_project(client, "Pool", "pool.test")
    key = (await create_key(client, project["id"], "query"))["key"]
    query = ("query Q($filters: [FilterInput!], $after: String) { project { pages(filters: $filters, after: $after) "
             "{ total } timeseries(filters: $filters) { visitors } } }")
    variables = {"after": "nope", "filters": [{"dimension": "path", "operator": "IS", "value": "/"}]}
    pool = app.state.runtime.engine.sync_engine.pool
    for _ in range(3):
        result = await gql(client, query, variables, headers=key_header(key))
        assert gql_error(result)[1] == "BAD_REQUEST"
    assert pool.checkedout() == 0


async def test_a_busy_pool_is_a_503_in_the_envelope(settings):
    async with serving(make_app(settings, db_pool_size=1)) as c:
        app = c._transport.app
        project = await create_project(c, "Full", "full.test")
        query = key_header((await create_key(c, project["id"], "query"))["key"])
        assert (await c.get("/api/v1/stats", headers=query)).status_code == 200  # caches the key
        app.state.runtime.engine.sync_engine.pool._timeout = 0.2  # not the 30 s default wait
        async with app.state.runtime.engine.connect() as held:  # the request pool's only connection
            await held.execute(text("SELECT 1"))
            response = await c.get("/api/v1/stats", headers=query)
            assert response.status_code == 503 and response.headers["Retry-After"] == "1"
            assert response.json() == {"error": errors.POOL_BUSY}
            result = await gql(c, "{ project { stats { previous { pageviews } } } }", headers=query)
            assert gql_error(result) == (errors.POOL_BUSY, "UNAVAILABLE")
