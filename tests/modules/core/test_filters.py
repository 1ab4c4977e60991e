"""Filters: computed from the raw tables, they agree with the rollups and narrow every report."""

from __future__ import annotations

import pytest

from pulse.query import rollups
from pulse.query.dates import DayRange
from pulse.query.raw import compute
from tests.helpers import gql
from tests.modules.core.dataset import D1, D2, RANGE, rest

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


FILTERED_DASHBOARD = """query($s: String, $e: String, $f: [FilterInput!]) { project {
  stats(startAt: $s, endAt: $e, filters: $f) { current { pageviews visitors sessions bounceRate avgDuration events } }
  timeseries(startAt: $s, endAt: $e, filters: $f) { pageviews visitors sessions }
  pages(startAt: $s, endAt: $e, filters: $f) { data { path views uniqueViews avgDuration } total }
  entryPages(startAt: $s, endAt: $e, filters: $f) { data { path entrances bounceRate } }
  exitPages(startAt: $s, endAt: $e, filters: $f) { data { path exits exitRate } }
  referrers(startAt: $s, endAt: $e, filters: $f) { data { source visitors pageviews } }
  channels(startAt: $s, endAt: $e, filters: $f) { data { name visitors percentage } }
  geo(startAt: $s, endAt: $e, filters: $f) { data { name visitors percentage } }
  devices(startAt: $s, endAt: $e, filters: $f) { browsers { name visitors } deviceTypes { name visitors } }
  events(startAt: $s, endAt: $e, filters: $f) { data { name count unique } }
} }"""


@pytest.mark.parametrize("expression", ["browser:is:Chrome", "path:is:/pricing", "source:is:(direct)"])
async def test_a_filtered_graphql_dashboard_computed_at_once_gives_each_rest_reports_numbers(dataset, expression):
    dimension, operator, value = expression.split(":", 2)
    variables = {"s": RANGE["start_at"], "e": RANGE["end_at"],
                 "f": [{"dimension": dimension, "operator": operator.upper(), "value": value}]}
    result = await gql(dataset["client"], FILTERED_DASHBOARD, variables, headers=dataset["query"])
    assert "errors" not in result, result
    project = result["data"]["project"]

    async def rest_of(path: str) -> dict:
        return await rest(dataset, path, filter=expression)

    stats = (await rest_of("/api/v1/stats"))["current"]
    assert project["stats"]["current"] == {"pageviews": stats["pageviews"], "visitors": stats["visitors"],
                                           "sessions": stats["sessions"], "bounceRate": stats["bounce_rate"],
                                           "avgDuration": stats["avg_duration"], "events": stats["events"]}
    series = (await rest_of("/api/v1/stats/timeseries"))["data"]
    assert project["timeseries"] == [{k: p[k] for k in ("pageviews", "visitors", "sessions")} for p in series]
    pages = await rest_of("/api/v1/pages")
    assert [list(p.values()) for p in project["pages"]["data"]] == [list(p.values()) for p in pages["data"]]
    entry = (await rest_of("/api/v1/pages/entry"))["data"]
    assert [list(p.values()) for p in project["entryPages"]["data"]] == [
        [p["path"], p["entrances"], p["bounce_rate"]] for p in entry]
    exits = (await rest_of("/api/v1/pages/exit"))["data"]
    assert [list(p.values()) for p in project["exitPages"]["data"]] == [list(p.values()) for p in exits]
    referrers = (await rest_of("/api/v1/referrers"))["data"]
    assert [list(s.values()) for s in project["referrers"]["data"]] == [list(s.values()) for s in referrers]
    channels = (await rest_of("/api/v1/channels"))["data"]
    assert [list(c.values()) for c in project["channels"]["data"]] == [list(c.values()) for c in channels]
    geo = (await rest_of("/api/v1/geo"))["data"]
    assert [list(g.values()) for g in project["geo"]["data"]] == [list(g.values()) for g in geo]
    devices = await rest_of("/api/v1/devices")
    assert [(b["name"], b["visitors"]) for b in project["devices"]["browsers"]] == [
        (b["name"], b["visitors"]) for b in devices["browsers"]]
    assert [(d["name"], d["visitors"]) for d in project["devices"]["deviceTypes"]] == [
        (d["name"], d["visitors"]) for d in devices["device_types"]]
    events = (await rest_of("/api/v1/events"))["data"]
    assert [list(e.values()) for e in project["events"]["data"]] == [list(e.values()) for e in events]
    assert project["stats"]["current"]["pageviews"] > 0  # the filter matches something
