"""The People and Accounts views (module `identity`) in headless Chromium against Pulse over real
HTTP: search and page profiles, open one (traits, aliases, accounts, timeline), open its account and
see the REST API's analytics for the same range; trait values stay text; the tabs appear only when
the session may read the module; empty projects say what to do; an admin session exports and deletes
a visitor's data (DSAR) from the profile, which a key session is not offered."""

from __future__ import annotations

import json
import os
from urllib.parse import parse_qs, urlparse

import httpx
import pytest_asyncio

from tests.browser import browser, live_server, poll  # noqa: F401
from tests.helpers import ADMIN, ADMIN_TOKEN, CHROME, create_key, create_project, gql, gql_error, key_header
from tests.modules.identity import dataset
from tests.modules.identity.dataset import D2, at, identify

MARKUP = "<img src=x onerror=alert(1)>"

# tests/modules/identity/dataset.py's (acme has v1 and v2, one user u1), plus v6, whose trait is markup.
SENDS = [
    *dataset.SENDS,
    identify("v6", at(D2, 14), traits={"nickname": MARKUP, "seats": 42}),
    {"type": "pageview", "visitor_id": "v6", "path": "/", "timestamp": at(D2, 14)},
]
PROFILES = 5
SCREENSHOTS = os.environ.get("PULSE_SCREENSHOTS")  # a directory: save a screenshot of each view there


async def snap(page, name: str) -> None:
    if SCREENSHOTS:
        await page.screenshot(path=os.path.join(SCREENSHOTS, f"people-{name}.png"), full_page=True)
PAGEVIEWS = sum(1 for s in SENDS if s["type"] == "pageview")


async def send(client: httpx.AsyncClient, ingest: str, sends: list[dict]) -> None:
    for body in sends:
        response = await client.post("/api/collect", json=body, headers={**key_header(ingest), "User-Agent": CHROME})
        assert response.status_code == 200, response.text


@pytest_asyncio.fixture(scope="module")
async def site(live_server):  # noqa: F811
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as client:
        project = await create_project(client, "People", "people.test")
        query = (await create_key(client, project["id"], "query"))["key"]
        ingest = (await create_key(client, project["id"], "ingest"))["key"]
        await send(client, ingest, SENDS)

        async def written():  # the live server's worker writes the stream; wait for every row
            profiles = await client.get("/api/v1/identity/profiles", headers=key_header(query))
            stats = await client.get("/api/v1/stats", headers=key_header(query))
            return (profiles.json()["total"] == PROFILES
                    and stats.json()["current"]["pageviews"] == PAGEVIEWS)

        await poll(written, timeout=30)
        yield {"url": live_server.url, "project": project, "client": client, "query": query, "ingest": ingest}


async def rest(site, path: str, **params) -> dict:
    response = await site["client"].get(path, params=params, headers=key_header(site["query"]))
    assert response.status_code == 200, response.text
    return response.json()


async def log_in(browser, site, key: str):  # noqa: F811
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    problems = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("dialog", lambda d: problems.append(f"dialog: {d.message}"))
    await page.goto(site["url"] + "/dashboard")
    await page.fill("#key", key)
    await page.click("button[type=submit]")
    await page.wait_for_selector("#main .toolbar")
    return context, page, problems


async def settled(page) -> None:
    await page.wait_for_function("() => !document.querySelector('main').hasAttribute('aria-busy')")


async def rows(page, table: str, attribute: str) -> list[str]:
    return await page.eval_on_selector_all(f"table[data-table={table}] tbody tr",
                                           f"(rows) => rows.map((r) => r.dataset.{attribute})")


def query_of(page) -> dict:
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


