"""The dashboard's admin area: signing in with the admin token (the same cookie rules as a key
session, bound to the current token), the admin session as a GraphQL credential (and only there
for writes), and in headless Chromium the whole path from a new project to its first pageview.

Screenshots of the browser test's steps are saved when PULSE_SCREENSHOTS names a directory
(`PULSE_SCREENSHOTS=docs/screenshots`), as bench/screenshots.py does for the overview."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import re
import time
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from asgi_lifespan import LifespanManager

from pulse.app import create_app
from pulse.limits import AUTH_FAILURE_BURST
from pulse.web import session
from pulse.web.dashboard import ENDED, INVALID_ADMIN, NO_ADMIN_TOKEN, THROTTLED
from tests.browser import LiveServer, browser, poll  # noqa: F401
from tests.helpers import (
    ADMIN_TOKEN,
    CHROME,
    create_key,
    create_project,
    drain,
    gql,
    key_header,
    make_app,
    serving,
)

SECRET = "test-cookie-secret"  # the `settings` fixture's PULSE_COOKIE_SECRET
SHOTS = os.environ.get("PULSE_SCREENSHOTS")  # a directory: save the browser test's steps there

CREATE_PROJECT = 'mutation($n: String!, $d: String!) { createProject(name: $n, domain: $d) { id domain } }'
CREATE_KEY = ('mutation($p: ID!, $s: [String!]!) { createApiKey(projectId: $p, name: "k", scopes: $s) '
              '{ key apiKey { id } } }')
PROJECTS = "{ projects { id domain } }"


@asynccontextmanager
async def from_address(app, address: str):
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://pulse.test") as c:
        yield c


async def login(client: httpx.AsyncClient, secret: str, **headers) -> httpx.Response:
    return await client.post("/dashboard/login", data={"key": secret}, headers=headers, follow_redirects=False)


async def admin_cookie(client: httpx.AsyncClient, token: str = ADMIN_TOKEN) -> str:
    response = await login(client, token)
    assert response.status_code == 303, response.text
    return response.cookies[session.COOKIE]


def jar(value: str, **headers: str) -> dict:
    return {"Cookie": f"{session.COOKIE}={value}", **headers}


def boot_of(page: httpx.Response) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="pulse-boot">(.*?)</script>',
                                page.text).group(1))


@pytest.fixture(scope="module")
async def tenants(client):
    a = await create_project(client, "Alpha", "alpha.test")
    b = await create_project(client, "Beta", "beta.test")
    return {"a": a, "b": b, "a_query": (await create_key(client, a["id"], "query"))["key"],
            "b_query": (await create_key(client, b["id"], "query"))["key"]}


# -- signing in --------------------------------------------------------------------------------

async def test_the_admin_token_opens_an_admin_session_with_the_key_sessions_cookie_rules(client, tenants):
    response = await login(client, ADMIN_TOKEN)
    assert response.status_code == 303 and response.headers["location"] == "/dashboard?tab=admin"
    header = response.headers["set-cookie"]
    assert re.search(r"; HttpOnly", header, re.I) and re.search(r"; SameSite=lax", header, re.I)
    assert f"Max-Age={session.ADMIN_MAX_AGE}" in header and "Path=/" in header
    found = session.verify(response.cookies[session.COOKIE], SECRET)
    assert found.admin and found.key_id == "" and found.project_id == ""

    page = await client.get("/dashboard", headers=jar(response.cookies[session.COOKIE]))
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    boot = boot_of(page)
    assert boot["admin"] is True and boot["project"]["id"] == tenants["a"]["id"]  # the first project
    assert {p["domain"] for p in boot["projects"]} >= {"alpha.test", "beta.test"}
    assert "core" in boot["modules"]
    assert ADMIN_TOKEN not in page.text

    chosen = await client.get(f"/dashboard?project={tenants['b']['id']}", headers=jar(response.cookies[session.COOKIE]))
    assert boot_of(chosen)["project"]["domain"] == "beta.test"


async def test_the_cookie_never_holds_the_token_nor_anything_derived_from_it(app, client):
    value = await admin_cookie(client)
    payload = value.split(".")[0]
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert set(data) == {"a", "s", "x"}
    fingerprint = session.admin_fingerprint(app.state.runtime)
    for secret in (ADMIN_TOKEN, hashlib.sha256(ADMIN_TOKEN.encode()).hexdigest()[:16], fingerprint):
        assert secret not in value and secret not in json.dumps(data)


async def test_a_wrong_admin_token_is_refused_with_a_clear_message(client):
    response = await login(client, "not-the-admin-token")
    assert response.status_code == 401 and INVALID_ADMIN in response.text.replace("&#x27;", "'")
    assert session.COOKIE not in response.cookies


async def test_without_an_admin_token_the_server_says_only_keys_may_log_in(settings):
    async with serving(make_app(settings, admin_token=None)) as c:
        response = await login(c, ADMIN_TOKEN)
    assert response.status_code == 401 and NO_ADMIN_TOKEN in response.text


async def test_wrong_admin_tokens_are_throttled_as_wrong_keys_are(app, client):
    async with from_address(app, "203.0.113.77") as attacker:
        responses = list(await asyncio.gather(*(login(attacker, f"guess-{i}") for i in range(AUTH_FAILURE_BURST + 5))))
        statuses = [r.status_code for r in responses]
        assert statuses.count(401) >= AUTH_FAILURE_BURST and 429 in statuses
        throttled = next(r for r in responses if r.status_code == 429)
        assert THROTTLED in throttled.text.replace("&#x27;", "'") and "Retry-After" in throttled.headers
        # A right token is never throttled.
        assert (await login(attacker, ADMIN_TOKEN)).status_code == 303


async def test_admin_login_from_another_site_is_refused(client):
    response = await login(client, ADMIN_TOKEN, Origin="https://evil.test")
    assert response.status_code == 403 and session.COOKIE not in response.cookies


# -- what ends it --------------------------------------------------------------------------------

async def test_logout_ends_the_admin_session_even_for_a_copy_of_the_cookie(client):
    cookie = await admin_cookie(client)
    assert "errors" not in await gql(client, PROJECTS, headers=jar(cookie))
    response = await client.post("/dashboard/logout", headers=jar(cookie))
    assert response.status_code == 303
    result = await gql(client, PROJECTS, headers=jar(cookie))
    assert result["errors"][0]["message"] == session.SESSION_ENDED
    page = await client.get("/dashboard", headers=jar(cookie))
    assert page.status_code == 401 and ENDED in page.text


@pytest.mark.parametrize("token", ["a-new-admin-token-" + "y" * 16, None])
async def test_changing_or_unsetting_the_admin_token_ends_admin_sessions(settings, client, token):
    cookie = await admin_cookie(client)
    async with serving(make_app(settings, admin_token=token)) as restarted:  # the same Redis and database
        result = await gql(restarted, PROJECTS, headers=jar(cookie))
        assert result["errors"][0]["message"] == session.SESSION_ENDED
        page = await restarted.get("/dashboard", headers=jar(cookie))
        assert page.status_code == 401 and ENDED in page.text
        if token:  # a session opened with the new token works there, and not with the old one
            fresh = await admin_cookie(restarted, token)
            assert "errors" not in await gql(restarted, PROJECTS, headers=jar(fresh))
            assert (await gql(client, PROJECTS, headers=jar(fresh)))["errors"][0]["message"] == session.SESSION_ENDED
    assert "errors" not in await gql(client, PROJECTS, headers=jar(cookie))  # back on the old token


async def test_an_expired_admin_cookie_is_refused(app, client):
    sid = "expired-admin"
    await app.state.runtime.redis.set(session._admin_redis_key(sid), session.admin_fingerprint(app.state.runtime))
    value = session.sign(session.Session("", "", sid, int(time.time()) - 1, admin=True), SECRET)
    assert (await gql(client, PROJECTS, headers=jar(value)))["errors"][0]["message"] == session.SESSION_ENDED


# -- what it may do ------------------------------------------------------------------------------

async def test_an_admin_session_runs_the_admin_mutations_over_graphql(client, tenants):
    cookie = await admin_cookie(client)
    made = (await gql(client, CREATE_PROJECT, {"n": "Gamma", "d": "gamma.test"}, headers=jar(cookie)))
    project = made["data"]["createProject"]
    key = (await gql(client, CREATE_KEY, {"p": project["id"], "s": ["ingest"]}, headers=jar(cookie)))
    created = key["data"]["createApiKey"]
    assert created["key"].startswith("pa_live_")
    listed = await gql(client, "query($p: ID!) { project(id: $p) { keys { id scopes } modules { name enabled } } }",
                       {"p": project["id"]}, headers=jar(cookie))
    assert [k["id"] for k in listed["data"]["project"]["keys"]] == [created["apiKey"]["id"]]
    toggled = await gql(client, 'mutation($p: ID!) { enableModule(projectId: $p, name: "funnels") { enabled } }',
                        {"p": project["id"]}, headers=jar(cookie))
    assert toggled["data"]["enableModule"]["enabled"] is True
    revoked = await gql(client, "mutation($p: ID!, $k: ID!) { revokeApiKey(projectId: $p, keyId: $k) }",
                        {"p": project["id"], "k": created["apiKey"]["id"]}, headers=jar(cookie))
    assert revoked["data"]["revokeApiKey"] is True
    assert "gamma.test" in {p["domain"] for p in (await gql(client, PROJECTS, headers=jar(cookie)))["data"]["projects"]}


async def test_the_dashboards_project_header_picks_what_project_means(client, tenants):
    cookie = await admin_cookie(client)
    for which in ("a", "b"):
        header = {"X-Pulse-Project": tenants[which]["id"]}
        result = await gql(client, "{ project { domain } }", headers=jar(cookie, **header))
        assert result["data"]["project"]["domain"] == tenants[which]["domain"]
    # Without it the admin session is the admin token: a project must be named.
    result = await gql(client, "{ project { domain } }", headers=jar(cookie))
    assert result["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    result = await gql(client, "{ project { domain } }",
                       headers=jar(cookie, **{"X-Pulse-Project": "00000000-0000-0000-0000-000000000000"}))
    assert result["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_an_admin_session_reads_rest_like_the_admin_token_and_never_writes(client, tenants):
    cookie = await admin_cookie(client)
    stats = await client.get("/api/v1/stats", params={"project_id": tenants["b"]["id"]}, headers=jar(cookie))
    assert stats.status_code == 200, stats.text
    assert (await client.get("/api/v1/stats", headers=jar(cookie))).status_code == 400  # which project?
    write = await client.post("/api/admin/projects", json={"name": "X", "domain": "x.test"}, headers=jar(cookie))
    assert write.status_code == 401
    put = await client.put("/api/v1/privacy/settings", params={"project_id": tenants["b"]["id"]},
                           json={"respect_dnt": True}, headers=jar(cookie))
    assert put.status_code == 401


async def test_a_key_session_cannot_run_admin_mutations(client, tenants):
    response = await login(client, tenants["a_query"])
    cookie = response.cookies[session.COOKIE]
    assert boot_of(await client.get("/dashboard", headers=jar(cookie)))["admin"] is False
    for query, variables in ((CREATE_PROJECT, {"n": "Nope", "d": "nope.test"}),
                             (CREATE_KEY, {"p": tenants["a"]["id"], "s": ["admin"]})):
        result = await gql(client, query, variables, headers=jar(cookie))
        assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN", result
    assert (await gql(client, PROJECTS, headers=jar(cookie)))["errors"][0]["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "text/plain", "multipart/form-data"])
async def test_the_admin_cookie_does_not_count_on_a_form_or_other_non_json_post(client, content_type):
    """What a cross-site form can send without a preflight: the cookie is not a credential there."""
    cookie = await admin_cookie(client)
    body = json.dumps({"query": 'mutation { createProject(name: "Csrf", domain: "csrf.test") { id } }'})
    response = await client.post("/graphql", content=body, headers=jar(cookie, **{"Content-Type": content_type,
                                                                                   "Origin": "https://evil.test"}))
    assert response.status_code in (400, 401, 403, 415), response.text
    listed = await gql(client, PROJECTS, headers=jar(cookie))
    assert "csrf.test" not in {p["domain"] for p in listed["data"]["projects"]}


async def test_a_json_post_with_the_cookie_from_another_origin_is_refused(client):
    """A CORS preflight lets ALLOWED_ORIGINS send credentials: the Origin check stops them too."""
    cookie = await admin_cookie(client)
    result = await gql(client, CREATE_PROJECT, {"n": "Cross", "d": "cross.test"},
                       headers=jar(cookie, Origin="https://evil.test"))
    assert result["data"] is None and result["errors"][0]["message"] == session.CROSS_SITE
    own = await gql(client, PROJECTS, headers=jar(cookie, Origin="http://pulse.test"))
    assert "cross.test" not in {p["domain"] for p in own["data"]["projects"]}


async def test_tenant_isolation_holds_for_key_sessions_whatever_the_header(client, tenants):
    cookie = (await login(client, tenants["a_query"])).cookies[session.COOKIE]
    header = {"X-Pulse-Project": tenants["b"]["id"]}
    result = await gql(client, "{ project { domain } }", headers=jar(cookie, **header))
    assert result["data"]["project"]["domain"] == "alpha.test"  # the key's project, never the header's
    result = await gql(client, "query($p: ID) { project(id: $p) { domain } }", {"p": tenants["b"]["id"]},
                       headers=jar(cookie))
    assert result["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    other = await client.get("/api/v1/stats", params={"project_id": tenants["b"]["id"]}, headers=jar(cookie))
    assert other.status_code == 404
    # And an explicit key still wins over an admin cookie.
    admin = await admin_cookie(client)
    result = await gql(client, "{ project { domain } }", headers={**jar(admin), **key_header(tenants["b_query"])})
    assert result["data"]["project"]["domain"] == "beta.test"
    result = await gql(client, PROJECTS, headers={**jar(admin), **key_header(tenants["b_query"])})
    assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN"


# -- in a browser ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def live(settings):
    """Pulse over HTTP without its worker: the test writes the ingest stream itself (`drain`)."""
    with LiveServer(create_app(settings, run_worker=False)) as server:
        yield server


@pytest_asyncio.fixture(scope="module")
async def writer(settings):
    """An app in the test's own event loop, on the same database and Redis, to `drain` with."""
    application = make_app(settings)
    async with LifespanManager(application):
        yield application


