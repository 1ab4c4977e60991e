"""The newcomer's whole path, in a browser that cannot reach anything but this machine.

Admin sign-in, a new project, an ingest key, the snippet pasted into a test site's page, that
page's pageview arriving (the worker writes it, as under `pulse serve`), the overview, a row
filter, and GraphiQL running a query. With PULSE_SCREENSHOTS=docs/screenshots/first-five-minutes
each step is saved as a numbered PNG (the ones in docs/ come from this test).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from tests.browser import browser, live_server, poll  # noqa: F401
from tests.helpers import ADMIN_TOKEN, CHROME, local_server
from tests.web.test_ide import WATCH_CSP, _run

SHOTS = os.environ.get("PULSE_SCREENSHOTS")


class Shots:
    def __init__(self, page) -> None:
        self.page, self.n = page, 0

    async def __call__(self, name: str) -> None:
        self.n += 1
        if SHOTS:
            Path(SHOTS).mkdir(parents=True, exist_ok=True)
            await self.page.screenshot(path=str(Path(SHOTS) / f"{self.n:02d}-{name}.png"))


def site_page(snippet: str, title: str) -> bytes:
    return (f"<!doctype html><html><head><meta charset=utf-8><title>{title}</title>{snippet}</head>"
            f"<body><h1>{title}</h1><p>A test site with the Pulse snippet pasted in.</p></body></html>").encode()


async def test_a_newcomer_goes_from_admin_sign_in_to_their_sites_numbers_offline(browser, live_server):  # noqa: F811
    context = await browser.new_context(viewport={"width": 1280, "height": 860}, user_agent=CHROME)
    await context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    elsewhere: list[str] = []

    async def offline(route) -> None:  # this machine only: no CDN, no font service, nothing
        host = urlparse(route.request.url).hostname
        if urlparse(route.request.url).scheme in ("http", "https", "ws", "wss") and host != "127.0.0.1":
            elsewhere.append(route.request.url)
            await route.abort("internetdisconnected")
        else:
            await route.continue_()

    await context.route("**/*", offline)
    await context.add_init_script(WATCH_CSP)
    page = await context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    shot = Shots(page)
    try:
        # 1. `/` is the dashboard's login; the admin token opens the admin area.
        await page.goto(live_server.url + "/")
        assert urlparse(page.url).path == "/dashboard"
        await page.fill("#key", ADMIN_TOKEN)
        await shot("sign-in")
        await page.click("button[type=submit]")
        await page.wait_for_selector("#admin-projects")
        assert ADMIN_TOKEN not in await page.content()

        # 2. A project for the newcomer's site.
        await page.fill("#project-name", "My site")
        await page.fill("#project-domain", "mysite.test")
        await shot("new-project")
        await page.click("#new-project button[type=submit]")
        await page.wait_for_selector("#admin-project h2:has-text('My site')")
        project = await page.evaluate("() => JSON.parse(document.getElementById('pulse-boot').textContent).project.id")

        # 3. An ingest key: shown once, and the snippet carries it and this server's address.
        await page.fill("#key-name", "website")
        await page.check("#key-scope-ingest")
        await page.click("#new-key button[type=submit]")
        key = await page.locator(".new-key input").input_value()
        assert re.fullmatch(r"pa_live_[A-Za-z0-9]{24}", key)
        snippet = await page.text_content("#snippet code")
        assert key in snippet and f"{live_server.url}/api/script.js" in snippet
        await page.wait_for_selector("#first-pageview[data-state='waiting']")
        await shot("snippet-waiting")

        # 4. The snippet pasted into a test site's pages, opened by a visitor in another tab.
        pages = {"/": site_page(snippet, "Home"), "/pricing": site_page(snippet, "Pricing")}
        async with local_server(lambda path: (200, {"Content-Type": "text/html; charset=utf-8"},
                                              pages.get(path.split("?")[0], b"not found"))) as site:
            visitor = await context.new_page()
            await visitor.goto(site.url + "/")
            await visitor.goto(site.url + "/pricing")
            await visitor.goto(site.url + "/")
            await visitor.close()

            # 5. The waiting state turns green by itself once the worker has written the pageview.
            await page.wait_for_selector("#first-pageview[data-state='received']", timeout=30_000)
            await shot("first-pageview")

        # 6. The overview of that project shows the site's numbers.
        await page.click("a:has-text('Open the overview')")

        async def pageviews_shown():
            await page.wait_for_selector(".card[data-metric=pageviews] .card-value")
            return await page.get_attribute(".card[data-metric=pageviews] .card-value", "data-value") == "3"

        await poll(pageviews_shown, timeout=20)
        await page.wait_for_function("() => !document.querySelector('main').hasAttribute('aria-busy')")
        await shot("overview")

        # 7. A row filters the whole dashboard; the URL's filter is the REST API's.
        await page.click("table[data-table=pages] tr[data-name='/pricing'] button")
        await page.wait_for_selector(".chip[data-filter='path:is:/pricing']")
        await page.wait_for_function("() => document.querySelector('.card[data-metric=pageviews] .card-value')"
                                     "?.dataset.value === '1' && !document.querySelector('main')"
                                     ".hasAttribute('aria-busy')")
        assert "null" not in await page.text_content("#chips") if await page.locator("#chips").count() else True
        assert parse_qs(urlparse(page.url).query)["filter"] == ["path:is:/pricing"]
        await shot("filtered")

        # 8. GraphiQL, served from this machine, runs a query for the project.
        await page.goto(live_server.url + "/graphql", wait_until="networkidle")
        await page.wait_for_selector(".graphiql-execute-button")
        query = f'{{ project(id: "{project}") {{ name stats {{ current {{ pageviews visitors }} }} }} }}'
        body = await _run(page, query)
        assert body["data"]["project"]["name"] == "My site", body
        assert body["data"]["project"]["stats"]["current"]["pageviews"] == 3, body
        await shot("graphiql")

        assert elsewhere == [], elsewhere
        assert problems == [], problems
        assert await page.evaluate("window.__violations") == []
    finally:
        await context.close()


def test_the_step_screenshots_in_docs_are_listed_in_the_guide():
    """docs/first-steps.md shows every screenshot this test saves, and nothing it no longer saves."""
    root = Path(__file__).resolve().parents[2] / "docs"
    saved = sorted(p.name for p in (root / "screenshots" / "first-five-minutes").glob("*.png"))
    linked = re.findall(r"screenshots/first-five-minutes/([\w.-]+\.png)", (root / "first-steps.md").read_text())
    assert saved and sorted(linked) == saved, json.dumps({"saved": saved, "linked": linked})
