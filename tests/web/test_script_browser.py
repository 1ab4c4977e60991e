"""The tracking script in headless Chromium, end to end: a page on another origin loads
/api/script.js from a live Pulse, and what it sends is read back through the API (or, for
types without a report yet, from PostgreSQL).

Pages are served by a small HTTP server of this module on localhost (another origin than
Pulse's 127.0.0.1). Pulse filters HeadlessChrome as a bot, as it should; the browser context
reports a desktop Chrome user agent, but requests still in flight when a page unloads (beacons
sent on `visibilitychange`) go out with Chromium's own, so the test projects turn bot filtering off.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
from sqlalchemy.engine import make_url

from tests.browser import browser, live_server, poll  # noqa: F401
from tests.helpers import ADMIN, create_key, create_project

CHROME = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/130.0.0.0 Safari/537.36")

# Records every beacon / fetch to /api/collect the page makes, synchronously, in window.__sent:
# how the DNT and consent tests see that nothing left the page at all.
SPY = """
(() => {
  const sent = window.__sent = [];
  const beacon = navigator.sendBeacon.bind(navigator), fetch_ = window.fetch.bind(window);
  const spy = (url, body) => String(url).includes('/api/collect') && sent.push(body);
  navigator.sendBeacon = (url, body) => (spy(url, body), beacon(url, body));
  window.fetch = (url, init) => (spy(url, init && init.body), fetch_(url, init));
})();
"""


IDLE = """new Promise(r => requestAnimationFrame(() => requestAnimationFrame(
    () => requestIdleCallback(() => requestIdleCallback(r)))))"""


class Site:
    """Test pages on http://localhost:<port>/<id>/...; any path under an id answers that id's page."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                page_id = self.path.strip("/").split("/")[0].split("?")[0]
                body = pages.get(page_id, "<!doctype html><title>other</title><p>Another page</p>").encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://localhost:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def add(self, body: str, head: str = "") -> str:
        """Register a page; return its URL."""
        page_id = uuid.uuid4().hex[:12]
        self.pages[page_id] = f"<!doctype html><html><head><title>Test page</title>{head}</head><body>{body}</body>"
        return f"{self.url}/{page_id}/"


@pytest.fixture(scope="module")
def site():
    s = Site()
    yield s
    s.server.shutdown()


@pytest_asyncio.fixture
async def project(live_server, settings):  # noqa: F811
    """A fresh project with ingest and query keys, and helpers to configure it and read what arrived."""
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as client:
        p = await create_project(client, "Browser", "localhost")
        ingest = (await create_key(client, p["id"], "ingest"))["key"]
        query = (await create_key(client, p["id"], "query"))["key"]
        project = Project(client, settings, p["id"], ingest, query, live_server.url)
        await project.privacy(bot_filtering=False)
        yield project


