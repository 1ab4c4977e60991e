"""The dashboard in headless Chromium against Pulse over real HTTP: log in, the numbers agree with
the REST API, range and filters update every widget, bad keys are explained, logout ends it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
import pytest_asyncio

from pulse.web import session
from tests.browser import browser, live_server, poll  # noqa: F401
from tests.helpers import ADMIN, CHROME, IPHONE, create_key, create_project, key_header

NOW = datetime.now(UTC).replace(microsecond=0)
US, GB, DE = "8.8.8.8", "212.58.244.22", "193.99.144.80"


def ago(days: int = 0, minutes: int = 0) -> str:
    return (NOW - timedelta(days=days, minutes=minutes)).isoformat()


# visitor, user agent, address, payload: five visitors over 30 days (one of them 10 days ago, so
# "Last 7 days" differs from "Last 30 days"), two of them on the site right now.
TRAFFIC = [
    ("a", CHROME, US, {"path": "/", "referrer": "https://www.google.com/", "timestamp": ago(10)}),
    ("a", CHROME, US, {"path": "/pricing", "timestamp": ago(10, -2)}),
    ("a", CHROME, US, {"type": "event", "name": "signup", "timestamp": ago(10, -3)}),
    ("b", IPHONE, GB, {"path": "/", "timestamp": ago(2), "utm_source": "newsletter", "utm_medium": "email",
                       "utm_campaign": "spring"}),
    ("b", IPHONE, GB, {"path": "/docs", "timestamp": ago(2, -1)}),
    ("c", CHROME, DE, {"path": "/pricing", "referrer": "https://twitter.com/somebody", "timestamp": ago(2)}),
    ("c", CHROME, DE, {"type": "event", "name": "purchase", "timestamp": ago(2, -1)}),
    ("d", IPHONE, US, {"path": "/", "timestamp": ago(minutes=2)}),
    ("d", IPHONE, US, {"path": "/pricing", "timestamp": ago(minutes=1)}),
    ("e", CHROME, US, {"path": "/docs", "timestamp": ago(minutes=1)}),
]
PAGEVIEWS = sum(1 for *_, body in TRAFFIC if "type" not in body)

# Each table of the overview (by its data-table name): its REST route, and the fields of the
# name and the two numbers it shows.
TABLES = {
    "referrers": ("/api/v1/referrers", None, ("source", "visitors", "pageviews")),
    "channels": ("/api/v1/channels", None, ("channel", "visitors", "percentage")),
    "pages": ("/api/v1/pages", None, ("path", "views", "unique_views")),
    "entry": ("/api/v1/pages/entry", None, ("path", "entrances", "bounce_rate")),
    "exit": ("/api/v1/pages/exit", None, ("path", "exits", "exit_rate")),
    "campaigns": ("/api/v1/campaigns", None, ("campaign", "visitors", "pageviews")),
    "utm_sources": ("/api/v1/campaigns/sources", None, ("source", "visitors", "pageviews")),
    "utm_mediums": ("/api/v1/campaigns/mediums", None, ("medium", "visitors", "pageviews")),
    "geo": ("/api/v1/geo", None, ("country", "visitors", "percentage")),
    "browsers": ("/api/v1/devices", "browsers", ("name", "visitors", "percentage")),
    "os": ("/api/v1/devices", "operating_systems", ("name", "visitors", "percentage")),
    "device_types": ("/api/v1/devices", "device_types", ("name", "visitors", "percentage")),
    "events": ("/api/v1/events", None, ("name", "count", "unique")),
}
CARDS = {"visitors": "visitors", "pageviews": "pageviews", "sessions": "sessions", "bounceRate": "bounce_rate",
         "avgDuration": "avg_duration", "events": "events"}

# Everything the overview shows, read off the page; every tab of every panel is visited (a tab
# switch needs no request: the one response holds every table).
READ_PAGE = """async () => {
  const num = (el) => Number(el.dataset.value);
  const out = { tables: {} };
  out.cards = Object.fromEntries([...document.querySelectorAll('.card')].map(
    (c) => [c.dataset.metric, num(c.querySelector('.card-value'))]));
  const label = document.querySelector('.range-label');
  out.range = [label.dataset.start, label.dataset.end];
  out.live = num(document.querySelector('.live'));
  out.chart = document.querySelector('.chart').getAttribute('aria-label');
  for (const panel of document.querySelectorAll('[data-panel]')) {
    const buttons = [...panel.querySelectorAll('.tabs button')];
    for (let i = 0; i < Math.max(1, buttons.length); i++) {
      const current = document.querySelector(`[data-panel="${panel.dataset.panel}"]`);
      const button = current.querySelectorAll('.tabs button')[i];
      if (button) button.click();
      const now = document.querySelector(`[data-panel="${panel.dataset.panel}"]`);
      const table = now.querySelector('table');
      out.tables[now.dataset.tab] = table ? [...table.querySelectorAll('tbody tr')].map(
        (r) => [r.dataset.name, ...[...r.querySelectorAll('td')].map(num)]) : [];
    }
    document.querySelector(`[data-panel="${panel.dataset.panel}"] .tabs button`)?.click();  // back to the first
  }
  return out;
}"""


@pytest_asyncio.fixture(scope="module")
async def site(live_server):  # noqa: F811
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as client:
        project = await create_project(client, "Browser", "browser.test")
        keys = {scope: (await create_key(client, project["id"], scope))["key"] for scope in ("query", "ingest")}
        # NOW was taken when the module was collected, maybe minutes ago: move the traffic to the
        # present, so "on the site right now" still holds when the module runs late in the suite.
        late = datetime.now(UTC) - NOW
        for visitor, agent, address, body in TRAFFIC:
            payload = {"type": "pageview", "visitor_id": visitor, **body,
                       "timestamp": (datetime.fromisoformat(body["timestamp"]) + late).isoformat()}
            response = await client.post("/api/collect", json=payload, headers={
                **key_header(keys["ingest"]), "User-Agent": agent, "X-Forwarded-For": address})
            assert response.status_code == 200, response.text

        async def written():
            stats = await client.get("/api/v1/stats", headers=key_header(keys["query"]))
            return stats.json()["current"]["pageviews"] == PAGEVIEWS

        await poll(written, timeout=30)
        yield {"url": live_server.url, "project": project, "client": client, **keys}


async def rest(site, path: str, start: str, end: str, filters: list[str]) -> dict:
    params = {"start_at": start, "end_at": end, "filter": filters, "limit": 10}
    response = await site["client"].get(path, params=params, headers=key_header(site["query"]))
    assert response.status_code == 200, response.text
    return response.json()


async def expected(site, start: str, end: str, filters: list[str] = ()) -> dict:
    """What the REST API says for the same range and filters, in the page's shape."""
    filters = list(filters)
    stats = (await rest(site, "/api/v1/stats", start, end, filters))["current"]
    series = await rest(site, "/api/v1/stats/timeseries", start, end, filters)
    tables = {}
    for table, (path, group, (name, main, second)) in TABLES.items():
        body = await rest(site, path, start, end, filters)
        rows = body[group] if group else body["data"]
        tables[table] = [[str(r[name]), float(r[main]), float(r[second])] for r in rows]
    live = (await site["client"].get("/api/v1/realtime", headers=key_header(site["query"]))).json()
    visitors = sum(p["visitors"] for p in series["data"])
    return {"cards": {card: float(stats[field]) for card, field in CARDS.items()}, "range": [start, end],
            "live": float(live["active_visitors"]), "tables": tables,
            "chart": f"Visitors over time: {visitors} in total across {len(series['data'])} points."}


