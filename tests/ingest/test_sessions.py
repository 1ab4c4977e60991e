"""Sessions and rollups as the writer keeps them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.helpers import drain, rows

BASE = (datetime.now(UTC) - timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)


def at(minutes: float) -> str:
    return (BASE + timedelta(minutes=minutes)).isoformat()


async def send(client, site, *pageviews: tuple[float, str], visitor: str = "v1", **extra) -> None:
    body = [{"type": "pageview", "path": path, "timestamp": at(minute), "visitor_id": visitor, **extra}
            for minute, path in pageviews]
    response = await client.post("/api/collect", json=body, headers=site["headers"])
    assert response.status_code == 200 and response.json()["accepted"] == len(body), response.text


async def sessions_of(app, site) -> list[dict]:
    return await rows(app, "SELECT entry_path, exit_path, pageviews, duration, is_bounce, started_at "
                           "FROM sessions WHERE project_id = :p ORDER BY started_at", p=site["id"])


async def site_rollup(app, site) -> dict:
    return (await rows(app, "SELECT pageviews, sessions, bounces, duration FROM daily_rollups "
                            "WHERE project_id = :p AND dimension = '' AND value = ''", p=site["id"]))[0]


async def test_activity_within_30_minutes_is_one_session(client, app, site):
    await send(client, site, (0, "/"), (10, "/pricing"), (39, "/signup"))
    await drain(app)
    assert await sessions_of(app, site) == [{"entry_path": "/", "exit_path": "/signup", "pageviews": 3,
                                             "duration": 39 * 60, "is_bounce": False, "started_at": BASE}]


async def test_a_gap_over_30_minutes_starts_a_new_session(client, app, site):
    await send(client, site, (0, "/"), (31, "/again"))
    await drain(app)
    sessions = await sessions_of(app, site)
    summary = [(s["entry_path"], s["pageviews"], s["is_bounce"]) for s in sessions]
    assert summary == [("/", 1, True), ("/again", 1, True)]
    assert await site_rollup(app, site) == {"pageviews": 2, "sessions": 2, "bounces": 2, "duration": 0}


async def test_out_of_order_activity_extends_the_session(client, app, site):
    await send(client, site, (20, "/second"))
    await drain(app)
    await send(client, site, (5, "/first"))  # arrives late, belongs before
    await drain(app)
    assert await sessions_of(app, site) == [{"entry_path": "/first", "exit_path": "/second", "pageviews": 2,
                                             "duration": 15 * 60, "is_bounce": False,
                                             "started_at": BASE + timedelta(minutes=5)}]
    # The rollups took the session's earlier contribution back: one session, not a bounce.
    assert await site_rollup(app, site) == {"pageviews": 2, "sessions": 1, "bounces": 0, "duration": 15 * 60}
    entries = await rows(app, "SELECT value, sessions FROM daily_rollups WHERE project_id = :p "
                              "AND dimension = 'entry_path' AND sessions <> 0", p=site["id"])
    assert entries == [{"value": "/first", "sessions": 1}]


async def test_a_writer_restart_continues_sessions_from_the_table(client, app, site):
    await send(client, site, (0, "/"))
    await drain(app, consumer="first")
    await send(client, site, (12, "/next"))
    await drain(app, consumer="second")  # a new writer, nothing cached: reads the session back
    sessions = await sessions_of(app, site)
    assert [(s["entry_path"], s["exit_path"], s["pageviews"]) for s in sessions] == [("/", "/next", 2)]


async def test_separate_visitors_have_separate_sessions(client, app, site):
    await send(client, site, (0, "/"), visitor="a")
    await send(client, site, (1, "/"), visitor="b")
    await drain(app)
    assert len(await sessions_of(app, site)) == 2
    distinct = await rows(app, "SELECT visitors FROM daily_rollups WHERE project_id = :p AND dimension = ''",
                          p=site["id"])
    from pyroaring import BitMap

    assert len(BitMap.deserialize(distinct[0]["visitors"])) == 2


async def test_a_client_session_id_names_the_session(client, app, site):
    await send(client, site, (0, "/"), (50, "/later"), session_id="s-1")
    await drain(app)
    sessions = await sessions_of(app, site)
    assert [(s["pageviews"], s["entry_path"], s["exit_path"]) for s in sessions] == [(2, "/", "/later")]


async def test_events_count_in_the_session_and_rollups(client, app, site):
    await send(client, site, (0, "/"))
    await client.post("/api/collect", headers=site["headers"], json={
        "type": "event", "name": "signup", "visitor_id": "v1", "timestamp": at(2)})
    await drain(app)
    session = (await rows(app, "SELECT events, session_id IS NOT NULL AS linked FROM sessions s "
                               "JOIN events e USING (project_id) WHERE s.project_id = :p", p=site["id"]))[0]
    assert session == {"events": 1, "linked": True}
    event_rollup = await rows(app, "SELECT events FROM daily_rollups WHERE project_id = :p AND dimension = 'event' "
                                   "AND value = 'signup'", p=site["id"])
    assert event_rollup == [{"events": 1}]


async def test_an_engagement_ping_extends_the_session_and_is_no_event(client, app, site):
    await send(client, site, (0, "/"))
    response = await client.post("/api/collect", headers=site["headers"], json={
        "type": "engagement", "path": "/", "visitor_id": "v1", "timestamp": at(4)})
    assert response.status_code == 200, response.text
    await drain(app)
    session = (await rows(app, "SELECT pageviews, events, duration, is_bounce FROM sessions WHERE project_id = :p",
                          p=site["id"]))[0]
    # Still a bounce (one pageview), but four minutes were spent on it.
    assert session == {"pageviews": 1, "events": 0, "duration": 240, "is_bounce": True}
    assert await site_rollup(app, site) == {"pageviews": 1, "sessions": 1, "bounces": 1, "duration": 240}
    assert await rows(app, "SELECT count(*) AS n FROM events WHERE project_id = :p", p=site["id"]) == [{"n": 0}]


async def test_time_on_page_is_credited_to_the_previous_page(client, app, site):
    await send(client, site, (0, "/a"), (3, "/b"))
    await drain(app)
    pages = await rows(app, "SELECT value, time_on_page, time_on_page_views FROM daily_rollups "
                            "WHERE project_id = :p AND dimension = 'path' ORDER BY value", p=site["id"])
    assert pages == [{"value": "/a", "time_on_page": 180, "time_on_page_views": 1},
                     {"value": "/b", "time_on_page": 0, "time_on_page_views": 0}]


async def test_days_are_the_project_time_zone_days(client, app, site):
    from sqlalchemy import text

    async with app.state.runtime.engine.begin() as conn:
        await conn.execute(text("UPDATE projects SET timezone = 'America/New_York' WHERE id = :p"), {"p": site["id"]})
    late_evening_utc = BASE.replace(hour=2)  # 02:00 UTC is 21:00 or 22:00 the day before in New York
    await client.post("/api/collect", headers=site["headers"], json={
        "type": "pageview", "path": "/", "visitor_id": "tz", "timestamp": late_evening_utc.isoformat()})
    await drain(app, consumer="tz-writer")
    days = await rows(app, "SELECT day FROM daily_rollups WHERE project_id = :p AND dimension = ''", p=site["id"])
    assert days == [{"day": (late_evening_utc - timedelta(days=1)).date()}]


async def drain_with(writer) -> None:
    """Write everything with one long-lived writer, so its caches carry over between batches."""
    while await writer.step(block_ms=1):
        pass


async def test_one_writer_remembers_sessions_between_batches(client, app, site):
    from pulse.ingest.writer import ShardWriter

    runtime = app.state.runtime
    writers = [ShardWriter(runtime, shard, "long-lived") for shard in range(runtime.settings.ingest_shards)]
    for w in writers:
        assert await w.hold_lease()
    try:
        await send(client, site, (0, "/start"))
        for w in writers:
            await drain_with(w)
        await send(client, site, (200, "/much-later"))  # the cache now only holds the later session
        for w in writers:
            await drain_with(w)
        await send(client, site, (20, "/late"))  # belongs to the first session, which is not cached
        for w in writers:
            await drain_with(w)
        await send(client, site, (201, "/next"))  # continues the cached session
        for w in writers:
            await drain_with(w)
    finally:
        for w in writers:
            await w.release()
    sessions = await sessions_of(app, site)
    summary = [(s["entry_path"], s["exit_path"], s["pageviews"]) for s in sessions]
    assert summary == [("/start", "/late", 2), ("/much-later", "/next", 2)]
    assert await site_rollup(app, site) == {"pageviews": 4, "sessions": 2, "bounces": 0,
                                            "duration": 20 * 60 + 60}


async def test_a_client_session_id_belongs_to_its_visitor(client, app, site):
    await send(client, site, (0, "/a"), visitor="phone", session_id="same")
    await send(client, site, (1, "/b"), visitor="laptop", session_id="same")
    await drain(app)
    sessions = await sessions_of(app, site)
    assert sorted(s["entry_path"] for s in sessions) == ["/a", "/b"]


async def test_the_earliest_pageview_gives_the_session_its_origin(client, app, site):
    await client.post("/api/collect", headers=site["headers"], json={
        "type": "pageview", "path": "/second", "visitor_id": "o", "timestamp": at(10)})
    await drain(app)
    await client.post("/api/collect", headers=site["headers"], json={
        "type": "pageview", "path": "/landing", "visitor_id": "o", "timestamp": at(0),
        "referrer": "https://news.ycombinator.com/"})
    await drain(app)
    origin = await rows(app, "SELECT entry_path, source, channel FROM sessions WHERE project_id = :p", p=site["id"])
    assert origin == [{"entry_path": "/landing", "source": "news.ycombinator.com", "channel": "Organic Social"}]
