"""The dashboard's first-five-minutes fixes, in headless Chromium against Pulse over real HTTP: no
stray "null" beside a filter chip, no zeros drawn for the hours still to come, the REST API's
`filter=` in the URL (old `f=` links rewritten), and changes against a near-empty previous period
shown without a misleading percentage."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

import httpx
import pytest_asyncio

from tests.browser import browser, live_server, poll  # noqa: F401
from tests.helpers import ADMIN, CHROME, create_key, key_header

NOW = datetime.now(UTC).replace(microsecond=0)
LOCAL_HOUR = 8  # the project's clock reads about 08:xx: hours behind it to fill, and hours still to come


def zone_at(hour: int) -> str:
    """A fixed-offset zone whose clock now reads `hour` o'clock (Etc/GMT-3 is UTC+3)."""
    offset = (hour - NOW.hour + 12) % 24 - 12
    return "Etc/UTC" if offset == 0 else f"Etc/GMT{-offset:+d}"


ZONE = zone_at(LOCAL_HOUR)


def ago(days: int = 0, minutes: int = 0) -> str:
    return (NOW - timedelta(days=days, minutes=minutes)).isoformat()


# One visitor in the previous 30 days (40 days ago, one pageview), thirteen in the last 30 days,
# three of them today (two and one hours ago, and just now), one of them with an event.
TRAFFIC = ([("old", {"path": "/", "timestamp": ago(40)})]
           + [(f"v{i}", {"path": "/pricing" if i % 2 else "/", "timestamp": ago(1 + i)}) for i in range(10)]
           + [("t1", {"path": "/", "timestamp": ago(minutes=120)}),
              ("t1", {"path": "/pricing", "timestamp": ago(minutes=118)}),
              ("t2", {"path": "/pricing", "timestamp": ago(minutes=60)}),
              ("t3", {"path": "/docs", "timestamp": ago(minutes=1)}),
              ("t3", {"type": "event", "name": "signup", "timestamp": ago(minutes=1)})])
PAGEVIEWS = sum(1 for _, body in TRAFFIC if "type" not in body)


@pytest_asyncio.fixture(scope="module")
async def site(live_server):  # noqa: F811
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as client:
        response = await client.post("/api/admin/projects", headers=ADMIN,
                                     json={"name": "Fixes", "domain": "fixes.test", "timezone": ZONE})
        assert response.status_code == 201, response.text
        project = response.json()
        keys = {scope: (await create_key(client, project["id"], scope))["key"] for scope in ("query", "ingest")}
        for visitor, body in TRAFFIC:
            response = await client.post("/api/collect", json={"type": "pageview", "visitor_id": visitor, **body},
                                         headers={**key_header(keys["ingest"]), "User-Agent": CHROME})
            assert response.status_code == 200, response.text

        async def written():
            today = datetime.now(ZoneInfo(ZONE)).date()
            stats = await client.get("/api/v1/stats", headers=key_header(keys["query"]), params={
                "start_at": (today - timedelta(days=60)).isoformat(), "end_at": today.isoformat()})
            return stats.json()["current"]["pageviews"] == PAGEVIEWS

        await poll(written, timeout=30)
        yield {"url": live_server.url, "project": project, "client": client, **keys}


async def settled(page) -> None:
    await page.wait_for_function(
        "() => !document.querySelector('main').hasAttribute('aria-busy') && document.querySelector('.card-value')")


