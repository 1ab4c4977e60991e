"""Filtered rows from the session rollups equal the same rows computed from the raw tables.

A seeded dataset over four days (the range is the middle two, so sessions cross its ends at
midnight), written in several batches with late, out-of-order records (sessions extended backwards,
their entry page and origin changed after the fact). For every report dimension and filter case,
pulse.query.sessionsets must give pulse.query.raw's rows exactly: counters and visitors.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pyroaring import BitMap

from pulse.auth import ProjectAccess
from pulse.query import raw, sessionsets
from pulse.query.dates import DayRange
from pulse.query.filters import Filter
from tests.helpers import CHROME, IPHONE, create_key, create_project, drain, key_header, rows

D0 = (datetime.now(UTC) - timedelta(days=6)).replace(hour=0, minute=0, second=0, microsecond=0)
DAYS = DayRange((D0 + timedelta(days=1)).date(), (D0 + timedelta(days=2)).date())
IPS = ["81.169.145.105", "8.8.8.8", "194.109.6.66", "133.11.0.1", "127.0.0.1"]  # DE, US, NL, JP, nowhere
FIREFOX = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.1; rv:120.0) Gecko/20100101 Firefox/120.0"
AGENTS = [CHROME, IPHONE, FIREFOX]
REFERRERS = [None, None, "https://www.google.com/", "https://news.ycombinator.com/", "https://www.bing.com/search"]
PATHS = ["/", "/pricing", "/docs", "/docs/api", "/blog", "/blog/first-post"]
HOSTS = ["acme.test", "www.acme.test"]
EVENTS = ["signup", "purchase", "download"]

F = Filter
CASES = [
    [F("country", "is", "DE")], [F("country", "is_not", "DE")], [F("country", "contains", "e")],
    [F("country", "matches", "^(DE|NL)$")], [F("device", "is", "Mobile")], [F("browser", "contains", "fire")],
    [F("source", "is", "(direct)")], [F("source", "is_not", "(direct)")], [F("utm_source", "is", "newsletter")],
    [F("utm_campaign", "is_not", "spring")], [F("os", "is_not", "Windows")],
    [F("entry_path", "is", "/docs")], [F("exit_path", "is_not", "/pricing")],
    [F("path", "is", "/pricing")], [F("path", "contains", "DOCS")], [F("path", "is_not", "/")],
    [F("path", "matches", "^/blog")], [F("hostname", "is", "www.acme.test")],
    [F("event", "is", "purchase")], [F("event", "is_not", "signup")], [F("event", "contains", "o")],
    [F("country", "is", "DE"), F("path", "contains", "docs")],
    [F("device", "is", "Desktop"), F("event", "is", "purchase")],
    [F("path", "contains", "docs"), F("path", "is_not", "/docs/api")],
    [F("country", "is_not", "DE"), F("source", "is", "(direct)")],
    [F("event", "is", "signup"), F("event", "is_not", "purchase")],
    [F("path", "is", "/pricing"), F("event", "is", "signup")],
    [F("segment", "is", "odd")], [F("segment", "is_not", "odd")],
    [F("segment", "is", "odd"), F("device", "is", "Mobile")],
    [F("segment", "is", "nobody")],
]
DIMENSIONS = list(sessionsets.REPORTED)


def dataset_sends(rng: random.Random) -> list[list[tuple[dict, str, str]]]:
    """Batches of (body, ip, agent): visits in time order, then late records for earlier times."""
    on_time, late = [], []
    for v in range(60):
        visitor, ip, agent = f"v{v}", rng.choice(IPS), rng.choice(AGENTS)
        # A tenth of the visitors' pageviews arrive last (an SDK's offline queue), and a tenth of all events:
        # late events extend sessions backwards (new start, duration). Pageviews are late by whole
        # visitors, as the rollups credit a page's time when the next pageview arrives (and a session's
        # pageviews under the origin it had when they were written).
        backfilled = rng.random() < 0.1
        for _ in range(rng.randint(1, 3)):
            start = D0 + timedelta(days=rng.randint(0, 3), minutes=rng.randint(0, 24 * 60 - 1))
            if rng.random() < 0.15:  # across midnight
                start = start.replace(hour=23, minute=50)
            ts = start
            for n in range(rng.choice([1, 1, 2, 3, 5])):
                body = {"type": "pageview", "visitor_id": visitor, "timestamp": ts.isoformat(),
                        "path": rng.choice(PATHS)}
                url = f"https://{rng.choice(HOSTS)}{body['path']}"
                if n == 0:
                    referrer = rng.choice(REFERRERS)
                    if referrer:
                        body["referrer"] = referrer
                    if rng.random() < 0.2:
                        url += f"?utm_source=newsletter&utm_campaign={rng.choice(['spring', 'autumn'])}"
                body["url"] = url
                (late if backfilled else on_time).append((body, ip, agent))
                if rng.random() < 0.3:
                    event = {"type": "event", "visitor_id": visitor, "name": rng.choice(EVENTS),
                             "timestamp": (ts + timedelta(seconds=20)).isoformat()}
                    (late if rng.random() < 0.1 else on_time).append((event, ip, agent))
                ts += timedelta(seconds=rng.randint(5, 900))
    on_time.sort(key=lambda send: send[0]["timestamp"])
    half = len(on_time) // 2
    return [on_time[:half], on_time[half:], late]


async def send(app, client, project: dict, batches) -> None:
    ingest = key_header((await create_key(client, project["id"], "ingest"))["key"])
    for batch in batches:
        for body, ip, agent in batch:
            transport = httpx.ASGITransport(app=app, client=(ip, 40000))
            async with httpx.AsyncClient(transport=transport, base_url="http://pulse.test") as visitor:
                response = await visitor.post("/api/collect", json=body, headers={**ingest, "User-Agent": agent})
            assert response.status_code == 200 and "dropped" not in response.json(), response.text
        await drain(app)


@pytest.fixture(scope="module")
async def dataset(app, client):
    # Another project first, with traffic of the same shape: its session and visitor numbers are
    # this project's too, so a statement or cache that forgot the project would show in every case.
    other = await create_project(client, "Look-alike", "lookalike.test")
    await send(app, client, other, dataset_sends(random.Random(41)))
    project = await create_project(client, "Session sets", "sessionsets.test")
    await send(app, client, project, dataset_sends(random.Random(14)))
    numbers = [r["visitor_no"] for r in await rows(
        app, "SELECT visitor_no FROM visitors WHERE project_id = :p", p=project["id"])]
    segments = {"odd": BitMap(n for n in numbers if n % 2), "nobody": BitMap()}

    async def resolve(segment_id: str, days: DayRange) -> BitMap:
        return segments[segment_id]

    access = ProjectAccess(project_id=project["id"], domain="sessionsets.test", modules={}, timezone="UTC")
    elsewhere = ProjectAccess(project_id=other["id"], domain="lookalike.test", modules={}, timezone="UTC")
    return {"project": project, "access": access, "segments": resolve, "other": elsewhere}


def comparable(found: dict) -> dict:
    return {dimension: sorted((r.day, r.value, r.pageviews, r.sessions, r.bounces, r.duration, r.events,
                               r.time_on_page, r.time_on_page_views, tuple(r.visitors)) for r in rows_)
            for dimension, rows_ in found.items()}


@pytest.mark.parametrize("filters", CASES, ids=lambda fs: "&".join(f"{f.dimension}:{f.operator}:{f.value}" for f in fs))
async def test_session_rollups_give_the_raw_rows(app, dataset, filters):
    asked = [d for d in DIMENSIONS if sessionsets.answerable(filters, [d])]
    async with app.state.runtime.read_session() as session:
        fast = await sessionsets.compute_many(session, dataset["access"], filters, asked, DAYS, dataset["segments"])
        slow = await raw.from_raw_rows(session, dataset["access"], filters, asked, DAYS, dataset["segments"])
    assert fast is not None
    fast, slow = comparable(fast), comparable(slow)
    differing = {d: (set(fast[d]) - set(slow[d]), set(slow[d]) - set(fast[d])) for d in asked if fast[d] != slow[d]}
    assert not differing, str(differing)  # dimension: (rows only the session rollups give, rows only raw gives)
    if filters != [F("segment", "is", "nobody")]:
        assert any(rows_ for rows_ in slow.values()), "the case keeps nothing: it proves nothing"


async def test_each_project_reads_its_own_session_rollups(app, dataset):
    """Both projects number sessions and visitors from 1; each one's filtered rows are its own."""
    filters = [F("country", "is_not", "DE"), F("path", "contains", "docs")]
    async with app.state.runtime.read_session() as session:
        for access in (dataset["access"], dataset["other"], dataset["access"]):  # and again, from the cache
            fast = await sessionsets.compute_many(session, access, filters, ["", "path", "source"], DAYS)
            slow = await raw.from_raw_rows(session, access, filters, ["", "path", "source"], DAYS)
            assert comparable(fast) == comparable(slow)
        mine = await sessionsets.compute_many(session, dataset["access"], filters, [""], DAYS)
        theirs = await sessionsets.compute_many(session, dataset["other"], filters, [""], DAYS)
    assert comparable(mine) != comparable(theirs)


