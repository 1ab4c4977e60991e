"""Core reports on a small known dataset: exact numbers, REST and GraphQL alike."""

from __future__ import annotations

import pytest

from tests.helpers import ADMIN, create_key, gql, gql_error, key_header, sql_statements
from tests.modules.core.dataset import D1, D2, RANGE, rest


async def test_stats_with_the_previous_period(dataset):
    body = await rest(dataset, "/api/v1/stats")
    assert body == {
        "current": {"pageviews": 5, "visitors": 3, "sessions": 4, "bounce_rate": 75.0, "avg_duration": 60.0,
                    "events": 2},
        "previous": {"pageviews": 0, "visitors": 0, "sessions": 0, "bounce_rate": 0.0, "avg_duration": 0.0,
                     "events": 0},
    }


async def test_timeseries(dataset):
    body = await rest(dataset, "/api/v1/stats/timeseries")
    assert body == {"data": [
        {"date": D1.date().isoformat(), "pageviews": 3, "visitors": 2, "sessions": 2},
        {"date": D2.date().isoformat(), "pageviews": 2, "visitors": 2, "sessions": 2},
    ]}
    weekly = await rest(dataset, "/api/v1/stats/timeseries", interval="month")
    assert sum(p["pageviews"] for p in weekly["data"]) == 5
    assert (await dataset["client"].get("/api/v1/stats/timeseries", params={"interval": "year"},
                                        headers=dataset["query"])).status_code == 400


async def test_pages(dataset):
    body = await rest(dataset, "/api/v1/pages")
    assert body == {"data": [
        {"path": "/", "views": 2, "unique_views": 2, "avg_duration": 120.0},
        {"path": "/pricing", "views": 2, "unique_views": 2, "avg_duration": 0.0},
        {"path": "/docs", "views": 1, "unique_views": 1, "avg_duration": 0.0},
    ], "total": 3}
    paged = await rest(dataset, "/api/v1/pages", limit=1, offset=1)
    assert paged == {"data": [{"path": "/pricing", "views": 2, "unique_views": 2, "avg_duration": 0.0}], "total": 3}


PAGE = """query($s: String, $e: String, $after: String) { project {
  pages(startAt: $s, endAt: $e, first: 2, after: $after) { data { path } total pageInfo { endCursor hasNextPage } }
} }"""


async def test_graphql_lists_page_with_cursors(dataset):
    seen, after = [], None
    while True:
        result = await gql(dataset["client"], PAGE, {"s": RANGE["start_at"], "e": RANGE["end_at"], "after": after},
                           headers=dataset["query"])
        pages = result["data"]["project"]["pages"]
        assert pages["total"] == 3
        seen += [p["path"] for p in pages["data"]]
        after = pages["pageInfo"]["endCursor"]
        if not pages["pageInfo"]["hasNextPage"]:
            break
    assert seen == [p["path"] for p in (await rest(dataset, "/api/v1/pages"))["data"]] == ["/", "/pricing", "/docs"]
    past_the_end = await gql(dataset["client"], PAGE, {"s": RANGE["start_at"], "e": RANGE["end_at"], "after": after},
                             headers=dataset["query"])
    assert past_the_end["data"]["project"]["pages"]["pageInfo"] == {"endCursor": None, "hasNextPage": False}
    for bad in ("nonsense", "cG9zOi0x"):  # not base64 of a position; "pos:-1"
        result = await gql(dataset["client"], PAGE, {"after": bad}, headers=dataset["query"])
        assert gql_error(result) == ("Invalid parameter: 'after' must be a cursor this list returned.",
                                     "BAD_REQUEST")


