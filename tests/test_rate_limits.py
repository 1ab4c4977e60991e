"""Rate limits per project (ingest, query) and per admin token, counted in Redis."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest_asyncio

from tests.helpers import ADMIN, CHROME, create_key, create_project, key_header, make_app, serving

LIMIT = 5


QUERY_LIMIT = 20 * LIMIT  # for `collecting`: far above a burst, so only the ingest budget can refuse one
PAGEVIEW = {"type": "pageview", "path": "/", "visitor_id": "v1"}


@pytest_asyncio.fixture(scope="module")
async def limited(settings) -> AsyncIterator[httpx.AsyncClient]:
    app = make_app(settings, rate_limit_query=LIMIT, rate_limit_admin=LIMIT, rate_limit_ingest=LIMIT)
    async with serving(app) as c:
        yield c


@pytest_asyncio.fixture(scope="module")
async def collecting(settings) -> AsyncIterator[httpx.AsyncClient]:
    """An ingest budget of LIMIT and a query budget no burst here reaches: a collect request
    refused here was counted against the ingest budget, whichever key sent it."""
    app = make_app(settings, rate_limit_query=QUERY_LIMIT, rate_limit_admin=QUERY_LIMIT, rate_limit_ingest=LIMIT)
    async with serving(app) as c:
        yield c


async def burst(client: httpx.AsyncClient, n: int, path: str, headers: dict) -> list[httpx.Response]:
    """n concurrent requests that land inside one or two one-second windows."""
    return list(await asyncio.gather(*(client.get(path, headers=headers) for _ in range(n))))


async def collect_burst(client: httpx.AsyncClient, n: int, headers: dict) -> list[httpx.Response]:
    """n concurrent `POST /api/collect` of one pageview each."""
    headers = {**headers, "User-Agent": CHROME}
    return list(await asyncio.gather(*(client.post("/api/collect", json=PAGEVIEW, headers=headers)
                                       for _ in range(n))))


def assert_limited(responses: list[httpx.Response]) -> None:
    limited = [r for r in responses if r.status_code == 429]
    allowed = [r for r in responses if r.status_code == 200]
    assert limited, "expected some requests to be rate limited"
    assert allowed, "expected the first requests of the window to pass"
    assert len(allowed) + len(limited) == len(responses)
    assert len(allowed) <= 2 * LIMIT  # a burst may straddle two windows
    assert all(r.headers["Retry-After"] == "1" for r in limited)
    assert all(r.json() == {"error": "Rate limit exceeded. Retry after 1 second."} for r in limited)


async def wait_for_next_window() -> None:
    await asyncio.sleep(1 - (time.time() % 1) + 0.01)


async def test_admin_requests_are_limited_per_token(limited):
    await wait_for_next_window()
    assert_limited(await burst(limited, 3 * LIMIT, "/api/admin/projects", ADMIN))


async def test_query_requests_are_limited_per_project(client, limited):
    first = await create_project(client, "One", "one.test")
    second = await create_project(client, "Two", "two.test")
    key_one = key_header((await create_key(client, first["id"], "admin"))["key"])
    key_one_more = key_header((await create_key(client, first["id"], "admin"))["key"])
    key_two = key_header((await create_key(client, second["id"], "admin"))["key"])
    await wait_for_next_window()
    half = await burst(limited, 2 * LIMIT, f"/api/admin/projects/{first['id']}/modules", key_one)
    rest = await burst(limited, 2 * LIMIT, f"/api/admin/projects/{first['id']}/modules", key_one_more)
    assert_limited(half + rest)  # two keys of one project share its budget
    other = await limited.get(f"/api/admin/projects/{second['id']}/modules", headers=key_two)
    assert other.status_code == 200  # another project is not affected


async def test_the_limit_lifts_after_the_window(client, limited):
    project = await create_project(client)
    key = key_header((await create_key(client, project["id"], "admin"))["key"])
    path = f"/api/admin/projects/{project['id']}/modules"
    await wait_for_next_window()
    assert_limited(await burst(limited, 3 * LIMIT, path, key))
    await wait_for_next_window()
    assert (await limited.get(path, headers=key)).status_code == 200


async def test_ingest_has_its_own_budget_per_project(client, limited):
    """`POST /api/collect` itself, with the project's ingest keys: they share one budget, and the
    project's queries and another project's collect requests are counted separately."""
    project = await create_project(client)
    other = await create_project(client, "Other", "other.test")
    ingest = key_header((await create_key(client, project["id"], "ingest"))["key"])
    ingest_more = key_header((await create_key(client, project["id"], "ingest"))["key"])
    other_ingest = key_header((await create_key(client, other["id"], "ingest"))["key"])
    admin = key_header((await create_key(client, project["id"], "admin"))["key"])
    query = key_header((await create_key(client, project["id"], "query"))["key"])
    await wait_for_next_window()
    responses = await collect_burst(limited, 2 * LIMIT, ingest) + await collect_burst(limited, 2 * LIMIT, ingest_more)
    assert_limited(responses)  # the documented 429: body and Retry-After
    assert all(r.json() == {"ok": True} for r in responses if r.status_code == 200)
    # Queries of the same project are counted separately.
    assert (await limited.get(f"/api/admin/projects/{project['id']}/modules", headers=admin)).status_code == 200
    assert (await limited.get("/api/v1/stats", headers=query)).status_code == 200
    other_collect = await limited.post("/api/collect", json=PAGEVIEW, headers={**other_ingest, "User-Agent": CHROME})
    assert other_collect.status_code == 200  # another project is not affected


async def test_collect_spends_the_ingest_budget_whatever_the_key(client, collecting):
    """An admin key may collect too: its collect requests count against the ingest budget (they
    are refused at the ingest limit, far below the query one), and its queries still pass."""
    project = await create_project(client)
    admin = key_header((await create_key(client, project["id"], "admin"))["key"])
    await wait_for_next_window()
    assert_limited(await collect_burst(collecting, 3 * LIMIT, admin))
    assert (await collecting.get("/api/v1/stats", headers=admin)).status_code == 200
    assert (await collecting.get(f"/api/admin/projects/{project['id']}/modules", headers=admin)).status_code == 200


async def test_an_ingest_key_cannot_spend_the_query_budget(client, limited):
    """The ingest key is public: hammering the read API (REST and GraphQL) with it counts against
    the project's ingest budget, never the query budget the dashboard lives on."""
    project = await create_project(client)
    ingest = key_header((await create_key(client, project["id"], "ingest"))["key"])
    query = key_header((await create_key(client, project["id"], "query"))["key"])
    await wait_for_next_window()
    rest = await burst(limited, 3 * LIMIT, "/api/v1/stats", ingest)
    graphql = await asyncio.gather(*(limited.post("/graphql", json={"query": "{ project { domain } }"},
                                                  headers=ingest) for _ in range(LIMIT)))
    assert {r.status_code for r in rest} == {403, 429}  # refused, and limited in its own budget
    assert all(r.status_code in (200, 429) for r in graphql)
    assert (await limited.get("/api/v1/stats", headers=query)).status_code == 200
    assert (await limited.post("/graphql", json={"query": "{ project { domain } }"},
                               headers=query)).json() == {"data": {"project": {"domain": "acme.test"}}}
