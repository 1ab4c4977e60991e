"""The overview's segment picker (module `segments`) in headless Chromium against Pulse over real HTTP:
beside the filters it lists the project's active saved segments; choosing one re-runs the overview's one
request with the segment as the filter `segment:is:<id>` on every report (the URL keeps it, a chip shows
it by name), "All visitors" removes it; without the module there is no picker."""

from __future__ import annotations

import os
import re
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
import pytest_asyncio
from asgi_lifespan import LifespanManager

from pulse.app import create_app
from tests.browser import LiveServer, browser, poll  # noqa: F401
from tests.helpers import ADMIN, CHROME, create_key, create_project, drain, key_header, make_app

DE, US = "81.169.145.105", "8.8.8.8"
DAY = (datetime.now(UTC) - timedelta(days=3)).replace(hour=10, minute=0, second=0, microsecond=0)
GERMANS = {"match": "all", "conditions": [{"source": "session", "field": "country", "op": "eq", "value": "DE"}]}
# Two visitors three days ago: "de" from Germany (two pages), "us" from the United States (one).
TRAFFIC = [(DE, "de", ["/", "/about"]), (US, "us", ["/"])]
SCREENSHOTS = os.environ.get("PULSE_SCREENSHOTS")  # a directory: save a screenshot of each step there


@pytest.fixture(scope="module")
def live(settings):
    """Pulse over HTTP without its worker: the test writes the ingest stream itself (`drain`)."""
    with LiveServer(create_app(settings, run_worker=False)) as server:
        yield server


@pytest_asyncio.fixture(scope="module")
async def writer(settings):
    """An app in the test's own event loop, on the same database and Redis: it takes the collect
    calls (each from its visitor's address) and writes them, as the worker would."""
    application = make_app(settings)
    async with LifespanManager(application):
        yield application


@asynccontextmanager
async def from_address(app, address: str):
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://pulse.test") as c:
        yield c


async def new_project(client: httpx.AsyncClient, name: str, segments: bool) -> dict:
    project = await create_project(client, name, f"{name.lower()}.test")
    action = "enable" if segments else "disable"
    response = await client.post(f"/api/admin/projects/{project['id']}/modules/segments/{action}", headers=ADMIN)
    assert response.status_code == 200, response.text
    return {"project": project, "query": (await create_key(client, project["id"], "query"))["key"],
            "ingest": (await create_key(client, project["id"], "ingest"))["key"]}


@pytest_asyncio.fixture(scope="module")
async def site(live, writer):
    async with httpx.AsyncClient(base_url=live.url, timeout=30) as client:
        made = await new_project(client, "Picker", segments=True)
        for address, visitor, paths in TRAFFIC:
            async with from_address(writer, address) as sender:
                for n, path in enumerate(paths):
                    body = {"type": "pageview", "visitor_id": visitor, "path": path,
                            "timestamp": (DAY + timedelta(minutes=n)).isoformat()}
                    response = await sender.post("/api/collect", json=body,
                                                 headers={**key_header(made["ingest"]), "User-Agent": CHROME})
                    assert response.status_code == 200 and "dropped" not in response.json(), response.text
        await drain(writer)

        async def written():
            response = await client.get("/api/v1/stats", headers=key_header(made["query"]))
            return response.json()["current"]["visitors"] == 2

        await poll(written, timeout=15)
        segments = {}
        for name, active in (("Germans", True), ("Retired", False)):
            response = await client.post("/api/v1/segments", headers=key_header(made["query"]),
                                         json={"name": name, "definition": GERMANS, "is_active": active})
            assert response.status_code == 201, response.text
            segments[name] = response.json()["id"]
        yield {"url": live.url, "client": client, "segments": segments, **made}


async def log_in(browser, site, key: str):  # noqa: F811
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    problems = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    await page.goto(site["url"] + "/dashboard")
    await page.fill("#key", key)
    await page.click("button[type=submit]")
    await settled(page)
    return context, page, problems


async def snap(page, name: str) -> None:
    if SCREENSHOTS:
        await page.screenshot(path=os.path.join(SCREENSHOTS, f"segment-picker-{name}.png"), full_page=True)


async def settled(page) -> None:
    await page.wait_for_function(
        "() => !document.querySelector('main').hasAttribute('aria-busy') && document.querySelector('.card-value')")


async def visitors(page, n: int) -> None:
    """The visitors card says `n`, and the request that drew it has finished."""
    await page.wait_for_selector(f".card[data-metric=visitors] .card-value[data-value='{n}']")
    await settled(page)