async def test_entry_and_exit_pages(dataset):
    entry = await rest(dataset, "/api/v1/pages/entry")
    assert entry == {"data": [
        {"path": "/", "entrances": 2, "bounce_rate": 50.0, "avg_duration": 90.0},
        {"path": "/docs", "entrances": 1, "bounce_rate": 100.0, "avg_duration": 0.0},
        {"path": "/pricing", "entrances": 1, "bounce_rate": 100.0, "avg_duration": 60.0},
    ], "total": 3}
    exits = await rest(dataset, "/api/v1/pages/exit", limit=2)
    assert exits == {"data": [
        {"path": "/pricing", "exits": 2, "exit_rate": 100.0},
        {"path": "/", "exits": 1, "exit_rate": 50.0},
    ], "total": 3}
    from_google = await rest(dataset, "/api/v1/pages/entry", filter="source:is:google.com")
    assert from_google["data"] == [{"path": "/", "entrances": 1, "bounce_rate": 0.0, "avg_duration": 180.0}]


async def test_channels(dataset):
    body = await rest(dataset, "/api/v1/channels")
    assert body == {"data": [
        {"channel": "Direct", "visitors": 2, "percentage": 66.67},
        {"channel": "Organic Search", "visitors": 1, "percentage": 33.33},
        {"channel": "Organic Social", "visitors": 1, "percentage": 33.33},
    ], "total": 3}


async def test_referrers(dataset):
    body = await rest(dataset, "/api/v1/referrers")
    assert body["data"] == [
        {"source": "(direct)", "visitors": 2, "pageviews": 2},
        {"source": "google.com", "visitors": 1, "pageviews": 2},
        {"source": "twitter.com", "visitors": 1, "pageviews": 1},
    ]


async def test_events(dataset):
    body = await rest(dataset, "/api/v1/events")
    assert body["data"] == [{"name": "purchase", "count": 1, "unique": 1}, {"name": "signup", "count": 1, "unique": 1}]


async def test_devices_and_geo(dataset):
    devices = await rest(dataset, "/api/v1/devices")
    assert devices == {
        "browsers": [{"name": "Chrome", "visitors": 2, "percentage": 66.67}, {"name": "Safari", "visitors": 1,
                                                                               "percentage": 33.33}],
        "operating_systems": [{"name": "Windows", "visitors": 2, "percentage": 66.67},
                              {"name": "iOS", "visitors": 1, "percentage": 33.33}],
        "device_types": [{"name": "Desktop", "visitors": 2, "percentage": 66.67},
                         {"name": "Mobile", "visitors": 1, "percentage": 33.33}],
    }
    geo = await rest(dataset, "/api/v1/geo")
    assert geo["data"] == [{"country": "US", "visitors": 3, "percentage": 100.0}]


async def test_realtime(dataset):
    response = await dataset["client"].get("/api/v1/realtime", headers=dataset["query"])
    assert response.json() == {"active_visitors": 1}


async def test_ranges_are_validated(dataset):
    bad = await dataset["client"].get("/api/v1/stats", params={"start_at": "yesterday"}, headers=dataset["query"])
    assert bad.status_code == 400 and "start_at" in bad.json()["error"]
    backwards = await dataset["client"].get("/api/v1/stats", params={"start_at": "2026-03-02", "end_at": "2026-03-01"},
                                            headers=dataset["query"])
    assert backwards.status_code == 400


async def test_reports_need_a_query_key(dataset, client):
    ingest_only = await create_key(dataset["client"], dataset["project"]["id"], "ingest")
    refused = await dataset["client"].get("/api/v1/stats", headers=key_header(ingest_only["key"]))
    assert refused.status_code == 403
    assert (await dataset["client"].get("/api/v1/stats")).status_code == 401


DASHBOARD = """query($s: String, $e: String) { project {
  stats(startAt: $s, endAt: $e) { current { pageviews visitors sessions bounceRate avgDuration events }
                                  previous { pageviews visitors } }
  timeseries(startAt: $s, endAt: $e) { date pageviews visitors sessions }
  pages(startAt: $s, endAt: $e) { data { path views uniqueViews avgDuration } total }
  referrers(startAt: $s, endAt: $e) { data { source visitors pageviews } total }
  events(startAt: $s, endAt: $e) { data { name count unique } }
  devices(startAt: $s, endAt: $e) { browsers { name visitors percentage } deviceTypes { name visitors } }
  geo(startAt: $s, endAt: $e) { data { name visitors percentage } }
  realtime { activeVisitors }
  entryPages(startAt: $s, endAt: $e) { data { path entrances bounceRate avgDuration } total }
  exitPages(startAt: $s, endAt: $e) { data { path exits exitRate } total }
  channels(startAt: $s, endAt: $e) { data { name visitors percentage } total }
} }"""