async def shown(page) -> dict:
    data = await page.evaluate(READ_PAGE)
    data["tables"] = {k: [[r[0], float(r[1]), float(r[2])] for r in rows]
                      for k, rows in data["tables"].items()}
    data["cards"] = {k: float(v) for k, v in data["cards"].items()}
    data["live"] = float(data["live"])
    return data


async def settled(page) -> None:
    await page.wait_for_function(
        "() => !document.querySelector('main').hasAttribute('aria-busy') && document.querySelector('.card-value')")


def graphql_posts(page) -> list:
    posts = []
    page.on("request", lambda r: posts.append(r) if r.method == "POST" and r.url.endswith("/graphql") else None)
    return posts


async def log_in(browser, site, key: str):  # noqa: F811
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await page.goto(site["url"] + "/dashboard")
    await page.fill("#key", key)
    await page.click("button[type=submit]")
    return context, page


async def test_login_shows_the_overview_with_the_rest_apis_numbers(browser, site):  # noqa: F811
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    requests, problems = [], []
    page.on("requestfinished", lambda r: requests.append(r))
    page.on("pageerror", lambda e: problems.append(str(e)))  # script errors, and CSP refusals below
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    await page.goto(site["url"] + "/dashboard")
    posts = graphql_posts(page)
    await page.fill("#key", site["query"])
    await page.click("button[type=submit]")
    await settled(page)

    assert len(posts) == 1  # the whole overview is one GraphQL request
    assert problems == []
    data = await shown(page)
    assert data == await expected(site, *data["range"])
    assert data["cards"]["pageviews"] == PAGEVIEWS and data["live"] == 2
    assert data["range"][1] == (await page.evaluate("() => new Date().toISOString().slice(0, 10)"))

    # The key stays out of the URL, storage and script-readable cookies.
    assert site["query"] not in page.url
    assert await page.evaluate("() => localStorage.length + sessionStorage.length") == 0
    assert await page.evaluate("() => document.cookie") == ""
    cookie = next(c for c in await context.cookies() if c["name"] == session.COOKIE)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["expires"] > NOW.timestamp()

    # Everything from the login page to the drawn overview (pages, assets, the report), as
    # transferred: well under 200 KB.
    sizes = [await r.sizes() for r in requests]
    transferred = sum(s["responseBodySize"] + s["responseHeadersSize"] for s in sizes)
    assert transferred < 200_000, transferred
    print(f"first load: {len(sizes)} requests, {transferred} bytes transferred")
    await context.close()


