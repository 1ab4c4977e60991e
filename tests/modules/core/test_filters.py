"""Filters: computed from the raw tables, they agree with the rollups and narrow every report."""

from __future__ import annotations

import pytest

from pulse.query import rollups
from pulse.query.dates import DayRange
from pulse.query.raw import compute
from tests.conftest import gql
from tests.modules.core.conftest import D1, D2, RANGE, rest

DIMENSIONS = ["", "path", "hostname", "source", "channel", "utm_source", "country", "browser", "os", "device",
              "entry_path", "exit_path", "event"]


def summary(rows: list) -> dict:
    totals = rollups.by_value(rows)
    return {value: (t.pageviews, t.sessions, t.bounces, t.duration, t.events, t.time_on_page,
                    t.time_on_page_views, t.visitors) for value, t in totals.items()}


@pytest.mark.parametrize("dimension", DIMENSIONS)
async def test_without_filters_the_raw_rows_equal_the_rollups(dataset, dimension):
    app = dataset["client"]._transport.app
    runtime = app.state.runtime
    project = (await runtime.access.load_projects([__import__("uuid").UUID(dataset["project"]["id"])]))[0]
    days = DayRange(D1.date(), D2.date())
    async with runtime.read_session() as session:
        from_rollups = (await rollups.load(session, project.project_id, [(dimension, days.first, days.last)]))[0]
        from_raw = await compute(session, project, [], dimension, days)
    assert summary(from_raw) == summary(from_rollups)


async def test_a_session_filter_narrows_every_number(dataset):
    body = await rest(dataset, "/api/v1/stats", filter="browser:is:Safari")
    assert body["current"] == {"pageviews": 1, "visitors": 1, "sessions": 1, "bounce_rate": 100.0,
                               "avg_duration": 0.0, "events": 0}
    pages = await rest(dataset, "/api/v1/pages", filter="source:is:google.com")
    assert pages == {"data": [{"path": "/", "views": 1, "unique_views": 1, "avg_duration": 120.0},
                              {"path": "/pricing", "views": 1, "unique_views": 1, "avg_duration": 0.0}], "total": 2}


async def test_a_page_filter_keeps_matching_pageviews_and_their_sessions(dataset):
    body = await rest(dataset, "/api/v1/stats", filter="path:is:/pricing")
    assert body["current"] == {"pageviews": 2, "visitors": 2, "sessions": 2, "bounce_rate": 50.0,
                               "avg_duration": 120.0, "events": 2}
    sources = await rest(dataset, "/api/v1/referrers", filter="path:is:/pricing")
    assert sources["data"] == [{"source": "google.com", "visitors": 1, "pageviews": 1},
                               {"source": "twitter.com", "visitors": 1, "pageviews": 1}]


@pytest.mark.parametrize(("expression", "pageviews"), [
    ("path:is_not:/pricing", 3),
    ("path:contains:PRIC", 2),
    ("path:matches:^/(docs|pricing)$", 3),
    ("source:is:(direct)", 2),
    ("country:is:US", 5),
    ("event:is:signup", 2),
    ("channel:is:Organic Social", 1),
])
async def test_operators_and_dimensions(dataset, expression, pageviews):
    body = await rest(dataset, "/api/v1/stats", filter=expression)
    assert body["current"]["pageviews"] == pageviews


async def test_filters_combine(dataset):
    response = await dataset["client"].get("/api/v1/stats", headers=dataset["query"], params=[
        ("start_at", RANGE["start_at"]), ("end_at", RANGE["end_at"]),
        ("filter", "browser:is:Chrome"), ("filter", "path:is:/")])
    assert response.json()["current"]["pageviews"] == 1


@pytest.mark.parametrize(("expression", "message"), [
    ("path=/x", "Invalid filter 'path=/x': expected dimension:operator:value"),
    ("planet:is:mars", "Invalid filter: unknown dimension 'planet'"),
    ("path:like:/x", "Invalid filter: unknown operator 'like'"),
    ("path:matches:([", "Invalid filter: '([' is not a valid regular expression"),
])
async def test_bad_filters_are_400(dataset, expression, message):
    response = await dataset["client"].get("/api/v1/pages", params={"filter": expression}, headers=dataset["query"])
    assert response.status_code == 400 and response.json()["error"].startswith(message)


async def test_graphql_filters_give_the_rest_numbers(dataset):
    query = """query($s: String, $e: String) { project {
      stats(startAt: $s, endAt: $e, filters: [{dimension: "path", operator: IS, value: "/pricing"}]) {
        current { pageviews visitors sessions bounceRate } }
      pages(startAt: $s, endAt: $e, filters: [{dimension: "browser", value: "Chrome"}]) { data { path views } }
    } }"""
    result = await gql(dataset["client"], query, {"s": RANGE["start_at"], "e": RANGE["end_at"]},
                       headers=dataset["query"])
    assert "errors" not in result, result
    project = result["data"]["project"]
    assert project["stats"]["current"] == {"pageviews": 2, "visitors": 2, "sessions": 2, "bounceRate": 50.0}
    rest_pages = await rest(dataset, "/api/v1/pages", filter="browser:is:Chrome")
    assert [(p["path"], p["views"]) for p in project["pages"]["data"]] == [
        (p["path"], p["views"]) for p in rest_pages["data"]]


async def test_hourly_series_from_the_raw_rows(dataset):
    body = await rest(dataset, "/api/v1/stats/timeseries", interval="hour")
    points = {p["date"]: p for p in body["data"]}
    assert len(points) == 48
    assert points[f"{D1.date().isoformat()}T10:00"] == {"date": f"{D1.date().isoformat()}T10:00", "pageviews": 2,
                                                        "visitors": 1, "sessions": 1}
    assert sum(p["pageviews"] for p in body["data"]) == 5
    filtered = await rest(dataset, "/api/v1/stats/timeseries", interval="hour", filter="browser:is:Safari")
    assert sum(p["pageviews"] for p in filtered["data"]) == 1
    too_long = await dataset["client"].get("/api/v1/stats/timeseries", headers=dataset["query"], params={
        "interval": "hour", "start_at": "2026-01-01", "end_at": "2026-03-01"})
    assert too_long.status_code == 400