class Shots:
    """Numbered screenshots of each step, only when PULSE_SCREENSHOTS names a directory."""

    def __init__(self, page) -> None:
        self.page, self.n = page, 0

    async def __call__(self, name: str) -> None:
        if not SHOTS:
            return
        self.n += 1
        out = Path(SHOTS)
        out.mkdir(parents=True, exist_ok=True)
        await self.page.screenshot(path=str(out / f"admin-{self.n:02d}-{name}.png"), full_page=True)


async def test_an_admin_creates_a_project_and_sees_its_first_pageview_arrive(browser, live, writer):  # noqa: F811
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme="light")
    await context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live.url)
    page = await context.new_page()
    problems = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    shot = Shots(page)

    # Sign in with the admin token: the admin area opens.
    await page.goto(live.url + "/dashboard")
    await page.fill("#key", ADMIN_TOKEN)
    await shot("login")
    await page.click("button[type=submit]")
    await page.wait_for_selector("#admin-projects")
    assert ADMIN_TOKEN not in await page.content()
    assert await page.evaluate("() => document.cookie") == ""
    await shot("admin")

    # Create a project.
    await page.fill("#project-name", "Shop")
    await page.fill("#project-domain", "shop.test")
    await page.click("#new-project button[type=submit]")
    await page.wait_for_selector("#admin-project h2:has-text('Shop')")
    shop = await page.evaluate("() => JSON.parse(document.getElementById('pulse-boot').textContent).project.id")
    assert f"project={shop}" in page.url
    assert await page.locator("#project-switch").input_value() == shop
    await shot("project-created")

    # Create an ingest key: its value is shown once, with a copy button, and fills in the snippet.
    await page.fill("#key-name", "website")
    await page.check("#key-scope-ingest")
    await page.click("#new-key button[type=submit]")
    value = await page.locator(".new-key input").input_value()
    assert re.fullmatch(r"pa_live_[A-Za-z0-9]{24}", value)
    await page.click(".new-key button:has-text('Copy')")
    assert await page.evaluate("() => navigator.clipboard.readText()") == value
    assert await page.locator("#keys tbody tr").count() == 1
    snippet = await page.text_content("#snippet code")
    assert f'data-key="{value}"' in snippet and f'src="{live.url}/api/script.js"' in snippet
    waiting = page.locator("#first-pageview")
    await page.wait_for_selector("#first-pageview[data-state='waiting']")
    await shot("snippet-waiting")

    # The first pageview, as a browser would send it, written as the worker would.
    async with httpx.AsyncClient(base_url=live.url) as client:
        response = await client.post("/api/collect", json={"type": "pageview", "path": "/", "visitor_id": "first"},
                                     headers={**key_header(value), "User-Agent": CHROME})
        assert response.status_code == 200 and "dropped" not in response.json(), response.text
    await poll(lambda: drain(writer), timeout=10)
    await page.wait_for_selector("#first-pageview[data-state='received']", timeout=15000)
    assert "first pageview" in (await waiting.text_content()).lower()
    await shot("first-pageview")

    # The key revokes; a module turns on and off.
    funnels = page.locator("#module-funnels")
    before = await funnels.is_checked()
    await funnels.click()
    flipped = str(not before).lower()
    await page.wait_for_function(f"() => document.getElementById('module-funnels').checked === {flipped}"
                                 " && !document.getElementById('module-funnels').disabled")

    # Open the overview of that project: it shows the pageview.
    await page.click("a:has-text('Open the overview')")
    await page.wait_for_selector(".card[data-metric=pageviews] .card-value")
    await page.wait_for_function("() => !document.querySelector('main').hasAttribute('aria-busy')")
    assert await page.get_attribute(".card[data-metric=pageviews] .card-value", "data-value") == "1"
    assert f"project={shop}" in page.url
    href = await page.get_attribute("[data-panel=pages] a.export", "href")
    download = await page.request.get(live.url + href)  # a CSV link: the admin cookie, the project in the URL
    assert download.status == 200 and "/" in await download.text()
    await shot("overview")

    # Switch projects: another one's overview.
    other = await page.evaluate("() => JSON.parse(document.getElementById('pulse-boot').textContent)"
                                ".projects.find((p) => p.domain !== 'shop.test')?.id")
    if other is None:  # this module's database may hold only the shop: make a second one
        await page.goto(live.url + "/dashboard?tab=admin")
        await page.fill("#project-name", "Blog")
        await page.fill("#project-domain", "blog.test")
        await page.click("#new-project button[type=submit]")
        await page.wait_for_selector("#admin-project h2:has-text('Blog')")
        await page.goto(live.url + f"/dashboard?project={shop}")
        await page.wait_for_selector(".card-value")
        other = await page.evaluate("() => JSON.parse(document.getElementById('pulse-boot').textContent)"
                                    ".projects.find((p) => p.domain !== 'shop.test').id")
    await page.select_option("#project-switch", other)
    await page.wait_for_function(f"() => JSON.parse(document.getElementById('pulse-boot').textContent)"
                                 f".project.id === '{other}'")
    await page.wait_for_selector(".card-value, .setup")
    assert f"project={other}" in page.url and await page.locator("#project-switch").input_value() == other
    await shot("switched")

    # Revoke the ingest key from the admin area.
    await page.goto(live.url + f"/dashboard?tab=admin&project={shop}")
    await page.wait_for_selector("#keys tbody tr")
    page.once("dialog", lambda d: asyncio.ensure_future(d.accept()))
    await page.click("#keys tbody tr button:has-text('Revoke')")
    await page.wait_for_selector("#keys .empty")
    async with httpx.AsyncClient(base_url=live.url) as client:
        refused = await client.post("/api/collect", json={"type": "pageview", "path": "/"},
                                    headers={**key_header(value), "User-Agent": CHROME})
        assert refused.status_code == 401
    assert problems == []
    await context.close()


async def test_a_key_session_has_no_switcher_and_no_admin_area(browser, live, writer):  # noqa: F811
    async with httpx.AsyncClient(base_url=live.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as client:
        project = await create_project(client, "Solo", "solo.test")
        key = (await create_key(client, project["id"], "query"))["key"]
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(live.url + "/dashboard?tab=admin")
    await page.fill("#key", key)
    await page.click("button[type=submit]")
    await page.wait_for_selector(".card-value, .setup")
    assert await page.locator("#project-switch").count() == 0
    assert await page.locator("#admin-projects").count() == 0
    await context.close()