async def test_range_and_row_filters_update_every_widget_and_the_url(browser, site):  # noqa: F811
    context, page = await log_in(browser, site, site["query"])
    await settled(page)
    posts = graphql_posts(page)

    await page.select_option("#range", "7d")
    await page.wait_for_function("() => new URLSearchParams(location.search).get('range') === '7d'")
    await settled(page)
    week = await shown(page)
    assert week == await expected(site, *week["range"])
    assert week["cards"]["visitors"] == 4 and len(posts) == 1  # visitor "a" came 10 days ago

    await page.click("table[data-table=pages] tr[data-name='/pricing'] button")
    await page.wait_for_selector(".chip[data-filter='path:is:/pricing']")
    await settled(page)
    filtered = await shown(page)
    assert filtered == await expected(site, *filtered["range"], ["path:is:/pricing"])
    assert filtered["cards"]["pageviews"] == 2 and len(posts) == 2
    assert parse_qs(urlparse(page.url).query) == {"range": ["7d"], "filter": ["path:is:/pricing"]}

    # The URL is the view: reloading it (a bookmark, a shared link) shows the same numbers.
    await page.reload()
    await settled(page)
    assert await shown(page) == filtered

    # A chip removes its filter.
    await page.click(".chip[data-filter='path:is:/pricing']")
    await page.wait_for_function("() => !document.querySelector('.chip')")
    await settled(page)
    assert (await shown(page))["cards"] == week["cards"]

    # Custom dates.
    first, last = ago(12)[:10], ago(9)[:10]
    await page.select_option("#range", "custom")
    await page.fill("input[aria-label='First day']", first)
    await page.fill("input[aria-label='Last day']", last)
    await page.click("form.custom button")
    await page.wait_for_function(f"() => document.querySelector('.range-label').dataset.start === '{first}'")
    await settled(page)
    custom = await shown(page)
    assert custom == await expected(site, first, last) and custom["cards"]["visitors"] == 1

    # The cards switch the chart's metric, from the response already there.
    requests = len(posts)
    await page.click(".card[data-metric=pageviews]")
    await page.wait_for_function("() => document.querySelector('.chart').getAttribute('aria-label')"
                                 ".startsWith('Pageviews')")
    series = (await rest(site, "/api/v1/stats/timeseries", first, last, []))["data"]
    label = f"Pageviews over time: {sum(p['pageviews'] for p in series)} in total across {len(series)} points."
    assert await page.get_attribute(".chart", "aria-label") == label
    assert len(posts) == requests and "metric=pageviews" in page.url
    await context.close()