async def test_the_dataset_exercises_what_the_rollups_must_get_right(app, dataset):
    p = dataset["project"]["id"]
    crossing = await rows(app, "SELECT count(*) AS n FROM sessions WHERE project_id = :p "
                               "AND started_at::date <> ended_at::date", p=p)
    assert crossing[0]["n"] > 0
    bounces = await rows(app, "SELECT count(*) AS n FROM sessions WHERE project_id = :p AND is_bounce", p=p)
    assert bounces[0]["n"] > 0
    numbers = await rows(app, "SELECT count(DISTINCT session_no) AS n, count(*) AS sessions, min(session_no) AS lo, "
                              "max(session_no) AS hi FROM sessions WHERE project_id = :p", p=p)
    n = numbers[0]
    assert n["n"] == n["sessions"] and (n["lo"], n["hi"]) == (1, n["sessions"])  # dense, from 1


async def test_what_the_session_rollups_cannot_answer_falls_back_to_raw_rows(app, dataset):
    pages_by_host = [F("hostname", "is", "acme.test")]
    assert not sessionsets.answerable(pages_by_host, ["path"])
    assert not sessionsets.answerable([F("referrer", "contains", "google")], [""])
    assert sessionsets.answerable(pages_by_host, ["", "country", "hostname"])
    async with app.state.runtime.read_session() as session:
        assert await sessionsets.compute_many(session, dataset["access"], pages_by_host, ["path"], DAYS) is None
        answered = await raw.compute_many(session, dataset["access"], pages_by_host, ["path"], DAYS)
        assert answered == await raw.from_raw_rows(session, dataset["access"], pages_by_host, ["path"], DAYS)