async def test_search_a_profile_its_timeline_and_its_accounts_analytics(browser, site):  # noqa: F811
    context, page, problems = await log_in(browser, site, site["query"])
    await page.click("#tabs a:text-is('People')")
    await page.wait_for_selector("table[data-table=profiles]")
    await settled(page)

    # Newest last seen first, as the REST API lists them.
    listed = [p["visitor_id"] for p in (await rest(site, "/api/v1/identity/profiles"))["data"]]
    assert await rows(page, "profiles", "visitor") == listed == ["v6", "v3", "v2", "v4", "v1"]
    # One page needs no pager: nothing is drawn in its place (not the text "null").
    assert "null" not in await page.text_content("#main")
    await snap(page, "list")

    # A search (debounced) as the API's `search` does it; the URL keeps it, so a link reopens it.
    await page.fill("#people-search", "plan:pro")
    await page.wait_for_function("() => new URLSearchParams(location.search).get('q') === 'plan:pro'")
    await settled(page)
    await page.wait_for_function("() => document.querySelectorAll('table[data-table=profiles] tbody tr').length === 1")
    assert await rows(page, "profiles", "visitor") == ["v1"]
    await page.reload()
    await page.wait_for_selector("table[data-table=profiles]")
    await settled(page)
    assert await page.input_value("#people-search") == "plan:pro"
    assert await rows(page, "profiles", "visitor") == ["v1"]
    await page.fill("#people-search", "nobody-at-all")
    await page.wait_for_selector("text=No profile matches")
    await page.fill("#people-search", "ann@")
    await page.wait_for_function(
        "() => document.querySelector('table[data-table=profiles] tbody tr')?.dataset.visitor === 'v4'")

    # Open v1: traits as a definition list, ids, aliases, its account and its timeline.
    await page.fill("#people-search", "u1")
    await page.wait_for_function("() => document.querySelectorAll('table[data-table=profiles] tbody tr').length === 2")
    await page.click("table[data-table=profiles] a:text-is('v1')")
    await page.wait_for_selector("dl.traits")
    await settled(page)
    assert query_of(page)["tab"] == "people" and query_of(page)["visitor"] == "v1"
    profile = await rest(site, "/api/v1/identity/profiles/v1")
    traits = await page.eval_on_selector_all(
        "dl.traits dd", "(dds) => Object.fromEntries(dds.map((d) => [d.dataset.trait, d.textContent]))")
    assert traits == {k: str(v) for k, v in profile["traits"].items()} == {"plan": "pro", "name": "Ada"}
    assert await page.text_content("[data-fact=user]") == "u1"
    assert await page.get_attribute("[data-fact=first] time", "datetime") is not None
    assert await page.eval_on_selector_all("[data-list=aliases] a", "(a) => a.map((x) => x.textContent)") == ["v2"]
    assert await page.eval_on_selector_all("[data-list=accounts] a", "(a) => a.map((x) => x.textContent)") == ["acme"]
    sessions = await page.eval_on_selector_all("li.session", """(ss) => ss.map((s) => [...s.querySelectorAll(
        '.activity li')].map((li) => [li.dataset.kind, li.querySelector('.what').textContent]))""")
    assert sessions == [[["pageview", "/"], ["pageview", "/pricing"], ["event", "purchase"]]]
    await snap(page, "profile")

    # Back returns to the list as it was (the search included).
    await page.go_back()
    await page.wait_for_selector("table[data-table=profiles]")
    assert "visitor" not in query_of(page) and await page.input_value("#people-search") == "u1"
    await page.go_forward()
    await page.wait_for_selector("[data-list=accounts] a")

    # The account: traits, members (linking to their profiles) and the REST API's analytics.
    await page.click("[data-list=accounts] a:text-is('acme')")
    await page.wait_for_selector(".account-cards")
    await settled(page)
    assert query_of(page)["tab"] == "accounts" and query_of(page)["account"] == "acme"
    assert await page.get_attribute("#tabs a:text-is('Accounts')", "aria-current") == "page"
    assert await page.text_content("dl.traits dd[data-trait=tier]") == "gold"
    assert sorted(await rows(page, "members", "visitor")) == ["v1", "v2"]
    cards = page.locator(".account-cards")
    start, end = await cards.get_attribute("data-start"), await cards.get_attribute("data-end")
    shown = await page.eval_on_selector_all(".account-cards .card", """(cs) => Object.fromEntries(cs.map(
        (c) => [c.dataset.metric, Number(c.querySelector('.card-value').dataset.value)]))""")
    analytics = await rest(site, "/api/v1/identity/accounts/acme/analytics", start_at=start, end_at=end)
    fields = {"members": "members", "identifiedUsers": "identified_users", "activeMembers": "active_members",
              "sessions": "sessions", "pageviews": "pageviews", "events": "events", "revenue": "revenue"}
    assert shown == {card: analytics[field] for card, field in fields.items()}
    assert shown == {"members": 2, "identifiedUsers": 1, "activeMembers": 2, "sessions": 2, "pageviews": 3,
                     "events": 2, "revenue": 49.99}
    await snap(page, "account")

    # The range is the dashboard's: "Today" has none of this activity, and the URL keeps the account.
    await page.select_option("#account-range", "today")
    await page.wait_for_function("() => new URLSearchParams(location.search).get('range') === 'today'")
    await page.wait_for_function(
        "() => document.querySelector('.account-cards [data-metric=pageviews] .card-value')?.dataset.value === '0'")
    assert query_of(page)["account"] == "acme"

    # A member opens its profile in People.
    await page.click("table[data-table=members] a:text-is('v2')")
    await page.wait_for_selector("[data-fact=visitor]:text-is('v2')")
    assert query_of(page)["tab"] == "people" and query_of(page)["visitor"] == "v2"

    # The accounts list.
    await page.click("#tabs a:text-is('Accounts')")
    await page.wait_for_selector("table[data-table=accounts]")
    listed = [a["account_id"] for a in (await rest(site, "/api/v1/identity/accounts"))["data"]]
    assert await rows(page, "accounts", "account") == listed and sorted(listed) == ["acme", "globex"]
    assert problems == []
    await context.close()


