"""The Segments view (module `segments`) in headless Chromium against Pulse over real HTTP: build a
segment from conditions while its live count follows (an invalid definition shows the server's
message), save it, see it listed, open it (its visitors and a breakdown over the dashboard's range,
as the REST API answers them), change it, compare two side by side, delete one; a definition the
builder cannot edit is shown as saved; a session whose key may only read the module is told why a
save fails."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import httpx
import pytest_asyncio

from tests.browser import browser, live_server, poll  # noqa: F401
from tests.helpers import ADMIN, ADMIN_TOKEN, CHROME, IPHONE, create_key, create_project, key_header

US, DE = "8.8.8.8", "193.99.144.80"
DAY = (datetime.now(UTC) - timedelta(days=3)).replace(hour=10, minute=0, second=0, microsecond=0)


def at(minute: int) -> str:
    return (DAY + timedelta(minutes=minute)).isoformat()


def identify(visitor: str, minute: int, plan: str) -> dict:
    return {"type": "identify", "visitor_id": visitor, "timestamp": at(minute), "payload": {"traits": {"plan": plan}}}


def pageview(visitor: str, path: str, minute: int) -> dict:
    return {"type": "pageview", "visitor_id": visitor, "path": path, "timestamp": at(minute)}


def event(visitor: str, name: str, minute: int, **data) -> dict:
    return {"type": "event", "visitor_id": visitor, "name": name, "data": data, "timestamp": at(minute)}


# Three days ago, one session each:
#   v1 {plan: pro}, desktop Chrome, US: pageviews / and /pricing, purchase {amount: 150}
#   v2 {plan: pro}, iPhone, DE: pageview /, signup
#   v3 {plan: free}, desktop Chrome, DE: pageview /docs, purchase {amount: 20}
#   v4 (no profile), desktop Chrome, US: pageview /
TRAFFIC = [
    (CHROME, US, [identify("v1", 0, "pro"), pageview("v1", "/", 0), pageview("v1", "/pricing", 2),
                  event("v1", "purchase", 3, amount=150)]),
    (IPHONE, DE, [identify("v2", 10, "pro"), pageview("v2", "/", 10), event("v2", "signup", 11)]),
    (CHROME, DE, [identify("v3", 20, "free"), pageview("v3", "/docs", 20), event("v3", "purchase", 21, amount=20)]),
    (CHROME, US, [pageview("v4", "/", 30)]),
]
PAGEVIEWS = sum(1 for *_, sends in TRAFFIC for s in sends if s["type"] == "pageview")
SCREENSHOTS = os.environ.get("PULSE_SCREENSHOTS")  # a directory: save a screenshot of each step there
COMPARED = {"visitors": "visitors", "sessions": "sessions", "pageviews": "pageviews", "events": "events",
            "bounceRate": "bounce_rate", "avgDuration": "avg_duration"}


@pytest_asyncio.fixture(scope="module")
async def site(live_server):  # noqa: F811
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as client:
        project = await create_project(client, "Segments", "segments.test")
        query = (await create_key(client, project["id"], "query"))["key"]
        ingest = (await create_key(client, project["id"], "ingest"))["key"]
        for agent, address, sends in TRAFFIC:
            for body in sends:
                response = await client.post("/api/collect", json=body, headers={
                    **key_header(ingest), "User-Agent": agent, "X-Forwarded-For": address})
                assert response.status_code == 200, response.text

        async def written():  # the live server's worker writes the stream; wait for every row
            stats = (await client.get("/api/v1/stats", headers=key_header(query))).json()["current"]
            profiles = (await client.get("/api/v1/identity/profiles", headers=key_header(query))).json()
            return stats["pageviews"] == PAGEVIEWS and stats["events"] == 3 and profiles["total"] == 3

        await poll(written, timeout=30)
        yield {"url": live_server.url, "project": project, "client": client, "query": query}


async def rest(site, path: str, **params) -> dict:
    response = await site["client"].get(path, params=params, headers=key_header(site["query"]))
    assert response.status_code == 200, response.text
    return response.json()


async def log_in(browser, site, key: str):  # noqa: F811
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    problems, dialogs = [], []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)

    async def accept(dialog):
        dialogs.append(dialog.message)
        await dialog.accept()

    page.on("dialog", accept)
    await page.goto(site["url"] + "/dashboard")
    await page.fill("#key", key)
    await page.click("button[type=submit]")
    if key == ADMIN_TOKEN:  # an admin lands on the admin area
        await page.wait_for_function("() => new URLSearchParams(location.search).get('tab') === 'admin'")
    else:
        await page.wait_for_selector("#main .toolbar")
    return context, page, problems, dialogs


async def snap(page, name: str) -> None:
    if SCREENSHOTS:
        await page.screenshot(path=os.path.join(SCREENSHOTS, f"segments-{name}.png"), full_page=True)


async def settled(page) -> None:
    await page.wait_for_function("() => !document.querySelector('main').hasAttribute('aria-busy')")


def query_of(page) -> dict:
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


def row(n: int, control: str) -> str:
    return f".condition[data-index='{n}'] .{control}"


async def counted(page, total: int) -> None:
    """The live count says `total` (after its debounce and request)."""
    await page.wait_for_selector(f".live-count[data-state=counted][data-total='{total}']")


async def range_of(page) -> dict:
    label = page.locator(".range-label")
    return {"start_at": await label.get_attribute("data-start"), "end_at": await label.get_attribute("data-end")}


async def breakdown(page) -> list[list]:
    return await page.eval_on_selector_all("table[data-table=breakdown] tbody tr", """(rows) => rows.map(
        (r) => [r.dataset.value, Number(r.querySelector('td').dataset.value)])""")


async def test_build_save_open_compare_and_delete(browser, site):  # noqa: F811
    context, page, problems, dialogs = await log_in(browser, site, site["query"])
    await page.click("#tabs a:text-is('Segments')")
    await page.wait_for_selector("text=No segments yet.")

    # Build: a trait condition counts at once (v1 and v2 are pro)...
    await page.click("a:text-is('New segment')")
    await page.wait_for_selector(".builder")
    assert query_of(page)["segment"] == "new"
    assert await page.get_attribute(".live-count", "role") == "status"
    assert await page.input_value(row(0, "c-source")) == "profile"
    await page.fill(row(0, "c-key"), "plan")
    await page.fill(row(0, "c-value"), "pro")
    await counted(page, 2)
    assert "2 visitors match" in await page.text_content(".live-count")

    # ...a second condition without its value is the server's 400, naming the condition...
    await page.click("#segment-add")
    await page.select_option(row(1, "c-source"), "session")
    assert await page.input_value(row(1, "c-field")) == "country"
    # Session fields are text: no ordering operators.
    ops = await page.eval_on_selector_all(f"{row(1, 'c-op')} option", "(os) => os.map((o) => o.value)")
    assert ops == ["exists", "not_exists", "eq", "neq", "contains", "starts_with", "ends_with", "in"]
    await page.wait_for_selector(".live-count[data-state=invalid]")
    assert await page.text_content(".live-count") == (
        "Invalid segment definition: conditions[1]: field 'country' needs a value for 'eq'.")
    # ...and with it, the count follows: pro and from the US is v1.
    await page.fill(row(1, "c-value"), "US")
    await counted(page, 1)
    await snap(page, "builder")

    # Save: the segment's own page, with its visitors and a breakdown over the dashboard's range.
    await page.fill("#segment-name", "Pro in the US")
    await page.fill("#segment-description", "Pro plan, visiting from the US")
    await page.click("#segment-save")
    await page.wait_for_function("() => /^[0-9a-f-]{36}$/.test(new URLSearchParams(location.search).get('segment'))")
    pro = query_of(page)["segment"]
    await page.wait_for_selector(".segment-summary .card-value")
    await settled(page)
    assert await page.text_content("#segment-title") == "Pro in the US"
    assert await page.get_attribute(".segment-summary .card-value", "data-value") == "1"
    span = await range_of(page)
    evaluated = await rest(site, f"/api/v1/segments/{pro}/evaluate", **span)
    assert evaluated["total_visitors"] == 1 and evaluated["visitors"] == ["v1"]
    assert await breakdown(page) == [["US", 1]]
    await page.select_option("#segment-breakdown", "path")
    await page.wait_for_selector("table[data-table=breakdown][data-property=path]")
    await settled(page)
    by_path = await rest(site, f"/api/v1/segments/{pro}/breakdown", property="path", **span)
    assert await breakdown(page) == [[r["value"], r["visitors"]] for r in by_path["data"]]
    assert sorted(await breakdown(page)) == [["/", 1], ["/pricing", 1]]
    assert query_of(page)["by"] == "path"
    await snap(page, "segment")
    # The builder shows the saved definition, to change.
    assert await page.input_value(row(1, "c-value")) == "US"
    assert await page.text_content("#segment-save") == "Save changes"
    await counted(page, 1)

    # The list has it.
    await page.click("a:text-is('← All segments')")
    await page.wait_for_selector("table[data-table=segments]")
    listed = await page.eval_on_selector_all("table[data-table=segments] tbody tr", """(rows) => rows.map(
        (r) => [r.dataset.name, r.querySelector('td').textContent, r.querySelector('[data-active]').textContent])""")
    assert listed == [["Pro in the US", "Pro plan, visiting from the US", "Active"]]
    assert "null" not in await page.text_content("main")  # no pager for one page, and no trace of one
    assert await page.is_hidden("section.compare")  # one segment: nothing to compare it with

    # A second one: everyone who did "purchase" (v1 and v3).
    await page.click("a:text-is('New segment')")
    await page.wait_for_selector(".builder")
    await page.select_option(row(0, "c-source"), "event")
    await page.fill(row(0, "c-event"), "purchase")
    assert await page.input_value(row(0, "c-field")) == ""
    ops = await page.eval_on_selector_all(f"{row(0, 'c-op')} option", "(os) => os.map((o) => o.value)")
    assert ops == ["exists", "not_exists"]  # an event without a field: did it or not
    await counted(page, 2)
    await page.fill("#segment-name", "Buyers")
    await page.click("#segment-save")
    await page.wait_for_function(f"() => (new URLSearchParams(location.search).get('segment') || '{pro}') !== '{pro}'"
                                 " && new URLSearchParams(location.search).get('segment') !== 'new'")
    buyers = query_of(page)["segment"]
    await page.wait_for_selector(".segment-summary .card-value[data-value='2']")
    await settled(page)
    assert sorted(await breakdown(page)) == [["DE", 1], ["US", 1]]

    # Compare both, side by side: the REST API's numbers for the same range.
    await page.click("a:text-is('← All segments')")
    await page.wait_for_selector("#compare-1")
    await page.select_option("#compare-0", pro)
    await page.select_option("#compare-1", buyers)
    await page.wait_for_selector("table[data-table=compare]")
    await settled(page)
    assert query_of(page)["compare"] == f"{pro},{buyers}"
    shown = await page.eval_on_selector_all("table[data-table=compare] tbody tr", """(rows) => Object.fromEntries(
        rows.map((r) => [r.dataset.metric, [...r.querySelectorAll('td')].map((td) => [td.dataset.segment,
        Number(td.dataset.value)])]))""")
    compared = (await rest(site, "/api/v1/segments/compare", segment_ids=f"{pro},{buyers}", **span))["data"]
    assert shown == {metric: [[c["segment_id"], c[field]] for c in compared] for metric, field in COMPARED.items()}
    assert {m: [v for _, v in values] for m, values in shown.items() if m != "avgDuration"} == {
        "visitors": [1, 2], "sessions": [1, 2], "pageviews": [2, 3], "events": [1, 2], "bounceRate": [0, 50]}
    heads = await page.eval_on_selector_all("table[data-table=compare] thead th[data-segment]",
                                            "(ths) => ths.map((th) => th.textContent)")
    assert heads == ["Pro in the US", "Buyers"]
    await snap(page, "compare")
    # The pair is in the URL: a reload shows it again.
    await page.reload()
    await page.wait_for_selector("table[data-table=compare] tr[data-metric=visitors]")
    assert await page.input_value("#compare-0") == pro

    # Change the first: pro and from the US or Germany (v1 and v2), saved.
    await page.click(f"table[data-table=segments] tr[data-segment='{pro}'] a")
    await page.wait_for_selector(".builder")
    await settled(page)
    await page.select_option(row(1, "c-op"), "in")
    await page.fill(row(1, "c-value"), "US, DE")
    await counted(page, 2)
    await page.click("#segment-save")
    await page.wait_for_selector(".save-status:text-is('Saved.')")
    await page.wait_for_selector(".segment-summary .card-value[data-value='2']")
    saved = await rest(site, f"/api/v1/segments/{pro}")
    assert saved["definition"]["conditions"][1] == {"source": "session", "field": "country", "op": "in",
                                                    "value": ["US", "DE"]}

    # The range is the dashboard's: "Today" has none of this traffic.
    await page.select_option("#segments-range", "today")
    await page.wait_for_selector(".segment-summary .card-value[data-value='0']")
    await counted(page, 0)
    assert query_of(page)["range"] == "today" and query_of(page)["segment"] == pro

    # Delete the second, after a confirmation: the list no longer has it.
    await page.goto(site["url"] + f"/dashboard?tab=segments&segment={buyers}")
    await page.wait_for_selector("#segment-delete")
    await settled(page)
    await page.click("#segment-delete")
    await page.wait_for_function("() => !new URLSearchParams(location.search).get('segment')")
    await page.wait_for_function("() => document.querySelector('[data-total]')?.dataset.total === '1'")
    assert len(dialogs) == 1 and "Buyers" in dialogs[0]
    assert [s["id"] for s in (await rest(site, "/api/v1/segments"))["data"]] == [pro]
    assert await page.eval_on_selector_all("table[data-table=segments] tbody tr", "(r) => r.length") == 1
    assert problems == []
    await context.close()


async def test_a_definition_the_builder_cannot_edit_is_shown_as_saved(browser, site):  # noqa: F811
    grouped = {"match": "all", "conditions": [
        {"source": "profile", "field": "traits.plan", "op": "eq", "value": "pro"},
        {"match": "any", "conditions": [{"source": "session", "field": "country", "op": "eq", "value": "DE"},
                                        {"source": "metric", "field": "pageviews", "op": "gte", "value": 2}]}]}
    response = await site["client"].post("/api/v1/segments", json={"name": "Grouped", "definition": grouped},
                                         headers=key_header(site["query"]))
    assert response.status_code == 201, response.text
    made = response.json()
    context, page, problems, _ = await log_in(browser, site, site["query"])
    await page.goto(site["url"] + f"/dashboard?tab=segments&segment={made['id']}")
    await page.wait_for_selector("pre.definition")
    await counted(page, 2)  # v1 (two pageviews) and v2 (DE)
    assert await page.get_attribute(".segment-summary .card-value", "data-value") == "2"
    await page.fill("#segment-name", "Grouped, renamed")
    await page.click("#segment-save")
    await page.wait_for_selector("#segment-title:text-is('Grouped, renamed')")
    saved = await rest(site, f"/api/v1/segments/{made['id']}")
    assert saved["name"] == "Grouped, renamed" and saved["definition"] == grouped
    await site["client"].delete(f"/api/v1/segments/{made['id']}", headers=key_header(site["query"]))
    assert problems == []
    await context.close()


async def test_read_only_access_says_why_a_save_fails(browser, site):  # noqa: F811
    client = site["client"]
    project = await create_project(client, "Read only", "readonly.test")
    key = (await create_key(client, project["id"], "query"))["key"]
    response = await client.put(f"/api/admin/projects/{project['id']}/modules/segments/access",
                                json={"access": "read"}, headers=ADMIN)
    assert response.status_code == 200, response.text
    context, page, problems, _ = await log_in(browser, site, key)
    await page.goto(site["url"] + "/dashboard?tab=segments&segment=new")
    await page.wait_for_selector(".builder")
    await page.select_option(row(0, "c-source"), "metric")
    await page.select_option(row(0, "c-op"), "gte")
    await page.fill(row(0, "c-value"), "1")
    await counted(page, 0)  # reading is allowed: the count works
    await page.fill("#segment-name", "Regulars")
    await page.click("#segment-save")
    alert = page.locator(".builder [role=alert]")
    await alert.wait_for()
    assert "Module 'segments' does not allow write access for this project." in await alert.text_content()
    assert query_of(page)["segment"] == "new"
    # GraphQL errors are logged by nobody but the view: the console stays clean.
    assert problems == []
    await context.close()


async def test_an_admin_session_saves_a_segment_in_the_project_it_shows(browser, site):  # noqa: F811
    context, page, problems, _ = await log_in(browser, site, ADMIN_TOKEN)
    await page.goto(site["url"] + f"/dashboard?project={site['project']['id']}&tab=segments&segment=new")
    await page.wait_for_selector(".builder")
    await page.select_option(row(0, "c-source"), "metric")
    await page.select_option(row(0, "c-op"), "gte")
    await page.fill(row(0, "c-value"), "2")
    await counted(page, 1)  # v1 viewed two pages
    await page.fill("#segment-name", "Readers")
    await page.click("#segment-save")
    await page.wait_for_selector("#segment-title:text-is('Readers')")
    made = query_of(page)["segment"]
    assert query_of(page)["project"] == site["project"]["id"]
    saved = await rest(site, f"/api/v1/segments/{made}")
    assert saved["definition"] == {"match": "all", "conditions": [
        {"source": "metric", "field": "pageviews", "op": "gte", "value": 2}]}
    await site["client"].delete(f"/api/v1/segments/{made}", headers=key_header(site["query"]))
    assert problems == []
    await context.close()