async def open_dashboard(browser, site, query: str = ""):  # noqa: F811
    """Log in from a link (the login page keeps its query), as someone opening a shared view."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await page.goto(site["url"] + "/dashboard" + query)
    await page.fill("#key", site["query"])
    await page.click("button[type=submit]")
    await settled(page)
    return context, page


async def test_a_filter_chip_shows_no_null(browser, site):  # noqa: F811
    context, page = await open_dashboard(browser, site)
    await page.click("table[data-table=pages] tr[data-name='/pricing'] button")
    chip = page.locator(".chip[data-filter='path:is:/pricing']")
    await chip.wait_for()
    await settled(page)
    assert re.fullmatch(r"Page is\s*/pricing\s*×", (await chip.text_content()).strip())
    chips = await page.text_content(".chips")
    assert "null" not in chips and "undefined" not in chips
    # Two filters bring a "Clear all" button; one brings nothing else.
    await page.click("table[data-table=referrers] tbody tr button")
    await page.wait_for_selector(".chips button.quiet")
    assert "null" not in await page.text_content(".chips")
    assert await page.locator(".chips > *").count() == 3
    await context.close()


async def test_the_today_chart_draws_nothing_for_the_hours_to_come(browser, site):  # noqa: F811
    context, page = await open_dashboard(browser, site, "?range=today")
    local = datetime.now(ZoneInfo(ZONE))
    series = await site["client"].get("/api/v1/stats/timeseries", headers=key_header(site["query"]), params={
        "start_at": local.date().isoformat(), "end_at": local.date().isoformat(), "interval": "hour"})
    hours = series.json()["data"]
    assert len(hours) == 24 and hours[-1]["visitors"] == 0  # the API answers the hours to come, as zeros

    # The chart's own legend shows the value under the cursor: nothing where the series has no point.
    box = await page.locator(".chart .u-over").bounding_box()
    shown = []
    for hour in range(24):
        await page.mouse.move(box["x"] + min(box["width"] - 1, box["width"] * hour / 23), box["y"] + box["height"] / 2)
        shown.append((await page.text_content(".chart .u-legend .u-series:nth-child(2) .u-value")).strip())
    later = datetime.now(ZoneInfo(ZONE))
    assert local.date() == later.date(), "the project's day turned during the test"
    for hour, value in enumerate(shown):
        if hour <= local.hour:  # this hour and those before it: drawn, zero or not
            assert value == str(hours[hour]["visitors"]), (hour, shown)
        elif hour > later.hour:  # hours still to come: nothing, not zero
            assert value == "", (hour, shown)
    assert any(v not in ("0", "") for v in shown) and "" in shown
    await context.close()


async def test_the_url_carries_the_rest_apis_filter_parameter(browser, site):  # noqa: F811
    context, page = await open_dashboard(browser, site, "?range=7d")
    await page.click("table[data-table=pages] tr[data-name='/pricing'] button")
    await page.wait_for_selector(".chip[data-filter='path:is:/pricing']")
    await settled(page)
    query = parse_qs(urlparse(page.url).query)
    assert query == {"range": ["7d"], "filter": ["path:is:/pricing"]}

    # The URL's filters, pasted onto a REST call, give the numbers the page shows.
    label = page.locator(".range-label")
    span = f"start_at={await label.get_attribute('data-start')}&end_at={await label.get_attribute('data-end')}"
    pasted = urlparse(page.url).query.removeprefix("range=7d&")  # `range` is the dashboard's own
    stats = await site["client"].get(f"/api/v1/stats?{span}&{pasted}", headers=key_header(site["query"]))
    assert stats.status_code == 200, stats.text
    shown = await page.get_attribute(".card[data-metric=pageviews] .card-value", "data-value")
    assert float(shown) == stats.json()["current"]["pageviews"] > 0

    # Several filters: the parameter repeated, as the API takes them.
    await page.click("table[data-table=referrers] tbody tr button")
    await page.wait_for_function("() => document.querySelectorAll('.chip').length === 2")
    assert len(parse_qs(urlparse(page.url).query)["filter"]) == 2
    await context.close()


async def test_an_old_f_link_still_filters_and_is_rewritten(browser, site):  # noqa: F811
    context, page = await open_dashboard(browser, site, "?range=7d&f=path:is:/pricing")
    await page.wait_for_selector(".chip[data-filter='path:is:/pricing']")
    assert parse_qs(urlparse(page.url).query) == {"range": ["7d"], "filter": ["path:is:/pricing"]}
    # In place: opening an old link adds one history entry, not two, so Back leaves the view.
    before = await page.evaluate("() => history.length")
    await page.goto(site["url"] + "/dashboard?f=path:is:/docs&f=source:is:(direct)")
    await page.wait_for_selector(".chip[data-filter='source:is:(direct)']")
    await settled(page)
    assert await page.evaluate("() => history.length") == before + 1
    assert parse_qs(urlparse(page.url).query) == {"filter": ["path:is:/docs", "source:is:(direct)"]}
    assert await page.locator(".chip").count() == 2
    await context.close()


async def test_changes_against_a_near_empty_previous_period(browser, site):  # noqa: F811
    context, page = await open_dashboard(browser, site)  # the last 30 days against the 30 before

    async def delta(metric: str) -> tuple[str, str | None]:
        el = page.locator(f".card[data-metric={metric}] .delta")
        return (await el.text_content()).strip(), await el.get_attribute("title")

    # 13 visitors against 1: no "↑ 1200%".
    text, title = await delta("visitors")
    assert text == "↑ >999%" and title == "Previous period: 1"
    # No events in the previous period: "new", no percentage.
    assert await delta("events") == ("new", "Nothing in the previous period")
    # A rate changes in percentage points (100% bounce rate before, one session).
    text, _ = await delta("bounceRate")
    assert re.fullmatch(r"↓ \d+\.\d pp", text), text

    # Nothing in either period: a dash.
    await page.goto(site["url"] + "/dashboard?filter=path:is:/nowhere")
    await settled(page)
    for metric in ("visitors", "pageviews", "sessions", "bounceRate", "avgDuration", "events"):
        assert (await delta(metric))[0] == "—", metric
    await context.close()
