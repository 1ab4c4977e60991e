"""`pulse demo`: generated traffic lands in the tables and rollups ingestion keeps, consistently."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio

from pulse.demo import DEMO_DOMAIN, DemoGenerator, run_demo
from pulse.errors import NotFound
from pulse.ingest.referrers import classify_referrer
from pulse.ingest.sessionize import TIMEOUT
from tests.helpers import clean_env, create_project, pulse, rows

NOW = datetime.now(UTC).replace(microsecond=0)
EVENT_NAMES = {"signup", "add_to_cart", "purchase", "newsletter_subscribe"}
CHANNELS = {"Direct", "Organic Search", "Paid Search", "Organic Social", "AI", "Email", "Referral"}


async def counts(app, project_id) -> dict:
    return (await rows(app, """
        SELECT (SELECT count(*) FROM pageviews WHERE project_id = :p) AS pageviews,
               (SELECT count(*) FROM events WHERE project_id = :p) AS events,
               (SELECT count(*) FROM sessions WHERE project_id = :p) AS sessions,
               (SELECT coalesce(sum(pageviews), 0) FROM sessions WHERE project_id = :p) AS session_pageviews,
               (SELECT count(*) FROM visitors WHERE project_id = :p) AS visitors,
               (SELECT coalesce(sum(pageviews), 0) FROM daily_rollups WHERE project_id = :p AND dimension = '')
                   AS rollup_pageviews,
               (SELECT coalesce(sum(events), 0) FROM daily_rollups WHERE project_id = :p AND dimension = '')
                   AS rollup_events,
               (SELECT count(*) FROM daily_rollups WHERE project_id = :p AND dimension = '') AS days
        """, p=project_id))[0]


@pytest_asyncio.fixture(scope="module")
async def demo(app):
    return await run_demo(app.state.runtime, visitors=50, days=7, seed=1, now=NOW)


def test_visits_stay_together_inside_the_window():
    generator = DemoGenerator(visitors=300, days=7, seed=5, now=NOW)
    start, end = int((NOW - timedelta(days=7)).timestamp() * 1e6), int(NOW.timestamp() * 1e6)
    last_seen: dict[str, int] = {}
    ids, visitors, pageviews = set(), set(), 0
    for records, chunk_pageviews in generator.chunks(size=500):
        assert chunk_pageviews == sum(r.type == "pageview" for r in records)
        pageviews += chunk_pageviews
        first_in_chunk: dict[str, int] = {}
        for r in sorted(records, key=lambda r: r.ts):
            assert start <= r.ts <= end
            first_in_chunk.setdefault(r.visitor_id, r.ts)
            ids.add(r.id)
            visitors.add(r.visitor_id)
        for visitor, ts in first_in_chunk.items():
            # A visit never continues into the next chunk: the visitor's previous chunk ended long before.
            if visitor in last_seen:
                assert ts - last_seen[visitor] > TIMEOUT.total_seconds() * 1e6
        for r in records:
            last_seen[r.visitor_id] = max(last_seen.get(r.visitor_id, 0), r.ts)
    assert visitors == {f"demo-{n}" for n in range(300)}
    assert pageviews <= generator.planned_pageviews and len(ids) > pageviews
    assert all(uuid.UUID(bytes=i).version == 4 for i in list(ids)[:1000])


def test_records_are_enriched_as_ingestion_would():
    records = [r for chunk, _ in DemoGenerator(visitors=400, days=5, seed=2, now=NOW).chunks() for r in chunk]
    landings = [r for r in records if r.type == "pageview" and r.channel != "Internal"]
    assert {r.channel for r in landings} == CHANNELS
    for r in landings:
        if r.utm_source is None:
            referral = classify_referrer(r.referrer, own_domain=DEMO_DOMAIN)
            assert (r.source, r.channel) == (referral.source, referral.channel)
    paid = [r for r in landings if r.channel == "Paid Search"]
    assert paid and all(r.utm_medium == "cpc" and r.source == "google" for r in paid)
    assert {r.utm_campaign for r in paid} >= {"spring_sale", "brand"}
    assert all(r.source is None and r.referrer is None for r in records if r.channel == "Internal")
    assert {r.device for r in records} == {"Desktop", "Mobile", "Tablet"}
    assert all(r.browser and r.os and r.country and r.region is None and r.city is None for r in records)
    events = [r for r in records if r.type == "event"]
    assert {r.data.name for r in events} == EVENT_NAMES
    purchases = [r.data for r in events if r.data.name == "purchase"]
    assert all(p.revenue_amount > 0 and p.revenue_currency == "USD" for p in purchases)


async def test_demo_project_tables_agree(app, demo):
    assert demo.ingest_key.startswith("pa_live_") and demo.query_key.startswith("pa_live_")
    project = (await rows(app, "SELECT name, domain FROM projects WHERE id = :p", p=demo.project_id))[0]
    assert project == {"name": "Demo", "domain": DEMO_DOMAIN}
    c = await counts(app, demo.project_id)
    assert c["pageviews"] == demo.pageviews > 0 and c["events"] == demo.events > 0
    assert c["visitors"] == 50
    assert c["sessions"] == demo.sessions  # visits are far enough apart never to merge
    assert c["session_pageviews"] == c["rollup_pageviews"] == c["pageviews"]
    assert c["rollup_events"] == c["events"]
    assert c["days"] >= 6
    names = await rows(app, "SELECT DISTINCT name FROM events WHERE project_id = :p", p=demo.project_id)
    assert {r["name"] for r in names} <= EVENT_NAMES
    channels = await rows(app, "SELECT DISTINCT channel FROM sessions WHERE project_id = :p", p=demo.project_id)
    assert {r["channel"] for r in channels} <= CHANNELS


async def test_same_seed_same_data(app, demo):
    again = await run_demo(app.state.runtime, visitors=50, days=7, seed=1, now=NOW)
    assert again.project_id != demo.project_id
    assert (again.pageviews, again.events, again.sessions) == (demo.pageviews, demo.events, demo.sessions)
    first, second = await counts(app, demo.project_id), await counts(app, again.project_id)
    assert first == second

    async def daily(project_id) -> list[dict]:
        return await rows(app, "SELECT day, dimension, value, pageviews, sessions, events FROM daily_rollups "
                               "WHERE project_id = :p ORDER BY day, dimension, value", p=project_id)

    assert await daily(demo.project_id) == await daily(again.project_id)
    other = await run_demo(app.state.runtime, visitors=50, days=7, seed=2, now=NOW)
    assert await daily(other.project_id) != await daily(demo.project_id)


async def test_adding_to_an_existing_project(app, client):
    project = await create_project(client, "Existing", "existing.example.com")
    first = await run_demo(app.state.runtime, visitors=10, days=2, project_id=project["id"], seed=3)
    assert first.ingest_key is None and first.query_key is None
    assert str(first.project_id) == project["id"]
    second = await run_demo(app.state.runtime, visitors=10, days=2, project_id=project["id"], seed=3)
    c = await counts(app, project["id"])
    assert c["visitors"] == 20  # new visitors each time, never the first run's again
    assert c["pageviews"] == c["rollup_pageviews"] == first.pageviews + second.pageviews
    hosts = await rows(app, "SELECT DISTINCT hostname FROM pageviews WHERE project_id = :p", p=project["id"])
    assert hosts == [{"hostname": "existing.example.com"}]


async def test_an_unknown_project_is_refused(app, demo):
    before = await rows(app, "SELECT count(*) AS n FROM projects")
    for project_id in (str(uuid.uuid4()), "not-a-project"):
        with pytest.raises(NotFound):
            await run_demo(app.state.runtime, visitors=5, days=1, project_id=project_id)
    assert await rows(app, "SELECT count(*) AS n FROM projects") == before


async def test_sizes_are_checked(app):
    for visitors, days in ((0, 7), (10, 0), (10, 91)):
        with pytest.raises(ValueError):
            await run_demo(app.state.runtime, visitors=visitors, days=days)


async def test_cli_demo_prints_a_project_with_pageviews(settings, app):
    env = clean_env(DATABASE_URL=settings.database_url, REDIS_URL=settings.redis_url)
    result = await asyncio.to_thread(pulse, "demo", "--visitors", "20", "--days", "3", env=env)
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(": ", 1) for line in result.stdout.strip().splitlines())
    assert set(lines) == {"project_id", "ingest_key", "query_key"}
    assert "pageviews/s" in result.stderr
    per_day = defaultdict(int)
    for row in await rows(app, "SELECT day, pageviews FROM daily_rollups WHERE project_id = :p AND dimension = ''",
                          p=lines["project_id"]):
        per_day[row["day"]] += row["pageviews"]
    c = await counts(app, lines["project_id"])
    assert c["pageviews"] > 0 and c["visitors"] == 20 and sum(per_day.values()) == c["pageviews"]

    missing = await asyncio.to_thread(pulse, "demo", "--project", str(uuid.uuid4()), env=env)
    assert missing.returncode != 0 and "not found" in missing.stderr
    too_old = await asyncio.to_thread(pulse, "demo", "--days", "91", env=env)
    assert too_old.returncode == 2 and "between 1 and 90" in too_old.stderr


async def test_the_default_view_compares_with_a_previous_period_of_real_traffic(app, client):
    """The dashboard opens on the last 30 days (today and the 29 before) and compares them with the
    30 days before: the demo fills both, so the changes look like a real site's, not `↑ 3223%`."""
    result = await run_demo(app.state.runtime, visitors=800, seed=4, now=NOW)
    assert result.days == 60
    today = NOW.date()
    response = await client.get("/api/v1/stats", headers={"X-Pulse-Key": result.query_key},
                                params={"start_at": (today - timedelta(days=29)).isoformat(),
                                        "end_at": today.isoformat()})
    assert response.status_code == 200, response.text
    body = response.json()
    current, previous = body["current"], body["previous"]
    for metric in ("visitors", "pageviews", "sessions"):
        change = current[metric] / previous[metric] - 1
        assert -0.5 <= change <= 1.0, (metric, current[metric], previous[metric])
        assert previous[metric] >= 100, (metric, previous[metric])