class Project:
    def __init__(self, client: httpx.AsyncClient, settings: Any, id: str, ingest: str, query: str, base: str):
        self.client, self.settings, self.id, self.ingest, self.query = client, settings, id, ingest, query
        self.base = base

    def tag(self, **attrs: str) -> str:
        """The <script> tag a site owner pastes, with data attributes."""
        data = "".join(f' data-{k.replace("_", "-")}="{v}"' for k, v in attrs.items())
        return (f'<script defer src="{self.base}/api/script.js" data-api="{self.base}" data-key="{self.ingest}"'
                f"{data}></script>")

    async def enable(self, *modules: str) -> None:
        for module in modules:
            r = await self.client.post(f"/api/admin/projects/{self.id}/modules/{module}/enable", headers=ADMIN)
            assert r.status_code == 200, r.text

    async def privacy(self, **changes: Any) -> None:
        r = await self.client.put("/api/v1/privacy/settings", params={"project_id": self.id}, json=changes,
                                  headers=ADMIN)
        assert r.status_code == 200, r.text

    async def api(self, path: str) -> dict:
        r = await self.client.get(path, headers={"X-Pulse-Key": self.query})
        assert r.status_code == 200, r.text
        return r.json()

    async def pages(self) -> dict[str, int]:
        return {p["path"]: p["views"] for p in (await self.api("/api/v1/pages?limit=100"))["data"]}

    async def events(self) -> dict[str, int]:
        return {e["name"]: e["count"] for e in (await self.api("/api/v1/events?limit=100"))["data"]}

    async def rows(self, table: str, columns: str = "*", order: str | None = None) -> list[dict]:
        order = order or ("ts" if table != "identity_aliases" else "user_id")
        url = make_url(self.settings.database_url).set(drivername="postgresql").render_as_string(False)
        conn = await asyncpg.connect(url)
        try:
            records = await conn.fetch(f"SELECT {columns} FROM {table} WHERE project_id = $1 ORDER BY {order}",
                                       uuid.UUID(self.id))
        finally:
            await conn.close()
        return [dict(r) for r in records]

    async def sessions(self) -> list[dict]:
        return await self.rows("sessions", "pageviews, events, duration, is_bounce", order="started_at")

    async def wait_rows(self, table: str, check=lambda rows: rows, columns: str = "*") -> list[dict]:
        async def ready():
            rows = await self.rows(table, columns)
            return rows if check(rows) else None

        return await poll(ready)


@pytest_asyncio.fixture
async def context(browser):  # noqa: F811
    ctx = await browser.new_context(user_agent=CHROME)
    await ctx.add_init_script(SPY)
    yield ctx
    await ctx.close()


def script_requests(page) -> list[str]:
    """URLs of script files the page fetches from Pulse, as they happen."""
    seen: list[str] = []
    page.on("request", lambda r: "/api/script" in r.url and seen.append(r.url.rsplit("/api/", 1)[1]))
    return seen


async def test_pageview_then_exactly_one_more_per_spa_navigation(project, site, context):
    page = await context.new_page()
    await page.goto(site.add("<h1>Home</h1>", project.tag()))
    path = "/" + page.url.split("/")[3] + "/"
    await poll(lambda: _has(project.pages, {path: 1}))
    first = (await project.wait_rows("pageviews"))[0]
    assert first["title"] == "Test page" and first["screen"] and first["language"] and first["browser"] == "Chrome"

    await page.evaluate("""() => {
        history.pushState({}, '', 'pricing');
        history.replaceState({}, '', 'pricing');   // the same page again: no pageview
        history.pushState({}, '', 'pricing#top');  // an anchor, not a route: no pageview
        location.hash = '#/settings';              // a hash route: a pageview
    }""")
    await page.wait_for_function("location.hash === '#/settings'")
    await page.go_back()  # popstate back to /pricing#top: a view of /pricing again
    expected = {path: 1, path + "pricing": 2, path + "pricing#/settings": 1}
    await poll(lambda: _has(project.pages, expected))
    # Anything more would have been sent before this event: once it is in, the count is final.
    await page.evaluate("pulse('event', 'barrier')")
    await poll(lambda: _has(project.events, {"barrier": 1}))
    assert await project.pages() == expected


async def test_leaving_a_page_sends_an_engagement_ping_that_times_the_visit(project, site, context):
    page = await context.new_page()
    await page.goto(site.add("<p>Article</p>", project.tag()))
    await project.wait_rows("pageviews")
    # Real time, on purpose: Pulse times the ping on arrival, so the visit must really last.
    await asyncio.sleep(1.2)
    # The tab is switched away. (Not a navigation: headless Chromium sends a closing page's
    # beacons with its own user agent, which makes them another anonymous visitor.)
    await page.evaluate("""() => {
        Object.defineProperty(document, 'hidden', {configurable: true, value: true});
        document.dispatchEvent(new Event('visibilitychange'));
    }""")

    async def one_page_visit_with_a_duration():
        sessions = await project.sessions()
        return sessions if sessions and sessions[0]["duration"] >= 1 else None

    sessions = await poll(one_page_visit_with_a_duration)
    assert [(s["pageviews"], s["events"], s["is_bounce"]) for s in sessions] == [(1, 0, True)]
    assert await project.rows("events") == []  # the ping is not an event