async def test_days_before_the_session_rollups_began_are_read_from_raw_rows(app, dataset):
    """A project whose data predates migration 0010 has a `since` day: ranges reaching before it
    (with the day before, for sessions crossing midnight) are computed from the raw rows."""
    p = dataset["project"]["id"]
    filters = [F("country", "is", "DE")]
    async with app.state.runtime.engine.begin() as conn:
        from sqlalchemy import text

        await conn.execute(text("INSERT INTO session_rollups_since (project_id, since) VALUES (:p, :d)"),
                           {"p": p, "d": DAYS.first})
    try:
        async with app.state.runtime.read_session() as session:
            assert await sessionsets.compute_many(session, dataset["access"], filters, [""], DAYS) is None
            later = DayRange(DAYS.last + timedelta(days=1), DAYS.last + timedelta(days=1))
            assert await sessionsets.compute_many(session, dataset["access"], filters, [""], later) is not None
            got = await raw.compute_many(session, dataset["access"], filters, ["", "path"], DAYS)
            assert comparable(got) == comparable(await raw.from_raw_rows(session, dataset["access"], filters,
                                                                         ["", "path"], DAYS))
    finally:
        async with app.state.runtime.engine.begin() as conn:
            await conn.execute(text("DELETE FROM session_rollups_since WHERE project_id = :p"), {"p": p})


async def stored_rollups(app, project_id) -> dict:
    found = await rows(app, "SELECT day, dimension, value, counter, bitmaps FROM session_rollups WHERE project_id = :p",
                       p=project_id)
    return {(r["day"], r["dimension"], r["value"], r["counter"]): [list(BitMap.deserialize(b)) for b in r["bitmaps"]]
            for r in found}


async def test_days_written_before_session_rollups_are_rebuilt_by_the_writer(app, dataset):
    """`pulse ingest rebuild-session-rollups` (pulse.ingest.backfill): the days before `since` are
    queued on the ingest stream, and the writer rebuilds each from the raw rows exactly as it had
    written them; `since` goes once the first day is done."""
    from sqlalchemy import text

    from pulse.ingest import backfill

    p = dataset["project"]["id"]
    written = await stored_rollups(app, p)
    assert written
    async with app.state.runtime.engine.begin() as conn:  # as migration 0010 leaves a project with data
        await conn.execute(text("DELETE FROM session_rollups WHERE project_id = :p"), {"p": p})
        await conn.execute(text("INSERT INTO session_rollups_since (project_id, since) VALUES (:p, :d)"),
                           {"p": p, "d": DAYS.last + timedelta(days=3)})
    filters = [F("country", "is_not", "DE"), F("path", "contains", "docs")]
    async with app.state.runtime.read_session() as session:
        assert await sessionsets.compute_many(session, dataset["access"], filters, ["path"], DAYS) is None

    queued = await backfill.request(app.state.runtime, dataset["access"].project_id)
    assert queued == [DAYS.last + timedelta(days=2 - n) for n in range(len(queued))] and queued[-1] == D0.date()
    await drain(app)
    assert await rows(app, "SELECT * FROM session_rollups_since WHERE project_id = :p", p=p) == []
    assert await stored_rollups(app, p) == written
    async with app.state.runtime.read_session() as session:
        asked = [d for d in DIMENSIONS if sessionsets.answerable(filters, [d])]
        fast = await sessionsets.compute_many(session, dataset["access"], filters, asked, DAYS)
        slow = await raw.from_raw_rows(session, dataset["access"], filters, asked, DAYS)
    assert comparable(fast) == comparable(slow)
