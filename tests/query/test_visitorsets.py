"""The visitor-set engine against the condition language's own in-memory evaluation, on a known dataset.

Each definition's expected set is written out, and the engine (rollup bitmaps and SQL) and
`pulse.conditions.matches` over each visitor's raw rows must both give it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from pulse.auth import ProjectAccess
from pulse.conditions import SESSION_FIELDS, VisitorFacts, matches, parse
from pulse.query import visitorsets
from pulse.query.dates import DayRange
from tests.helpers import CHROME, IPHONE, create_key, create_project, drain, key_header, rows

D1 = (datetime.now(UTC) - timedelta(days=5)).replace(hour=0, minute=0, second=0, microsecond=0)
D2 = D1 + timedelta(days=1)
DAYS = DayRange(D1.date(), D2.date())
DE, US, NL, JP = "81.169.145.105", "8.8.8.8", "194.109.6.66", "133.11.0.1"
EVERYONE = {"alice", "bob", "carol", "dave", "erin"}


def at(day: datetime, hour: int, minute: int = 0) -> str:
    return (day + timedelta(hours=hour, minutes=minute)).isoformat()


def pv(visitor, when, path, **fields) -> dict:
    return {"type": "pageview", "visitor_id": visitor, "path": path, "timestamp": when, **fields}


def ev(visitor, when, name, **fields) -> dict:
    return {"type": "event", "visitor_id": visitor, "name": name, "timestamp": when, **fields}


def identify(visitor, when, **payload) -> dict:
    return {"type": "identify", "visitor_id": visitor, "timestamp": when, "payload": payload}


# (body, ip, user agent)
SENDS = [
    (identify("alice", at(D1, 9), user_id="u-alice", traits={"plan": "pro", "seats": 12}), DE, CHROME),
    (pv("alice", at(D1, 10), "/", title="Home", referrer="https://www.google.com/"), DE, CHROME),
    (pv("alice", at(D1, 10, 2), "/pricing"), DE, CHROME),
    (ev("alice", at(D1, 10, 3), "purchase", data={"amount": 150, "coupon": "SPRING"}, revenue_amount=150,
        revenue_currency="USD"), DE, CHROME),
    (identify("bob", at(D1, 11), user_id="u-bob", traits={"plan": "free"}), US, IPHONE),
    (pv("bob", at(D1, 11), "/"), US, IPHONE),
    (ev("bob", at(D1, 11, 1), "signup"), US, IPHONE),
    (pv("carol", at(D2, 9), "/docs", url="https://acme.test/docs?utm_source=newsletter"), NL, CHROME),
    (pv("carol", at(D2, 9, 1), "/docs/api"), NL, CHROME),
    (pv("carol", at(D2, 9, 2), "/pricing"), NL, CHROME),
    (ev("carol", at(D2, 9, 3), "purchase", data={"amount": 20}, revenue_amount=20, revenue_currency="USD"),
     NL, CHROME),
    (ev("carol", at(D2, 9, 4), "purchase", data={"amount": 90.5}), NL, CHROME),
    (identify("dave", at(D2, 12), traits={"plan": "Pro Plus", "seats": "12"}), JP, CHROME),
    (pv("dave", at(D2, 12), "/"), JP, CHROME),
    (pv("dave", at(D2, 15), "/blog"), JP, CHROME),
    (ev("erin", at(D2, 13), "signup"), US, CHROME),  # active through an event only: no visit
    (pv("frank", at(D1 - timedelta(days=3), 10), "/pricing"), DE, CHROME),  # outside the range
]


# Another project whose visitors match nearly everything: their numbers (1 to 6) are this project's
# visitors' too, so a statement that forgot the project would show in the cases' sets.
OTHER = [send for i in range(1, 7) for send in (
    (identify(f"o{i}", at(D1, 8), traits={"plan": "pro", "seats": 50}), DE, CHROME),
    (pv(f"o{i}", at(D1, 8), "/pricing", title="Other", referrer="https://www.google.com/"), DE, CHROME),
    (ev(f"o{i}", at(D1, 8, 1), "purchase", data={"amount": 500, "coupon": "SPRING"}, revenue_amount=500), DE, CHROME),
)]


def defn(*conditions, match="all") -> dict:
    return {"match": match, "conditions": list(conditions)}


def c(source, field, op, value=None, **extra) -> dict:
    return {"source": source, "field": field, "op": op, **({"value": value} if value is not None else {}), **extra}


CASES = [
    (defn(c("profile", "traits.plan", "eq", "pro")), {"alice"}),
    (defn(c("profile", "traits.plan", "contains", "PRO")), {"alice", "dave"}),
    (defn(c("profile", "traits.seats", "gte", 10)), {"alice"}),  # dave's "12" is a string
    (defn(c("profile", "traits.seats", "eq", "12")), {"dave"}),
    (defn(c("profile", "traits.plan", "neq", "pro")), {"bob", "dave"}),
    (defn(c("profile", "traits.plan", "not_exists")), {"carol", "erin"}),
    (defn(c("profile", "traits.plan", "in", ["free", "Pro Plus"])), {"bob", "dave"}),
    (defn(c("profile", "user_id", "exists")), {"alice", "bob"}),
    (defn(c("profile", "visitor_id", "in", ["alice", "zed"])), {"alice"}),
    (defn(c("session", "country", "eq", "DE")), {"alice"}),
    (defn(c("session", "country", "in", ["US", "NL"])), {"bob", "carol"}),
    (defn(c("session", "country", "neq", "DE")), {"bob", "carol", "dave"}),
    (defn(c("session", "country", "not_exists")), {"erin"}),
    (defn(c("session", "utm_source", "eq", "newsletter")), {"carol"}),
    (defn(c("session", "referrer", "contains", "google")), {"alice"}),
    (defn(c("session", "entry_path", "starts_with", "/docs")), {"carol"}),
    (defn(c("session", "exit_path", "eq", "/blog")), {"dave"}),
    (defn(c("pageview", "path", "eq", "/pricing")), {"alice", "carol"}),
    (defn(c("pageview", "path", "starts_with", "/docs")), {"carol"}),
    (defn(c("pageview", "path", "ends_with", "OG")), {"dave"}),
    (defn(c("pageview", "title", "exists")), {"alice"}),
    (defn({"source": "event", "event": "purchase", "op": "exists"}), {"alice", "carol"}),
    (defn({"source": "event", "event": "purchase", "op": "not_exists"}), {"bob", "dave", "erin"}),
    (defn(c("event", "event_data.amount", "gte", 100, event="purchase")), {"alice"}),
    (defn(c("event", "event_data.amount", "eq", 90.5, event="purchase")), {"carol"}),
    (defn(c("event", "event_data.coupon", "eq", "SPRING", event="purchase")), {"alice"}),
    (defn(c("event", "event_data.coupon", "not_exists", event="purchase")), {"bob", "carol", "dave", "erin"}),
    (defn(c("event", "revenue_amount", "lt", 50, event="purchase")), {"carol"}),
    (defn(c("metric", "pageviews", "gte", 3)), {"carol"}),
    (defn(c("metric", "pageviews", "lt", 1)), {"erin"}),
    (defn(c("metric", "sessions", "eq", 2)), {"dave"}),
    (defn(c("metric", "events", "gte", 2, event="purchase")), {"carol"}),
    (defn(c("metric", "events", "eq", 1)), {"alice", "bob", "erin"}),
    (defn(c("metric", "revenue", "gt", 100)), {"alice"}),
    (defn(c("profile", "traits.plan", "eq", "pro"), c("session", "country", "eq", "DE")), {"alice"}),
    (defn(c("profile", "traits.plan", "eq", "free"), c("session", "country", "eq", "DE")), set()),
    (defn({"source": "event", "event": "purchase", "op": "exists"}, c("metric", "sessions", "eq", 2), match="any"),
     {"alice", "carol", "dave"}),
    (defn({"match": "any", "conditions": [c("session", "country", "eq", "DE"), c("session", "country", "eq", "NL")]},
          {"source": "event", "event": "purchase", "op": "exists"}), {"alice", "carol"}),
    (defn(), EVERYONE),
    (defn(match="any"), set()),
]


@pytest.fixture(scope="module")
async def dataset(app, client):
    project = await create_project(client, "Sets", "sets.test")
    other = await create_project(client, "Elsewhere", "elsewhere.test")
    for target, sends in ((project, SENDS), (other, OTHER)):
        ingest = key_header((await create_key(client, target["id"], "ingest"))["key"])
        for body, ip, agent in sends:
            transport = httpx.ASGITransport(app=app, client=(ip, 40000))  # where the visitor is
            async with httpx.AsyncClient(transport=transport, base_url="http://pulse.test") as visitor:
                response = await visitor.post("/api/collect", json=body, headers={**ingest, "User-Agent": agent})
            assert response.status_code == 200 and "dropped" not in response.json(), response.text
    await drain(app)
    access = ProjectAccess(project_id=project["id"], domain="sets.test", modules={}, timezone="UTC")
    names = {r["visitor_no"]: r["visitor_id"] for r in await rows(
        app, "SELECT visitor_no, visitor_id FROM visitors WHERE project_id = :p", p=project["id"])}
    return {"project": project, "access": access, "names": names, "facts": await facts(app, project["id"])}


async def facts(app, project_id) -> dict[str, VisitorFacts]:
    """Each visitor's raw rows in the range, as the in-memory evaluation reads them."""
    start, end = DAYS.bounds("UTC")
    found = {}
    for v in await rows(app, "SELECT visitor_no, visitor_id FROM visitors WHERE project_id = :p", p=project_id):
        args = {"p": project_id, "n": v["visitor_no"], "start": start, "end": end}
        profile = await rows(app, "SELECT user_id, traits FROM identity_profiles WHERE project_id = :p "
                                  "AND visitor_id = :v", p=project_id, v=v["visitor_id"])
        sessions = await rows(app, "SELECT * FROM sessions WHERE project_id = :p AND visitor_no = :n "
                                   "AND pageviews > 0 AND started_at < :end AND ended_at >= :start", **args)
        pageviews = await rows(app, "SELECT path, hostname, title FROM pageviews WHERE project_id = :p "
                                    "AND visitor_no = :n AND ts >= :start AND ts < :end", **args)
        events = await rows(app, "SELECT name, data, revenue_amount, revenue_currency FROM events "
                                 "WHERE project_id = :p AND visitor_no = :n AND ts >= :start AND ts < :end", **args)
        if not (pageviews or events):
            continue  # not active in the range
        found[v["visitor_id"]] = VisitorFacts(
            profile={"visitor_id": v["visitor_id"], **(profile[0] if profile else {})},
            sessions=[{**{f: s[f] for f in SESSION_FIELDS}, "duration": s["duration"]} for s in sessions],
            pageviews=pageviews, events=events)
    return found