@pytest.mark.parametrize("which, message", [
    ("invalid", "That key is not valid"),
    ("revoked", "That key is not valid"),
    ("ingest", "That is an ingest key"),
])
async def test_a_bad_key_is_explained(browser, site, which, message):  # noqa: F811
    key = {"invalid": "pa_live_ThisKeyDoesNotExist0000", "ingest": site["ingest"]}.get(which)
    if which == "revoked":
        made = await create_key(site["client"], site["project"]["id"], "query")
        response = await site["client"].delete(f"/api/admin/projects/{site['project']['id']}/keys/{made['id']}",
                                               headers=ADMIN)
        assert response.status_code == 204
        key = made["key"]
    context, page = await log_in(browser, site, key)
    alert = page.locator("[role=alert]")
    await alert.wait_for()
    assert message in await alert.text_content()
    assert key not in page.url and await context.cookies() == []
    await context.close()


async def test_a_report_error_says_what_failed_and_offers_a_retry(browser, site):  # noqa: F811
    context, page = await log_in(browser, site, site["query"])
    await settled(page)
    await page.goto(site["url"] + "/dashboard?filter=path:matches:(")  # a filter the API refuses
    alert = page.locator("[role=alert]")
    await alert.wait_for()
    assert "Invalid filter" in await alert.text_content()
    assert await alert.locator("button", has_text="Retry").is_visible()
    await context.close()


async def test_logout_ends_the_session(browser, site):  # noqa: F811
    context, page = await log_in(browser, site, site["query"])
    await settled(page)
    old = next(c["value"] for c in await context.cookies() if c["name"] == session.COOKIE)
    await page.click("text=Log out")
    await page.wait_for_selector("#key")
    assert await context.cookies() == []

    response = await site["client"].post("/graphql", json={"query": "{ project { domain } }"},
                                         headers={"Cookie": f"{session.COOKIE}={old}"})
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    await context.close()


async def test_revoking_the_key_sends_the_open_dashboard_to_the_login_page(browser, site):  # noqa: F811
    made = await create_key(site["client"], site["project"]["id"], "query")
    context, page = await log_in(browser, site, made["key"])
    await settled(page)
    response = await site["client"].delete(f"/api/admin/projects/{site['project']['id']}/keys/{made['id']}",
                                           headers=ADMIN)
    assert response.status_code == 204
    await page.select_option("#range", "today")  # the next request
    await page.wait_for_selector("text=Your session has ended")
    await context.close()


async def test_an_empty_project_shows_the_tracking_snippet(browser, site):  # noqa: F811
    empty = await create_project(site["client"], "Empty", "empty.test")
    key = (await create_key(site["client"], empty["id"], "query"))["key"]
    context, page = await log_in(browser, site, key)
    await page.wait_for_selector(".setup")
    snippet = await page.text_content(".setup pre")
    assert f'src="{site["url"]}/api/script.js"' in snippet and 'data-key="pa_live_YOUR_INGEST_KEY"' in snippet
    assert f"/api/admin/projects/{empty['id']}/keys" in await page.text_content(".setup")
    await context.close()