async def test_utm_parameters_only_with_data_utm(project, site, context):
    page = await context.new_page()
    query = "?utm_source=newsletter&utm_campaign=spring&ref=1"
    off, on = site.add("<p>Landing</p>", project.tag()), site.add("<p>Landing</p>", project.tag(utm="true"))
    await page.goto(off + query)
    await page.goto(on + query)
    rows = await project.wait_rows("pageviews", lambda r: len(r) >= 2)
    path = lambda url: url.removeprefix(site.url)  # noqa: E731
    assert {r["path"]: (r["utm_source"], r["utm_campaign"]) for r in rows} == {
        path(off): (None, None), path(on): ("newsletter", "spring")}


async def test_custom_events_and_the_queue_before_load(project, site, context):
    await project.enable("surveys")
    survey = str(uuid.uuid4())
    queue = """<script>window.pulse = window.pulse || function () { (pulse.q = pulse.q || []).push(arguments) };
        pulse('event', {name: 'queued_before_load', data: {early: true}});</script>"""
    page = await context.new_page()
    await page.goto(site.add("<p>Shop</p>", queue + project.tag(release="2026.05.09", environment="staging")))
    await page.evaluate("""(survey) => {
        pulse('event', {name: 'purchase', revenue_amount: 49.99, revenue_currency: 'EUR', data: {plan: 'pro'}});
        pulse('event', 'button_click', {button_id: 'cta-hero'});
        pulse('search', {query: 'deployment guide', results_count: 12});
        pulse('log', 'warn', 'Checkout retry', {order_id: 'ord_123', retry_count: 2});
        pulse('survey_response', {survey_id: survey, answers: [{question_id: 'q1', value: 9}], completed: true});
        pulse('identify', 'user_123', {plan: 'pro'});
    }""", survey)
    await poll(lambda: _has(project.events, {"purchase": 1, "button_click": 1, "queued_before_load": 1}))
    events = {e["name"]: e for e in await project.wait_rows("events", lambda r: len(r) >= 3)}
    assert events["purchase"]["data"] and json.loads(events["purchase"]["data"]) == {"plan": "pro"}
    assert float(events["purchase"]["revenue_amount"]) == 49.99 and events["purchase"]["revenue_currency"] == "EUR"
    assert json.loads(events["queued_before_load"]["data"]) == {"early": True}

    (search,) = await project.wait_rows("search_queries")
    assert (search["query"], search["results_count"]) == ("deployment guide", 12)
    (log,) = await project.wait_rows("logs")
    assert (log["level"], log["message"], log["release"], log["environment"]) == \
        ("warn", "Checkout retry", "2026.05.09", "staging")
    assert json.loads(log["body"]) == {"order_id": "ord_123", "retry_count": 2}
    (response,) = await project.wait_rows("survey_responses")
    assert str(response["survey_id"]) == survey and response["completed"] is True
    (profile,) = await project.wait_rows("identity_aliases")
    assert profile["user_id"] == "user_123"


async def test_errors_and_outbound_links(project, site, context):
    await context.route("https://example.com/**", lambda route: route.fulfill(body="<p>elsewhere</p>",
                                                                              content_type="text/html"))
    page = await context.new_page()
    body = """<a id="out" href="https://example.com/docs?ref=1">Docs</a>
              <a id="file" href="/files/report.pdf" download>Report</a>
              <script>function explode() { throw new TypeError('boom from a timer') }</script>"""
    await page.goto(site.add(body, project.tag(errors="true", outlinks="true", release="1.2.3",
                                               environment="staging")))
    await page.evaluate("""() => {
        setTimeout(explode);
        Promise.reject(new RangeError('rejected on purpose'));
    }""")
    errors = await project.wait_rows("js_errors", lambda r: len(r) >= 2)
    by_message = {e["message"]: e for e in errors}
    thrown, rejected = by_message["boom from a timer"], by_message["rejected on purpose"]
    assert thrown["error_type"] == "TypeError" and "boom from a timer" in thrown["stack"]
    assert thrown["lineno"] and thrown["filename"].startswith(site.url)
    assert rejected["error_type"] == "RangeError"
    assert {(e["release"], e["environment"]) for e in errors} == {("1.2.3", "staging")}

    await page.click("#file", modifiers=["Alt"])  # Alt: no actual download
    await page.click("#out")
    await page.wait_for_url("https://example.com/**")
    links = await project.wait_rows("outlinks", lambda r: len(r) >= 2)
    assert {(r["url"], r["link_type"]) for r in links} == {
        ("https://example.com/docs?ref=1", "external"), (f"{site.url}/files/report.pdf", "download")}
    assert all(r["path"].startswith("/") and r["path"] != "/files/report.pdf" for r in links)  # the page's path