@pytest.mark.parametrize(("definition", "expected"), CASES)
async def test_the_engine_agrees_with_the_language(app, dataset, definition, expected):
    parsed = parse(definition)
    in_memory = {name for name, f in dataset["facts"].items() if matches(parsed, f)}
    assert in_memory == expected, "the dataset or the expectation is wrong"
    async with app.state.runtime.read_session() as session:
        found = await visitorsets.visitors(session, dataset["access"], parsed, DAYS)
        ids = await visitorsets.visitor_ids(session, dataset["access"].project_id, list(found))
    assert set(ids) == expected


async def test_breakdowns_and_metrics_of_a_set(app, dataset):
    parsed = parse(defn({"source": "event", "event": "purchase", "op": "exists"}))
    async with app.state.runtime.read_session() as session:
        members = await visitorsets.visitors(session, dataset["access"], parsed, DAYS)
        by_country = await visitorsets.breakdown(session, dataset["access"], members, "country", DAYS, 10)
        by_path = await visitorsets.breakdown(session, dataset["access"], members, "path", DAYS, 2)
        by_plan = await visitorsets.breakdown(session, dataset["access"], members, "trait:plan", DAYS, 10)
        numbers = await visitorsets.metrics(session, dataset["access"], members, DAYS)
    assert by_country == [("DE", 1), ("NL", 1)]
    assert by_path == [("/pricing", 2), ("/", 1)]
    assert by_plan == [("pro", 1)]
    assert numbers == {"visitors": 2, "sessions": 2, "pageviews": 5, "events": 3, "bounce_rate": 0.0,
                       "avg_duration": 210.0}