async def test_a_dashboard_is_one_graphql_request_with_the_rest_numbers(dataset):
    result = await gql(dataset["client"], DASHBOARD, {"s": RANGE["start_at"], "e": RANGE["end_at"]},
                       headers=dataset["query"])
    assert "errors" not in result, result
    project = result["data"]["project"]
    stats = (await rest(dataset, "/api/v1/stats"))["current"]
    assert project["stats"]["current"] == {"pageviews": stats["pageviews"], "visitors": stats["visitors"],
                                           "sessions": stats["sessions"], "bounceRate": stats["bounce_rate"],
                                           "avgDuration": stats["avg_duration"], "events": stats["events"]}
    pages = await rest(dataset, "/api/v1/pages")
    assert project["pages"]["total"] == pages["total"]
    assert [(p["path"], p["views"], p["uniqueViews"]) for p in project["pages"]["data"]] == [
        (p["path"], p["views"], p["unique_views"]) for p in pages["data"]]
    referrers = await rest(dataset, "/api/v1/referrers")
    assert [(s["source"], s["visitors"]) for s in project["referrers"]["data"]] == [
        (s["source"], s["visitors"]) for s in referrers["data"]]
    assert project["geo"]["data"] == [{"name": "US", "visitors": 3, "percentage": 100.0}]
    assert project["realtime"] == {"activeVisitors": 1}
    assert [p["pageviews"] for p in project["timeseries"]] == [3, 2]
    entry = await rest(dataset, "/api/v1/pages/entry")
    assert [(p["path"], p["entrances"], p["bounceRate"]) for p in project["entryPages"]["data"]] == [
        (p["path"], p["entrances"], p["bounce_rate"]) for p in entry["data"]]
    exits = await rest(dataset, "/api/v1/pages/exit")
    assert [(p["path"], p["exits"], p["exitRate"]) for p in project["exitPages"]["data"]] == [
        (p["path"], p["exits"], p["exit_rate"]) for p in exits["data"]]
    channels = await rest(dataset, "/api/v1/channels")
    assert [(c["name"], c["visitors"]) for c in project["channels"]["data"]] == [
        (c["channel"], c["visitors"]) for c in channels["data"]]


async def test_the_dashboard_request_costs_a_fixed_number_of_statements(dataset):
    variables = {"s": RANGE["start_at"], "e": RANGE["end_at"]}
    await gql(dataset["client"], DASHBOARD, variables, headers=dataset["query"])  # the key is now cached
    async with sql_statements(dataset["client"]._transport.app) as statements:
        result = await gql(dataset["client"], DASHBOARD, variables, headers=dataset["query"])
    assert "errors" not in result
    # The project row, every report's rollups in one query, and the realtime count.
    assert len(statements) == 3, statements


@pytest.mark.parametrize("path", ["/api/v1/stats", "/api/v1/pages", "/api/v1/referrers", "/api/v1/devices",
                                  "/api/v1/geo", "/api/v1/events", "/api/v1/stats/timeseries"])
async def test_another_projects_key_sees_nothing_of_this_one(dataset, path):
    other = (await dataset["client"].post("/api/admin/projects", json={"name": "O", "domain": "o.test"},
                                          headers=ADMIN)).json()
    other_key = key_header((await create_key(dataset["client"], other["id"], "query"))["key"])
    response = await dataset["client"].get(path, params=RANGE, headers=other_key)
    body = response.json()
    flattened = str(body)
    assert "/pricing" not in flattened and "google.com" not in flattened and "US" not in flattened
    named = await dataset["client"].get(path, params={**RANGE, "project_id": dataset["project"]["id"]},
                                        headers=other_key)
    assert named.status_code == 404