async def test_scroll_vitals_and_heatmap_clicks(project, site, context):
    await project.enable("heatmaps")
    page = await context.new_page()
    seen = script_requests(page)
    body = """<h1>Long read</h1><p style="height: 3000px">Text</p>
              <button id="cta" class="btn primary" onclick="const t = Date.now(); while (Date.now() - t < 80) {}">
                Buy now</button>"""
    await page.goto(site.add(body, project.tag(scroll="true", vitals="true", clicks="true")))
    await page.wait_for_load_state("networkidle")
    await page.click("#cta")  # scrolls it into view (the bottom of the page) and clicks it
    # web-vitals takes an interaction in once the next frame is painted and the page idles; a visitor
    # who leaves within those milliseconds goes without an INP (web-vitals' own behaviour).
    await page.evaluate(IDLE)
    await page.goto(site.url + "/elsewhere")  # hiding the page reports LCP, CLS, INP and the scroll depth

    vitals = await project.wait_rows("web_vitals", lambda r: len({v["name"] for v in r}) >= 5)
    by_name = {v["name"]: v for v in vitals}
    assert set(by_name) == {"LCP", "FCP", "CLS", "INP", "TTFB"}
    assert by_name["INP"]["value"] >= 80 and by_name["LCP"]["value"] > 0
    assert all(v["rating"] in ("good", "needs-improvement", "poor") for v in vitals)

    (depth,) = await project.wait_rows("scroll_depths")
    assert depth["max_depth"] == 100

    (click,) = await project.wait_rows("click_events")
    assert click["element_selector"].endswith("button#cta")
    assert click["element_text"] == "Buy now"
    assert click["y"] > 3000 and click["page_height"] > 3000 and click["viewport_width"] > 0
    assert sorted(seen) == ["script.js", "script/clicks.js", "script/scroll.js", "script/vitals.js"]


@pytest.mark.parametrize("mask", [None, "false"])
async def test_replay_records_the_page_with_inputs_masked(project, site, context, mask):
    await project.enable("session_replay")
    page = await context.new_page()
    body = '<h1>Sign up</h1><input id="email" type="text"><input id="pw" type="password">'
    attrs = {"replay": "true", "replay_sample": "1"} | ({"replay_mask": mask} if mask else {})
    await page.goto(site.add(body, project.tag(**attrs)))
    await project.wait_rows("replay_events")  # the first full snapshot goes at once
    await page.fill("#email", "jane@secret.test")
    await page.fill("#pw", "hunter2")
    await page.goto(site.url + "/elsewhere")  # leaving sends the rest

    def typed(chunks):  # input events (rrweb: type 3, source 5) have arrived
        return any(e["type"] == 3 and e["data"].get("source") == 5 for c in chunks for e in json.loads(c["events"]))

    chunks = await project.wait_rows("replay_events", typed)
    assert len({c["recording_id"] for c in chunks}) == 1
    seqs = sorted(c["seq"] for c in chunks)
    assert seqs[0] == 0 and len(set(seqs)) == len(seqs) >= 2
    events = [e for c in chunks for e in json.loads(c["events"])]
    assert sum(c["events_count"] for c in chunks) == len(events)
    assert any(e["type"] == 2 for e in events)  # a full DOM snapshot
    recorded = json.dumps(events)
    assert "Sign up" in recorded
    assert "hunter2" not in recorded  # passwords are masked even with data-replay-mask="false"
    if mask == "false":
        assert "jane@secret.test" in recorded
    else:
        assert "jane@secret.test" not in recorded
        assert any(e["type"] == 3 and e["data"].get("source") == 5 and set(e["data"].get("text", "")) == {"*"}
                   for e in events)  # input events, masked