async def test_the_overview_works_at_phone_width_by_keyboard(browser, site):  # noqa: F811
    context = await browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    page = await context.new_page()
    await page.goto(site["url"] + "/dashboard")
    await page.focus("#key")
    await page.keyboard.type(site["query"])
    await page.keyboard.press("Enter")
    await settled(page)
    assert await page.evaluate("() => document.documentElement.scrollWidth") <= 375  # no sideways scrolling
    # Tab to the first row of the sources table and choose it with the keyboard.
    target = page.locator("table[data-table=referrers] tbody tr").first.locator("button")
    name = await target.text_content()
    for _ in range(60):
        await page.keyboard.press("Tab")
        if await target.evaluate("el => el === document.activeElement"):
            break
    await page.keyboard.press("Enter")
    await page.wait_for_selector(f".chip[data-filter='source:is:{name}']")
    await context.close()


async def test_the_cookie_is_secure_behind_a_trusted_https_proxy(site):
    """uvicorn trusts X-Forwarded-Proto from 127.0.0.1 (PULSE_TRUSTED_PROXIES' default)."""
    response = await site["client"].post("/dashboard/login", data={"key": site["query"]},
                                         headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 303 and "; secure" in response.headers["set-cookie"].lower()


async def test_visitors_now_refreshes_itself(browser, site):  # noqa: F811
    context = await browser.new_context()
    page = await context.new_page()
    await page.clock.install()  # the page's timers run when the test says, not in 30 real seconds
    await page.goto(site["url"] + "/dashboard")
    await page.fill("#key", site["query"])
    await page.click("button[type=submit]")
    await settled(page)
    await page.clock.pause_at(datetime.now(UTC) + timedelta(seconds=1))  # from here on, only fast_forward moves it
    before = int(await page.get_attribute(".live", "data-value"))

    response = await site["client"].post("/api/collect", json={"type": "pageview", "visitor_id": "f", "path": "/"},
                                         headers={**key_header(site["ingest"]), "User-Agent": CHROME})
    assert response.status_code == 200

    async def changed():
        live = await site["client"].get("/api/v1/realtime", headers=key_header(site["query"]))
        return live.json()["active_visitors"] if live.json()["active_visitors"] != before else None

    now = await poll(changed)
    await page.clock.fast_forward(31_000)
    await page.wait_for_selector(f".live[data-value='{now}']", timeout=5000)
    await context.close()


async def test_a_key_limited_to_core_sees_only_core(browser, site):  # noqa: F811
    """No campaigns panel without utm, no CSV links without exports: the overview asks only for
    what the key may read, so its one request still succeeds."""
    key = (await create_key(site["client"], site["project"]["id"], "query", allowed_modules=["core"]))["key"]
    context, page = await log_in(browser, site, key)
    await settled(page)
    assert await page.locator("[data-panel]").count() == 5
    assert await page.locator("[data-panel=campaigns]").count() == 0
    assert await page.locator("a.export").count() == 0
    data = await shown(page)
    assert data["cards"] == (await expected(site, *data["range"]))["cards"]
    await context.close()


async def test_csv_links_download_the_tables_export_with_the_session(browser, site):  # noqa: F811
    context, page = await log_in(browser, site, site["query"])
    await settled(page)
    await page.click("table[data-table=referrers] tbody tr button")  # a filter the export must carry too
    await page.wait_for_selector(".chip")
    await settled(page)
    href = await page.get_attribute("[data-panel=pages] a.export", "href")
    download = await page.request.get(site["url"] + href)  # the browser's cookie, no key
    assert download.status == 200 and download.headers["content-type"].startswith("text/csv")
    direct = await site["client"].get(href, headers=key_header(site["query"]))
    assert await download.text() == direct.text and "filter=source" in href
    await context.close()