async def test_trait_values_are_text_never_markup(browser, site):  # noqa: F811
    context, page, problems = await log_in(browser, site, site["query"])
    await page.goto(site["url"] + "/dashboard?tab=people&visitor=v6")
    await page.wait_for_selector("dl.traits")
    assert await page.text_content("dd[data-trait=nickname]") == MARKUP
    assert await page.text_content("dd[data-trait=seats]") == "42"
    assert await page.locator("main img").count() == 0
    # Also in the list's trait summary.
    await page.goto(site["url"] + "/dashboard?tab=people&q=onerror")
    await page.wait_for_selector("table[data-table=profiles] tbody tr[data-visitor=v6]")
    assert MARKUP in await page.text_content("tr[data-visitor=v6]")
    assert await page.locator("main img").count() == 0
    # An unknown visitor says so, without a Retry that cannot help.
    await page.goto(site["url"] + "/dashboard?tab=people&visitor=nobody")
    alert = page.locator("[role=alert]")
    await alert.wait_for()
    assert "Profile 'nobody' not found." in await alert.text_content()
    assert problems == []
    await context.close()


async def test_empty_states_say_what_to_do(browser, site):  # noqa: F811
    client = site["client"]
    project = await create_project(client, "Quiet", "quiet.test")
    key = (await create_key(client, project["id"], "query"))["key"]
    context, page, problems = await log_in(browser, site, key)
    await page.goto(site["url"] + "/dashboard?tab=people")
    await page.wait_for_selector("text=No profiles yet: send an identify call.")
    assert "pulse('identify'" in await page.text_content("main pre")
    await page.click("#tabs a:text-is('Accounts')")
    await page.wait_for_selector("text=No accounts yet: send an identify call with an account.")
    assert problems == []
    await context.close()


async def test_the_tabs_need_the_identity_module(browser, site):  # noqa: F811
    client = site["client"]
    core_only = (await create_key(client, site["project"]["id"], "query", allowed_modules=["core"]))["key"]
    other = await create_project(client, "No identity", "noid.test")
    response = await client.post(f"/api/admin/projects/{other['id']}/modules/identity/disable", headers=ADMIN)
    assert response.status_code == 200 and response.json()["enabled"] is False
    disabled = (await create_key(client, other["id"], "query"))["key"]
    for key in (core_only, disabled):
        context, page, _ = await log_in(browser, site, key)
        await page.wait_for_selector(".card-value")
        labels = await page.eval_on_selector_all("#tabs a", "(a) => a.map((x) => x.textContent)")
        assert "People" not in labels and "Accounts" not in labels
        await page.goto(site["url"] + "/dashboard?tab=people&visitor=v1")  # falls back to the overview
        await page.wait_for_selector(".card-value")
        assert await page.locator("dl.traits").count() == 0
        await context.close()
    # The full query key sees both.
    context, page, _ = await log_in(browser, site, site["query"])
    labels = await page.eval_on_selector_all("#tabs a", "(a) => a.map((x) => x.textContent)")
    assert {"People", "Accounts"} <= set(labels)
    await context.close()


EXPORT = "query($v: String!, $p: ID) { visitorExport(visitorId: $v, projectId: $p) }"


