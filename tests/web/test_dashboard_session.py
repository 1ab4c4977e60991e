"""Dashboard sessions without a browser: the signed cookie, login and logout, and the cookie as a
credential for GraphQL and REST reads (and only for those)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from starlette.requests import Request

from pulse.web import session
from pulse.web.dashboard import ADMIN_KEY, ENDED, EXPIRED, INGEST_ONLY, INVALID, NO_SECRET
from tests.browser import poll
from tests.helpers import ADMIN, create_key, create_project, gql, key_header, make_app, serving, sql_statements

SECRET = "test-cookie-secret"  # the `settings` fixture's PULSE_COOKIE_SECRET
OVERVIEW_JS = Path(__file__).parents[2] / "pulse/web/dashboard/src/views/overview.js"


def fresh(key_id: str = "k", **fields) -> session.Session:
    values = {"key_id": key_id, "project_id": "p", "sid": "s", "expires": int(time.time()) + 60, **fields}
    return session.Session(**values)


# -- the cookie itself ----------------------------------------------------------------------------

def test_a_signed_cookie_verifies_to_its_session():
    assert session.verify(session.sign(fresh(), SECRET), SECRET) == fresh()


@pytest.mark.parametrize("tamper", [
    lambda v: v.replace(v[5], "A" if v[5] != "A" else "B", 1),  # a changed payload
    lambda v: v[:-2] + ("AA" if not v.endswith("AA") else "BB"),  # a changed signature
    lambda v: v.split(".")[0],  # no signature
    lambda v: "garbage.garbage",
])
def test_a_tampered_cookie_is_refused(tamper):
    assert session.verify(tamper(session.sign(fresh(), SECRET)), SECRET) is None


def test_a_cookie_signed_with_another_secret_is_refused():
    assert session.verify(session.sign(fresh(), "another secret"), SECRET) is None


def test_an_expired_cookie_is_refused():
    value = session.sign(fresh(expires=1000), SECRET)
    assert session.verify(value, SECRET, now=999) is not None
    assert session.verify(value, SECRET, now=1000) is None


@pytest.mark.parametrize("method, path, content_type, accepted", [
    ("GET", "/api/v1/stats", None, True),
    ("POST", "/graphql", "application/json", True),
    ("POST", "/graphql", "application/json; charset=utf-8", True),
    ("POST", "/graphql", "text/plain", False),  # what a cross-site form could send without a preflight
    ("POST", "/graphql", "application/x-www-form-urlencoded", False),
    ("PUT", "/api/v1/privacy/settings", "application/json", False),
    ("POST", "/api/collect", "application/json", False),
])
def test_the_cookie_counts_for_reads_and_graphql_json_only(method, path, content_type, accepted):
    headers = [(b"content-type", content_type.encode())] if content_type else []
    request = Request({"type": "http", "method": method, "path": path, "headers": headers, "query_string": b""})
    assert session.accepts_cookie(request) is accepted


# -- login, logout, and the cookie as a credential -------------------------------------------------

@pytest.fixture(scope="module")
async def keys(client):
    project = await create_project(client, "Dash", "dash.test")
    other = await create_project(client, "Other", "other.test")
    made = {scopes: (await create_key(client, project["id"], *scopes.split("+")))
            for scopes in ("query", "ingest", "admin", "query+admin", "query+ingest")}
    return {"project": project, "other_query": (await create_key(client, other["id"], "query"))["key"],
            "ids": {name: key["id"] for name, key in made.items()},
            **{name: key["key"] for name, key in made.items()}}


async def login(client: httpx.AsyncClient, key: str, **headers) -> httpx.Response:
    return await client.post("/dashboard/login", data={"key": key}, headers=headers, follow_redirects=False)


async def cookie_of(client: httpx.AsyncClient, key: str) -> str:
    response = await login(client, key)
    assert response.status_code == 303, response.text
    return response.cookies[session.COOKIE]


def jar(value: str) -> dict:
    return {"Cookie": f"{session.COOKIE}={value}"}


async def test_login_sets_a_signed_httponly_lax_expiring_cookie(client, keys):
    response = await login(client, keys["query"])
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard"
    header = response.headers["set-cookie"]
    assert re.search(r"; HttpOnly", header, re.I) and re.search(r"; SameSite=lax", header, re.I)
    assert f"Max-Age={session.MAX_AGE}" in header and "Path=/" in header
    assert "secure" not in header.lower()  # plain HTTP
    found = session.verify(response.cookies[session.COOKIE], SECRET)
    assert found.key_id == keys["ids"]["query"] and found.project_id == keys["project"]["id"]


async def test_the_cookie_holds_the_keys_id_never_the_key(client, keys):
    value = (await login(client, keys["query"])).cookies[session.COOKIE]
    payload = value.split(".")[0]
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert data["i"] == keys["ids"]["query"]
    assert keys["query"] not in value and keys["query"] not in json.dumps(data)
    assert keys["query"][len("pa_live_"):] not in json.dumps(data)


async def test_login_keeps_the_views_query_and_nothing_else(client, keys):
    response = await client.post("/dashboard/login", data={"key": keys["query"], "next": "?range=7d&f=path:is:/a"})
    assert response.headers["location"] == "/dashboard?range=7d&f=path%3Ais%3A%2Fa"
    response = await client.post("/dashboard/login", data={"key": keys["query"], "next": "//evil.test/x"})
    assert response.headers["location"] == "/dashboard"


async def test_the_cookie_is_secure_over_https(settings, keys):
    async with serving(make_app(settings)) as c:
        c.base_url = "https://pulse.test"
        header = (await login(c, keys["query"])).headers["set-cookie"]
    assert "; secure" in header.lower()


async def test_a_forwarded_proto_header_alone_does_not_make_it_secure(client, keys):
    """Only uvicorn's proxy-headers middleware, for PULSE_TRUSTED_PROXIES, turns X-Forwarded-Proto
    into the request's scheme; here nothing trusts the header (the live-server test covers the other
    side)."""
    header = (await login(client, keys["query"], **{"X-Forwarded-Proto": "https"})).headers["set-cookie"]
    assert "secure" not in header.lower()


@pytest.mark.parametrize("which, status, message", [
    ("ingest", 403, INGEST_ONLY),
    ("admin", 403, ADMIN_KEY),  # a cookie must never be able to run mutations
    ("query+admin", 403, ADMIN_KEY),
    ("nonsense", 401, INVALID),
])
async def test_login_explains_a_key_it_refuses(client, keys, which, status, message):
    response = await login(client, keys.get(which, "pa_live_NotARealKeyAtAll00000000"))
    assert response.status_code == status
    assert message in response.text.replace("&#x27;", "'")
    assert session.COOKIE not in response.cookies


async def test_login_refuses_an_expired_key(client, keys):
    soon = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    expiring = await create_key(client, keys["project"]["id"], "query", expires_at=soon)

    async def refused():
        response = await login(client, expiring["key"])
        return response if response.status_code != 303 else None

    response = await poll(refused, timeout=10)
    assert response.status_code == 401 and EXPIRED in response.text


async def test_login_from_another_site_is_refused(client, keys):
    response = await login(client, keys["query"], Origin="https://evil.test")
    assert response.status_code == 403 and session.COOKIE not in response.cookies


async def test_login_without_a_cookie_secret_says_what_is_missing(settings, keys):
    async with serving(make_app(settings, cookie_secret=None)) as c:
        response = await login(c, keys["query"])
    assert response.status_code == 503 and NO_SECRET in response.text


async def test_the_cookie_reads_graphql_and_rest(client, keys):
    cookie = await cookie_of(client, keys["query"])
    result = await gql(client, "{ project { domain } }", headers=jar(cookie))
    assert result == {"data": {"project": {"domain": "dash.test"}}}
    assert (await client.get("/api/v1/stats", headers=jar(cookie))).status_code == 200
    assert (await client.get("/api/v1/exports/pages", headers=jar(cookie))).status_code == 200


async def test_an_explicit_key_wins_over_the_cookie(client, keys):
    cookie = await cookie_of(client, keys["query"])
    result = await gql(client, "{ project { domain } }", headers={**jar(cookie), **key_header(keys["other_query"])})
    assert result["data"]["project"]["domain"] == "other.test"


async def test_a_query_and_ingest_key_may_log_in(client, keys):
    cookie = await cookie_of(client, keys["query+ingest"])
    assert (await client.get("/api/v1/stats", headers=jar(cookie))).status_code == 200


async def test_the_cookie_does_not_authorize_writes(client, keys):
    cookie = await cookie_of(client, keys["query"])
    response = await client.put("/api/v1/privacy/settings", json={"respect_dnt": True}, headers=jar(cookie))
    assert response.status_code == 401
    response = await client.put("/api/v1/privacy/settings", json={"respect_dnt": True},
                                headers=key_header(keys["query+admin"]))
    assert response.status_code == 200


async def test_a_session_never_carries_the_admin_scope(app, client, keys):
    """Even a session made for an admin key (signed with the right secret, live in Redis, as one
    from before login refused such keys) can neither read admin routes nor run mutations."""
    sid = "forged-for-the-test"
    value = session.sign(session.Session(keys["ids"]["query+admin"], keys["project"]["id"], sid,
                                         int(time.time()) + 60), SECRET)
    await app.state.runtime.redis.set(session._redis_key(keys["project"]["id"], sid), "1", ex=60)
    assert (await client.get("/api/v1/stats", headers=jar(value))).status_code == 200  # it reads
    refused = await client.get("/api/v1/privacy/settings", headers=jar(value))
    assert refused.status_code == 403 and "'admin' scope" in refused.json()["error"]
    result = await gql(client, 'mutation($p: ID!) { createApiKey(projectId: $p, name: "x", scopes: ["admin"]) '
                               '{ key } }', {"p": keys["project"]["id"]}, headers=jar(value))
    assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_cookie_that_is_not_ascii_is_refused_not_a_500(client):
    cookie = {"Cookie": f"{session.COOKIE}=a.\u00e9".encode()}
    response = await client.get("/api/v1/stats", headers=cookie)
    assert response.status_code == 401 and response.json() == {"error": session.SESSION_ENDED}
    page = await client.get("/dashboard", headers=cookie)
    assert page.status_code == 401 and ENDED in page.text
    graphql = await client.post("/graphql", json={"query": "{ project { domain } }"}, headers=cookie)
    assert graphql.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_cookie_from_before_key_ids_is_refused(client, keys):
    """A cookie in the old format (the key itself, under the old context) is simply not valid."""
    old = base64.urlsafe_b64encode(json.dumps({"k": keys["query"], "p": keys["project"]["id"], "s": "s",
                                               "x": int(time.time()) + 60}).encode()).rstrip(b"=").decode()
    signature = hmac.new(SECRET.encode(), b"pulse.dashboard.session.v1." + old.encode(), hashlib.sha256).digest()
    value = f"{old}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"
    response = await client.get("/api/v1/stats", headers=jar(value))
    assert response.status_code == 401 and response.json() == {"error": session.SESSION_ENDED}


@pytest.mark.parametrize("forge", [
    lambda value: value[:-3] + "xyz",
    lambda value: session.sign(session.Session("k", "p", "s", int(time.time()) - 1), SECRET),
])
async def test_a_forged_or_expired_cookie_is_refused_with_a_reason(client, keys, forge):
    value = forge(await cookie_of(client, keys["query"]))
    response = await client.get("/api/v1/stats", headers=jar(value))
    assert response.status_code == 401 and response.json() == {"error": session.SESSION_ENDED}
    result = await gql(client, "{ project { domain } }", headers=jar(value))
    assert result["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_logout_ends_the_session_even_for_a_copy_of_the_cookie(client, keys):
    cookie = await cookie_of(client, keys["query"])
    response = await client.post("/dashboard/logout", headers=jar(cookie))
    assert response.status_code == 303 and response.headers["location"] == "/dashboard"
    assert 'pulse_session=""' in response.headers["set-cookie"] or "Max-Age=0" in response.headers["set-cookie"]
    result = await gql(client, "{ project { domain } }", headers=jar(cookie))
    assert result["errors"][0]["message"] == session.SESSION_ENDED
    page = await client.get("/dashboard", headers=jar(cookie))
    assert page.status_code == 401 and ENDED in page.text and 'name="key"' in page.text


async def test_revoking_the_key_ends_its_sessions_at_once(client, keys):
    key = await create_key(client, keys["project"]["id"], "query")
    cookie = await cookie_of(client, key["key"])
    assert (await client.get("/api/v1/stats", headers=jar(cookie))).status_code == 200
    revoked = await client.delete(f"/api/admin/projects/{keys['project']['id']}/keys/{key['id']}", headers=ADMIN)
    assert revoked.status_code == 204
    assert (await client.get("/api/v1/stats", headers=jar(cookie))).status_code == 401
    page = await client.get("/dashboard", headers=jar(cookie))
    assert page.status_code == 401 and ENDED in page.text


async def test_the_keys_expiry_ends_its_sessions(client, keys):
    soon = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
    expiring = await create_key(client, keys["project"]["id"], "query", expires_at=soon)
    cookie = await cookie_of(client, expiring["key"])
    assert (await client.get("/api/v1/stats", headers=jar(cookie))).status_code == 200

    async def ended():
        response = await client.get("/api/v1/stats", headers=jar(cookie))
        return response if response.status_code != 200 else None

    response = await poll(ended, timeout=10)
    assert response.status_code == 401 and response.json() == {"error": "API key has expired."}


async def test_the_shell_names_the_readable_modules_and_never_the_key(client, keys):
    limited = await create_key(client, keys["project"]["id"], "query", allowed_modules=["core", "exports"])
    page = await client.get("/dashboard", headers=jar(await cookie_of(client, limited["key"])))
    assert page.status_code == 200
    boot = re.search(r'<script type="application/json" id="pulse-boot">(.*?)</script>', page.text).group(1)
    assert '"modules":["core","exports"]' in boot and '"domain":"dash.test"' in boot
    assert limited["key"] not in page.text
    assert page.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


@pytest.mark.parametrize("filters, statements", [
    ([], 3),  # the realtime count, the project's row, and every report's rollups in one batch
    ([{"dimension": "path", "operator": "IS", "value": "/"}], None),  # from raw rows: answered, not pinned
])
async def test_one_graphql_request_serves_the_whole_overview(app, client, keys, filters, statements):
    """The overview's own query (read from its source), sent once: every report answers, and
    unfiltered it costs a fixed handful of SQL statements, not one per table."""
    query = re.search(r"const REPORT = `(.*?)`;", OVERVIEW_JS.read_text(), re.S).group(1)
    cookie = await cookie_of(client, keys["query"])
    variables = {"startAt": "2026-01-01", "endAt": "2026-01-31", "interval": "day", "rows": 10, "utm": True,
                 "filters": filters}
    async with sql_statements(app) as seen:
        result = await gql(client, query, variables, headers=jar(cookie))
    assert "errors" not in result, result
    project = result["data"]["project"]
    assert set(project) == {"stats", "timeseries", "pages", "entryPages", "exitPages", "referrers", "channels",
                            "campaigns", "campaignSources", "campaignMediums", "geo", "devices", "events",
                            "realtime"}
    assert len(project["timeseries"]) == 31
    if statements is not None:
        assert len(seen) == statements, seen
