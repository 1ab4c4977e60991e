"""Failed authentications are throttled per client address; valid credentials never are. Unknown
keys live in a cache of their own, so they cost no database query twice and never push valid keys
out of the cache."""

from __future__ import annotations

import asyncio
import secrets
import string
from contextlib import asynccontextmanager

import httpx

from pulse import access, auth
from pulse.limits import AUTH_FAILURE_BURST, AUTH_FAILURE_INTERVAL
from tests.helpers import ADMIN, ADMIN_TOKEN, create_key, create_project, key_header, make_app, serving, sql_statements

THROTTLED = "Too many failed authentications from this address. Retry after 2 seconds."


@asynccontextmanager
async def from_address(app, address: str):
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://pulse.test") as c:
        yield c


def random_key() -> str:
    """Shaped like a key (so it is looked up), but nobody's."""
    return auth.KEY_PREFIX + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(24))


async def fail(c: httpx.AsyncClient, n: int, **kwargs) -> list[httpx.Response]:
    path = kwargs.pop("path", "/api/v1/stats")
    headers = kwargs.pop("headers", None)
    return list(await asyncio.gather(*(
        c.get(path, headers=headers or key_header("pa_live_nope")) for _ in range(n))))


def assert_throttled_past_the_burst(responses: list[httpx.Response], message: str) -> None:
    refused = [r for r in responses if r.status_code == 401]
    throttled = [r for r in responses if r.status_code == 429]
    assert len(refused) + len(throttled) == len(responses)
    # The burst, plus perhaps one or two earned back while the requests ran.
    assert AUTH_FAILURE_BURST <= len(refused) <= AUTH_FAILURE_BURST + 2, len(refused)
    assert all(r.json() == {"error": message} for r in refused)
    assert throttled and all(r.json() == {"error": THROTTLED} for r in throttled)
    assert all(r.headers["Retry-After"] == str(AUTH_FAILURE_INTERVAL) for r in throttled)


async def test_bad_keys_are_throttled_past_the_burst_and_a_valid_key_still_works(app, client):
    project = await create_project(client)
    key = key_header((await create_key(client, project["id"], "query"))["key"])
    async with from_address(app, "203.0.113.1") as attacker:
        assert_throttled_past_the_burst(await fail(attacker, AUTH_FAILURE_BURST + 10), "Invalid API key.")
        # The throttled address's further failures stay throttled...
        assert (await attacker.get("/api/v1/stats", headers=key_header(random_key()))).status_code == 429
        # ...but a valid key from it is served, and so is the admin token.
        assert (await attacker.get("/api/v1/stats", headers=key)).status_code == 200
        fresh = key_header((await create_key(client, project["id"], "query"))["key"])  # never seen yet
        assert (await attacker.get("/api/v1/stats", headers=fresh)).status_code == 200
        assert (await attacker.get("/api/admin/projects", headers=ADMIN)).status_code == 200
    async with from_address(app, "203.0.113.2") as neighbour:  # another address is not affected
        response = await neighbour.get("/api/v1/stats", headers=key_header("pa_live_nope"))
        assert response.status_code == 401 and response.json() == {"error": "Invalid API key."}


async def test_the_throttle_lifts_as_time_passes(app):
    async with from_address(app, "203.0.113.3") as c:
        await fail(c, AUTH_FAILURE_BURST + 5)
        assert (await fail(c, 1))[0].status_code == 429
        await asyncio.sleep(AUTH_FAILURE_INTERVAL + 0.2)
        assert (await fail(c, 1))[0].status_code == 401  # one more failure earned back
        assert (await fail(c, 1))[0].status_code == 429


async def test_bad_admin_tokens_count_too(app):
    bad = {"Authorization": "Bearer " + "not-the-admin-token-" + "y" * 20}
    async with from_address(app, "203.0.113.4") as c:
        responses = await fail(c, AUTH_FAILURE_BURST + 10, path="/api/admin/projects", headers=bad)
        assert_throttled_past_the_burst(responses, "Invalid admin token.")
        assert (await c.get("/api/admin/projects", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
                ).status_code == 200


async def test_ingestion_graphql_and_the_login_form_count_failures_per_address(app):
    async with from_address(app, "203.0.113.5") as c:
        await fail(c, AUTH_FAILURE_BURST + 2)
        collect = await c.post("/api/collect", headers=key_header(random_key()),
                               json={"type": "pageview", "url": "https://acme.test/"})
        assert collect.status_code == 429 and collect.json() == {"error": THROTTLED}
        assert collect.headers["Retry-After"] == str(AUTH_FAILURE_INTERVAL)
        graphql = await c.post("/graphql", json={"query": "{ project { domain } }"},
                               headers=key_header(random_key()))
        error = graphql.json()["errors"][0]
        assert (error["message"], error["extensions"]["code"]) == (THROTTLED, "RATE_LIMITED")
        login = await c.post("/dashboard/login", data={"key": random_key()})
        assert login.status_code == 429 and login.headers["Retry-After"] == str(AUTH_FAILURE_INTERVAL)
        assert "Too many failed attempts from your address" in login.text


async def test_an_unknown_key_costs_one_query_and_a_malformed_one_none(app):
    unknown = key_header(random_key())
    async with from_address(app, "203.0.113.6") as c, sql_statements(app) as seen:
        for _ in range(3):
            assert (await c.get("/api/v1/stats", headers=unknown)).status_code == 401
        assert len(seen) == 1  # then remembered as unknown for a few seconds
        for malformed in ("pa_live_nope", "pa_live_" + "x" * 25, "pa_live_" + "é" * 24, "whatever"):
            assert (await c.get("/api/v1/stats", headers={"X-Pulse-Key": malformed.encode()})).status_code == 401
        assert len(seen) == 1


async def test_unknown_keys_never_push_valid_keys_out_of_the_cache(settings, client, monkeypatch):
    monkeypatch.setattr(access, "_CACHE_SIZE", 4)  # small enough to overflow in a test
    project = await create_project(client)
    key = key_header((await create_key(client, project["id"], "query"))["key"])
    app = make_app(settings)
    async with serving(app) as c:
        assert (await c.get("/api/v1/stats", headers=key)).status_code == 200
        for _ in range(12):
            assert (await c.get("/api/v1/stats", headers=key_header(random_key()))).status_code == 401
        async with sql_statements(app) as seen:
            await c.get("/healthz")
            response = await c.get("/api/v1/stats", headers=key)
        assert response.status_code == 200
        assert not any("api_keys" in statement for statement in seen), seen  # still cached
        runtime = app.state.runtime
        assert len(runtime.access._unknown) == 12 and len(runtime.access._keys) <= 4


async def test_a_request_without_an_address_is_not_throttled(app):
    """ASGI servers may omit the client (a Unix socket): such requests are refused, never throttled."""
    transport = httpx.ASGITransport(app=app, client=None)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://pulse.test") as c:
        responses = await fail(c, AUTH_FAILURE_BURST + 5)
    assert {r.status_code for r in responses} == {401}


async def test_a_bad_key_while_redis_is_away_is_still_a_401(settings):
    async with serving(make_app(settings, redis_url="redis://127.0.0.1:1/0")) as c:
        response = await c.get("/api/v1/stats", headers=key_header("pa_live_nope"))
    assert response.status_code == 401 and response.json() == {"error": "Invalid API key."}
