"""`segment=<id>` (and `filter=segment:is|is_not:<id>`) on every report: a project's reports filtered by
a segment equal, number for number, the reports of a project that only ever had the segment's visitors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.helpers import ADMIN, CHROME, IPHONE, create_key, create_project, drain, gql, key_header

D1 = (datetime.now(UTC) - timedelta(days=3)).replace(hour=0, minute=0, second=0, microsecond=0)
D2 = D1 + timedelta(days=1)
RANGE = {"start_at": (D1 - timedelta(days=1)).date().isoformat(), "end_at": D2.date().isoformat()}
REPORTS = [(name, {}) for name in ("stats", "stats/timeseries", "pages", "pages/entry", "pages/exit", "referrers",
                                   "events", "devices", "geo", "channels", "campaigns", "campaigns/sources",
                                   "campaigns/mediums")]
REPORTS += [("campaigns/timeseries", {"utm_source": source}) for source in ("hn", "newsletter")]
REPORTS += [("stats/timeseries", {"interval": "hour"})]


def at(day: datetime, hour: int, minute: int = 0) -> str:
    return (day + timedelta(hours=hour, minutes=minute)).isoformat()


def visit(visitor, day, hour, paths, *, event=None, referrer=None, agent=CHROME) -> list[tuple[dict, str]]:
    sends = [({"type": "pageview", "visitor_id": visitor, "path": path, "timestamp": at(day, hour, n),
               **({"referrer": referrer} if referrer and n == 0 else {})}, agent) for n, path in enumerate(paths)]
    if event:
        sends.append(({"type": "event", "visitor_id": visitor, "name": event, "timestamp": at(day, hour, len(paths))},
                      agent))
    return sends


ALICE = [*visit("alice", D1, 10, ["/", "/pricing"], event="signup", referrer="https://www.google.com/"),
         *visit("alice", D2, 9, ["/alice"], agent=IPHONE)]
BOB = [*visit("bob", D1, 11, ["/", "/docs", "/pricing"], event="signup", referrer="https://www.google.com/"),
       *visit("bob", D2, 14, ["/pricing"], event="purchase")]
CAROL = [*visit("carol", D2, 9, ["/docs"], referrer="https://news.ycombinator.com/?utm_source=hn&utm_medium=social"),
         ({"type": "pageview", "visitor_id": "carol", "path": "/landing", "timestamp": at(D2, 16),
           "url": "https://acme.test/landing?utm_source=newsletter&utm_campaign=spring"}, IPHONE)]
BOB_AND_CAROL = {"match": "any", "conditions": [
    {"source": "profile", "field": "visitor_id", "op": "in", "value": ["bob", "carol"]}]}


async def project(client, name: str, sends) -> dict:
    p = await create_project(client, name, f"{name.lower()}.test")
    keys = {scope: key_header((await create_key(client, p["id"], scope))["key"]) for scope in ("ingest", "query")}
    for body, agent in sends:
        response = await client.post("/api/collect", json=body, headers={**keys["ingest"], "User-Agent": agent})
        assert response.status_code == 200 and "dropped" not in response.json(), response.text
    return {"id": p["id"], **keys}


@pytest.fixture(scope="module")
async def sites(app, client):
    everyone = await project(client, "Everyone", ALICE + BOB + CAROL)
    only = await project(client, "Only", BOB + CAROL)
    alone = await project(client, "Alone", ALICE)
    await drain(app)
    made = await client.post("/api/v1/segments", json={"name": "Bob and Carol", "definition": BOB_AND_CAROL},
                             headers=everyone["query"])
    assert made.status_code == 201, made.text
    return {"everyone": everyone, "only": only, "alone": alone, "segment": made.json()["id"]}


async def reports(client, site, **params) -> dict:
    got = {}
    for name, own in REPORTS:
        response = await client.get(f"/api/v1/{name}", params={**RANGE, **own, **params}, headers=site["query"])
        assert response.status_code == 200, (name, response.text)
        got[(name, *own.values())] = response.json()
    return got


async def test_a_segment_filters_every_report_to_its_visitors(client, sites):
    unfiltered = await reports(client, sites["everyone"])
    segmented = await reports(client, sites["everyone"], segment=sites["segment"])
    assert segmented == await reports(client, sites["only"])
    assert segmented != unfiltered
    as_filter = await reports(client, sites["everyone"], filter=f"segment:is:{sites['segment']}")
    assert as_filter == segmented
    others = await reports(client, sites["everyone"], filter=f"segment:is_not:{sites['segment']}")
    assert others == await reports(client, sites["alone"])


async def test_a_segment_and_a_filter_together(client, sites):
    both = await reports(client, sites["everyone"], segment=sites["segment"], filter="path:is:/pricing")
    assert both == await reports(client, sites["only"], filter="path:is:/pricing")


async def test_graphql_takes_the_segment_and_evaluates_it_once(app, client, sites, monkeypatch):
    from pulse.query import visitorsets

    calls = []
    original = visitorsets.visitors

    async def counted(*args, **kwargs):
        calls.append(args[3])
        return await original(*args, **kwargs)

    monkeypatch.setattr(visitorsets, "visitors", counted)
    query = ("query($s: ID, $a: String, $b: String) { project { "
             "stats(segment: $s, startAt: $a, endAt: $b) { current { pageviews visitors sessions } } "
             "pages(segment: $s, startAt: $a, endAt: $b) { data { path views uniqueViews } } "
             "events(segment: $s, startAt: $a, endAt: $b) { data { name count } } "
             "devices(segment: $s, startAt: $a, endAt: $b) { browsers { name visitors } } } }")
    variables = {"s": sites["segment"], "a": RANGE["start_at"], "b": RANGE["end_at"]}
    result = await gql(client, query, variables, headers=sites["everyone"]["query"])
    assert "errors" not in result, result
    assert calls and len(set(calls)) == len(calls)  # each range once (the period, the previous one)
    data = result["data"]["project"]
    rest = await reports(client, sites["only"])
    assert data["stats"]["current"]["pageviews"] == rest[("stats",)]["current"]["pageviews"]
    assert [p["path"] for p in data["pages"]["data"]] == [p["path"] for p in rest[("pages",)]["data"]]


async def test_unknown_foreign_and_gated_segments_are_refused(client, sites):
    everyone = sites["everyone"]
    unknown = await client.get("/api/v1/pages", params={"segment": "nope"}, headers=everyone["query"])
    assert unknown.status_code == 404 and unknown.json() == {"error": "Segment 'nope' not found."}
    theirs = await client.get("/api/v1/pages", params={"segment": sites["segment"]}, headers=sites["only"]["query"])
    assert theirs.status_code == 404
    bad = await client.get("/api/v1/pages", params={"filter": f"segment:contains:{sites['segment']}"},
                           headers=everyone["query"])
    assert bad.status_code == 400 and "segment filter takes is or is_not" in bad.json()["error"]
    await client.post(f"/api/admin/projects/{everyone['id']}/modules/segments/disable", headers=ADMIN)
    try:
        gated = await client.get("/api/v1/pages", params={"segment": sites["segment"]}, headers=everyone["query"])
        assert gated.status_code == 403
        assert (await client.get("/api/v1/pages", headers=everyone["query"])).status_code == 200
    finally:
        await client.post(f"/api/admin/projects/{everyone['id']}/modules/segments/enable", headers=ADMIN)