async def test_replay_sampled_out_and_features_off_load_nothing(project, site, context):
    page = await context.new_page()
    seen = script_requests(page)
    await page.goto(site.add("<p>Plain</p>", project.tag(replay="true", replay_sample="0")))
    await page.wait_for_load_state("networkidle")
    await poll(lambda: _has(project.pages, {"/" + page.url.split("/")[3] + "/": 1}))
    assert seen == ["script.js"]


async def test_site_search_from_the_url_parameter(project, site, context):
    page = await context.new_page()
    url = site.add("<p>Results</p>", project.tag(search="true", search_param="s"))
    await page.goto(url + "?s=pricing+plans&q=ignored")
    await page.evaluate("history.pushState({}, '', '?s=enterprise')")
    rows = await project.wait_rows("search_queries", lambda r: len(r) >= 2)
    assert sorted(r["query"] for r in rows) == ["enterprise", "pricing plans"]


async def test_do_not_track_sends_nothing(project, site, browser, context):  # noqa: F811
    # Pulse would drop DNT requests itself; turning that off shows the script sends none.
    await project.privacy(respect_dnt=False)
    dnt = await browser.new_context(user_agent=CHROME)
    await dnt.add_init_script(SPY + "Object.defineProperty(Navigator.prototype, 'doNotTrack', {get: () => '1'});")
    page = await dnt.new_page()
    seen = script_requests(page)
    await page.goto(site.add("<p>Private</p>", project.tag(vitals="true", errors="true")))
    await page.evaluate("() => { pulse('event', 'while_dnt'); history.pushState({}, '', 'next'); }")
    assert await page.evaluate("window.__sent.length") == 0
    assert seen == ["script.js"]  # no feature file either
    await dnt.close()

    # The same page with data-dnt="false", in a browser without DNT, arrives: the barrier.
    control = await context.new_page()
    await control.goto(site.add("<p>Control</p>", project.tag(dnt="false")))
    await control.evaluate("pulse('event', 'control')")
    control_path = "/" + control.url.split("/")[3] + "/"
    await poll(lambda: _has(project.events, {"control": 1}))
    await poll(lambda: _has(project.pages, {control_path: 1}))
    assert await project.events() == {"control": 1}
    assert await project.pages() == {control_path: 1}


async def test_nothing_is_sent_before_consent(project, site, context):
    await project.privacy(consent_required=True, allowed_consent_modes=["analytics", "measurement"])
    page = await context.new_page()
    await page.goto(site.add("<p>Cookie banner</p>", project.tag(consent_granted="false", consent_mode="measurement")))
    await page.evaluate("() => { pulse('event', 'before_consent'); history.pushState({}, '', 'step2'); }")
    assert await page.evaluate("window.__sent.length") == 0

    await page.evaluate("pulse('consent', true)")
    sent = [json.loads(b) for b in await page.evaluate("window.__sent")]
    assert {p["consent_granted"] for p in sent} == {True}
    assert {p["consent_mode"] for p in sent} == {"measurement"}
    await poll(lambda: _has(project.events, {"before_consent": 1}))
    path = "/" + page.url.split("/")[3] + "/"
    await poll(lambda: _has(project.pages, {path: 1, path + "step2": 1}))

    await page.evaluate("() => { pulse('consent', false); pulse('event', 'after_withdrawal'); }")
    assert len(await page.evaluate("window.__sent")) == len(sent)


async def _has(fetch, expected: dict[str, int]) -> bool:
    got = await fetch()
    return all(got.get(k) == v for k, v in expected.items())