async def countries(page) -> list[list[str]]:
    return await page.eval_on_selector_all("table[data-table=geo] tbody tr", """(rows) => rows.map(
        (r) => [r.dataset.name, r.querySelector('.row-name').textContent])""")


def filters_of(page) -> list[str]:
    return parse_qs(urlparse(page.url).query).get("filter", [])


async def test_choosing_a_segment_filters_every_report_and_all_visitors_removes_it(browser, site):  # noqa: F811
    germans = site["segments"]["Germans"]
    context, page, problems = await log_in(browser, site, site["query"])
    posts = []
    page.on("request", lambda r: posts.append(r) if r.method == "POST" and r.url.endswith("/graphql") else None)
    await visitors(page, 2)
    assert sorted(await countries(page)) == [["DE", "Germany"], ["US", "United States"]]

    # The picker sits with the filters: everyone first, then the active segments (not "Retired").
    picker = page.get_by_label("Segment", exact=True)
    assert await picker.evaluate("(el) => el.closest('.filters') !== null")
    options = await page.eval_on_selector_all("#segment option", "(os) => os.map((o) => [o.value, o.textContent])")
    assert options == [["", "All visitors"], [germans, "Germans"]]
    assert await picker.input_value() == ""

    # Choosing "Germans": one request, every report of it filtered to the segment's visitor.
    await picker.select_option(label="Germans")
    await visitors(page, 1)
    assert len(posts) == 1
    assert filters_of(page) == [f"segment:is:{germans}"]
    assert await countries(page) == [["DE", "Germany"]]
    assert await page.get_attribute(".card[data-metric=pageviews] .card-value", "data-value") == "2"
    pages = await page.eval_on_selector_all("table[data-table=pages] tbody tr",
                                            "(rows) => rows.map((r) => r.dataset.name)")
    assert sorted(pages) == ["/", "/about"]
    chip = page.locator(f".chip[data-filter='segment:is:{germans}']")
    assert re.fullmatch(r"Segment is\s*Germans\s*×", (await chip.text_content()).strip())
    assert await chip.get_attribute("aria-label") == "Remove filter: Segment is Germans"
    await snap(page, "chosen")
    # The CSV links carry it as the REST API takes it.
    assert f"filter=segment%3Ais%3A{germans}" in await page.get_attribute("[data-panel=countries] a.export", "href")

    # A reload keeps it: the URL is the view.
    await page.reload()
    await visitors(page, 1)
    assert await page.input_value("#segment") == germans
    assert await countries(page) == [["DE", "Germany"]]
    await chip.wait_for()

    # "All visitors" removes it, and only it: a row filter stays.
    await page.click("table[data-table=pages] tr[data-name='/'] button")
    await page.wait_for_selector(".chip[data-filter='path:is:/']")
    await settled(page)
    # The row's click puts the keyboard on the first chip; the response, naming the segment, keeps it there.
    assert await page.evaluate("() => document.activeElement.dataset.filter") == f"segment:is:{germans}"
    await page.select_option("#segment", "")
    await visitors(page, 2)
    assert filters_of(page) == ["path:is:/"]
    assert sorted(await countries(page)) == [["DE", "Germany"], ["US", "United States"]]
    assert await chip.count() == 0
    await page.click(".chip[data-filter='path:is:/']")
    await page.wait_for_function("() => !document.querySelector('.chip')")
    await visitors(page, 2)

    # The segment's chip removes it as any filter's does, and the picker follows.
    await page.select_option("#segment", germans)
    await visitors(page, 1)
    await chip.click()
    await visitors(page, 2)
    assert filters_of(page) == [] and await page.input_value("#segment") == ""
    assert problems == []
    await context.close()


async def test_without_the_segments_module_there_is_no_picker(browser, site):  # noqa: F811
    other = await new_project(site["client"], "Plain", segments=False)
    context, page, problems = await log_in(browser, site, other["query"])
    assert await page.locator(".filters").count() == 1 and await page.is_hidden(".filters")
    assert await page.locator("#segment").count() == 0
    assert await page.locator("#tabs a:text-is('Segments')").count() == 0
    # The project with the module has it.
    await context.close()
    context, page, problems2 = await log_in(browser, site, site["query"])
    assert await page.is_visible("#segment")
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.select_option("#segment", site["segments"]["Germans"])
    await visitors(page, 1)
    await snap(page, "phone")
    assert problems == problems2 == []
    await context.close()
