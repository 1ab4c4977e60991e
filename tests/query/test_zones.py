"""A project without a time zone (empty or missing `timezone`) counts UTC's days, on the report
side (pulse.query.dates, pulse.query.raw) and on the ingest side (pulse.ingest.rollups) alike."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text

from pulse.ingest.rollups import local_day
from pulse.query.dates import DayRange, resolve
from tests.helpers import CHROME, create_key, create_project, drain, key_header

NOW = datetime(2024, 3, 10, 23, 30, tzinfo=UTC)


@pytest.mark.parametrize("tz", [None, ""])
def test_reports_count_utc_days_without_a_zone(tz):
    assert resolve(None, None, tz=tz, now=NOW) == resolve(None, None, tz="UTC", now=NOW)
    # 04:30 and 23:30 UTC on the 10th, whatever offsets the bounds were written in.
    assert resolve("2024-03-09T23:30:00-05:00", "2024-03-11T00:30:00+01:00", tz=tz, now=NOW) == \
        DayRange(date(2024, 3, 10), date(2024, 3, 10))
    assert DayRange(date(2024, 3, 10), date(2024, 3, 10)).bounds(tz) == (
        datetime(2024, 3, 10, tzinfo=UTC), datetime(2024, 3, 11, tzinfo=UTC))


@pytest.mark.parametrize("tz", [None, ""])
def test_rollups_count_utc_days_without_a_zone(tz):
    assert local_day(NOW, tz) == date(2024, 3, 10)
    assert local_day(NOW + timedelta(hours=1), tz) == date(2024, 3, 11)


async def test_a_project_with_an_empty_zone_reports_utc_days(client, app):
    """End to end: collected, written to the rollups and reported (unfiltered, filtered, hourly)."""
    project = await create_project(client, "Zoneless", "zoneless.test")
    async with app.state.runtime.engine.begin() as conn:  # before any key of it is cached
        await conn.execute(text("UPDATE projects SET timezone = '' WHERE id = :p"), {"p": project["id"]})
    ingest = {**key_header((await create_key(client, project["id"], "ingest"))["key"]), "User-Agent": CHROME}
    query = key_header((await create_key(client, project["id"], "query"))["key"])
    day = (datetime.now(UTC) - timedelta(days=4)).replace(hour=0, minute=0, second=0, microsecond=0)
    # 23:30 UTC is still `day` in UTC (and would be the next day in any zone east of it).
    for visitor, ts in enumerate([day + timedelta(hours=23, minutes=30), day + timedelta(days=1, minutes=30)]):
        body = {"type": "pageview", "visitor_id": f"v{visitor}", "path": "/", "timestamp": ts.isoformat()}
        assert (await client.post("/api/collect", json=body, headers=ingest)).status_code == 200
    await drain(app)
    first, second = day.date().isoformat(), (day + timedelta(days=1)).date().isoformat()

    async def get(path: str, **params) -> dict:
        response = await client.get(path, params={"start_at": first, "end_at": second, **params}, headers=query)
        assert response.status_code == 200, response.text
        return response.json()

    for params in ({}, {"filter": "path:is:/"}):
        series = await get("/api/v1/stats/timeseries", **params)
        assert [(p["date"], p["pageviews"]) for p in series["data"]] == [(first, 1), (second, 1)]
    hourly = await get("/api/v1/stats/timeseries", interval="hour")
    assert {p["date"]: p["pageviews"] for p in hourly["data"] if p["pageviews"]} == {
        f"{first}T23:00": 1, f"{second}T00:00": 1}
    assert (await get("/api/v1/stats", start_at=first, end_at=first))["current"]["pageviews"] == 1