async def test_an_admin_session_exports_and_deletes_a_visitors_data(browser, site):  # noqa: F811
    # A project of its own: the delete must not take rows from the other tests' dataset.
    client = site["client"]
    project = await create_project(client, "Forget", "forget.test")
    query = (await create_key(client, project["id"], "query"))["key"]
    ingest = (await create_key(client, project["id"], "ingest"))["key"]
    await send(client, ingest, [
        identify("gone", at(D2, 10), user_id="u-gone", traits={"plan": "pro"}),
        {"type": "pageview", "visitor_id": "gone", "path": "/", "timestamp": at(D2, 10)},
        {"type": "pageview", "visitor_id": "gone", "path": "/pricing", "timestamp": at(D2, 10, 1)},
        {"type": "event", "visitor_id": "gone", "name": "signup", "timestamp": at(D2, 10, 2)},
        identify("kept", at(D2, 11), traits={"plan": "free"}),
        {"type": "pageview", "visitor_id": "kept", "path": "/", "timestamp": at(D2, 11)},
    ])

    async def stats() -> dict:
        response = await client.get("/api/v1/stats", headers=key_header(query))
        return response.json()["current"]

    async def written():
        profiles = await client.get("/api/v1/identity/profiles", headers=key_header(query))
        return profiles.json()["total"] == 2 and (await stats())["pageviews"] == 3

    await poll(written, timeout=30)

    context = await browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = await context.new_page()
    problems, dialogs = [], []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)

    async def accept(dialog):
        dialogs.append((dialog.type, dialog.message))
        await dialog.accept()

    page.on("dialog", accept)
    await page.goto(site["url"] + "/dashboard")
    await page.fill("#key", ADMIN_TOKEN)
    await page.click("button[type=submit]")
    await page.wait_for_function("() => new URLSearchParams(location.search).get('tab') === 'admin'")
    # A deep link to the profile: an admin session's boot keeps the view's own `visitor` in the address.
    await page.goto(site["url"] + f"/dashboard?project={project['id']}&tab=people&visitor=gone")
    await page.wait_for_selector("section.privacy")
    assert "visitor=gone" in page.url
    await settled(page)
    assert await page.text_content("[data-fact=user]") == "u-gone"

    # Export: the file is the GraphQL document, named for the visitor; the status line counts its rows.
    async with page.expect_download() as started:
        await page.click("#privacy-export")
    download = await started.value
    assert download.suggested_filename == "visitor-gone.json"
    with open(await download.path()) as f:
        exported = json.load(f)
    assert exported["visitor_id"] == "gone" and exported["project_id"] == project["id"]
    counts = exported["counts"]
    assert {t: counts[t] for t in ("pageviews", "sessions", "events")} == {"pageviews": 2, "sessions": 1, "events": 1}
    assert [row["path"] for row in exported["tables"]["pageviews"]] == ["/", "/pricing"]
    rows_exported = sum(counts.values())
    note = page.locator(".privacy-status")
    await page.wait_for_selector(".privacy-status[data-state=exported]")
    assert await note.text_content() == f"Exported {rows_exported} rows as visitor-gone.json."
    await snap(page, "privacy")

    # Delete: confirmed, then what went (every exported row; the reports corrected) and a way back.
    await page.click("#privacy-delete")
    await page.wait_for_selector(".privacy-status[data-state=deleted]", timeout=15000)
    assert len(dialogs) == 1 and dialogs[0][0] == "confirm"
    assert "gone" in dialogs[0][1] and "cannot be undone" in dialogs[0][1]
    assert "reports will no longer count them" in dialogs[0][1]
    shown = await note.evaluate("(n) => ({...n.dataset})")
    assert shown == {"state": "deleted", "total": str(rows_exported), "pageviews": "2", "sessions": "1", "events": "1"}
    assert (await note.text_content()).startswith(f"Deleted {rows_exported} rows about gone: 2 pageviews, 1 session, "
                                                  "1 event; ")
    assert await page.locator("dl.traits").count() == 0  # what the page showed of the profile is gone with it
    await snap(page, "deleted")

    # Pulse holds nothing about the visitor any more, and the reports no longer count them.
    message, code = gql_error(await gql(client, EXPORT, {"v": "gone", "p": project["id"]}, headers=ADMIN))
    assert code == "NOT_FOUND", message
    profile = await client.get("/api/v1/identity/profiles/gone", headers=key_header(query))
    assert profile.status_code == 404
    assert (await stats())["pageviews"] == 1

    # The list no longer has it.
    await page.click(".privacy a:text-is('Back to all people')")
    await page.wait_for_function("() => document.querySelector('[data-total]')?.dataset.total === '1'")
    assert await rows(page, "profiles", "visitor") == ["kept"]
    assert problems == []
    await context.close()

    # The project's key session: the profile's address says it is not found.
    context, page, problems = await log_in(browser, site, query)
    await page.goto(site["url"] + "/dashboard?tab=people&visitor=gone")
    alert = page.locator("[role=alert]")
    await alert.wait_for()
    assert "Profile 'gone' not found." in await alert.text_content()
    assert problems == []
    await context.close()


async def test_a_key_session_is_not_offered_the_privacy_panel(browser, site):  # noqa: F811
    context, page, problems = await log_in(browser, site, site["query"])
    await page.goto(site["url"] + "/dashboard?tab=people&visitor=v1")
    await page.wait_for_selector("section.timeline")
    await settled(page)
    assert await page.text_content("[data-fact=visitor]") == "v1"
    assert await page.locator("section.privacy").count() == 0
    assert await page.locator("button:text-is('Delete data'), button:text-is('Export data')").count() == 0
    assert problems == []
    await context.close()
