"""Reports count the project's own days: a pageview at 23:00 in Tokyo is on that Tokyo day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest_asyncio

from tests.helpers import ADMIN, CHROME, create_key, drain, gql, key_header

# Tokyo is UTC+9 all year: 14:30 UTC is 23:30 the same day there, 15:30 UTC is 00:30 the next.
DAY = (datetime.now(UTC) - timedelta(days=5)).replace(hour=0, minute=0, second=0, microsecond=0)
NEXT = DAY + timedelta(days=1)
TIMES = [DAY + timedelta(hours=14, minutes=30), DAY + timedelta(hours=15, minutes=30),
         DAY + timedelta(hours=16)]


@pytest_asyncio.fixture(scope="module")
async def tokyo(client, app):
    response = await client.post("/api/admin/projects", headers=ADMIN,
                                 json={"name": "Tokyo", "domain": "tokyo.test", "timezone": "Asia/Tokyo"})
    project = response.json()
    ingest = key_header((await create_key(client, project["id"], "ingest"))["key"])
    for visitor, (ts, path) in enumerate(zip(TIMES, ["/late", "/early", "/early"], strict=True)):
        body = {"type": "pageview", "visitor_id": f"v{visitor}", "path": path, "timestamp": ts.isoformat()}
        assert (await client.post("/api/collect", json=body, headers={**ingest, "User-Agent": CHROME})).is_success
    await drain(app)
    return key_header((await create_key(client, project["id"], "query"))["key"])


async def get(client, key, path: str, **params) -> dict:
    response = await client.get(path, params=params, headers=key)
    assert response.status_code == 200, response.text
    return response.json()


async def test_days_are_the_projects_days(client, tokyo):
    first, second = DAY.date().isoformat(), NEXT.date().isoformat()
    on_first = await get(client, tokyo, "/api/v1/stats", start_at=first, end_at=first)
    assert on_first["current"]["pageviews"] == 1
    series = await get(client, tokyo, "/api/v1/stats/timeseries", start_at=first, end_at=second)
    assert [(p["date"], p["pageviews"]) for p in series["data"]] == [(first, 1), (second, 2)]
    pages = await get(client, tokyo, "/api/v1/pages", start_at=second, end_at=second)
    assert [p["path"] for p in pages["data"]] == ["/early"]


async def test_a_datetime_bound_falls_on_its_local_day(client, tokyo):
    # 15:00 UTC is already the next day in Tokyo: the range is that day alone.
    start = (DAY + timedelta(hours=15)).isoformat()
    body = await get(client, tokyo, "/api/v1/stats", start_at=start, end_at=start)
    assert body["current"]["pageviews"] == 2


async def test_hours_are_local_hours(client, tokyo):
    second = NEXT.date().isoformat()
    series = await get(client, tokyo, "/api/v1/stats/timeseries", start_at=second, end_at=second, interval="hour")
    busy = {p["date"]: p["pageviews"] for p in series["data"] if p["pageviews"]}
    assert busy == {f"{second}T00:00": 1, f"{second}T01:00": 1}


async def test_filtered_reports_use_the_same_days(client, tokyo):
    first, second = DAY.date().isoformat(), NEXT.date().isoformat()
    series = await get(client, tokyo, "/api/v1/stats/timeseries", start_at=first, end_at=second,
                       filter="path:contains:e")
    assert [(p["date"], p["pageviews"]) for p in series["data"]] == [(first, 1), (second, 2)]


async def test_graphql_agrees(client, tokyo):
    first = DAY.date().isoformat()
    result = await gql(client, "query($d: String) { project { timezone stats(startAt: $d, endAt: $d) "
                               "{ current { pageviews } } } }", {"d": first}, headers=tokyo)
    assert result["data"]["project"] == {"timezone": "Asia/Tokyo", "stats": {"current": {"pageviews": 1}}}