async def test_an_unknown_property_is_refused(app, dataset):
    from pulse import errors

    async with app.state.runtime.read_session() as session:
        with pytest.raises(errors.BadRequest, match="unknown property 'planet'"):
            await visitorsets.breakdown(session, dataset["access"], visitorsets.BitMap(), "planet", DAYS, 10)


async def test_a_sets_metrics_from_raw_rows_equal_those_from_session_rollups(app, dataset):
    """Days before a project's session rollups began are read from the raw rows: the same numbers."""
    from sqlalchemy import text

    async with app.state.runtime.read_session() as session:
        members = await visitorsets.active(session, dataset["access"], DAYS)
        fast = await visitorsets.metrics(session, dataset["access"], members, DAYS)
    async with app.state.runtime.engine.begin() as conn:
        await conn.execute(text("INSERT INTO session_rollups_since (project_id, since) VALUES (:p, :d)"),
                           {"p": dataset["project"]["id"], "d": DAYS.last})
    try:
        async with app.state.runtime.read_session() as session:
            slow = await visitorsets.metrics(session, dataset["access"], members, DAYS)
    finally:
        async with app.state.runtime.engine.begin() as conn:
            await conn.execute(text("DELETE FROM session_rollups_since WHERE project_id = :p"),
                               {"p": dataset["project"]["id"]})
    assert fast == slow and fast["pageviews"] > 0 and fast["events"] > 0
