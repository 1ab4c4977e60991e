"""POST /api/collect end to end: request, stream, writer, tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.helpers import (
    ADMIN,
    CHROME,
    GOOGLEBOT,
    IPHONE,
    OPTIONAL_MODULES,
    PAYLOADS,
    create_key,
    drain,
    key_header,
    rows,
)


@pytest.fixture
async def everything_on(client, site):
    for module in OPTIONAL_MODULES:
        await client.post(f"/api/admin/projects/{site['id']}/modules/{module}/enable", headers=ADMIN)
    return site


@pytest.mark.parametrize("shape", ["flat", "payload"])
@pytest.mark.parametrize("kind", list(PAYLOADS))
async def test_every_type_lands_in_its_table(client, app, everything_on, kind, shape):
    fields, table, expected = PAYLOADS[kind]
    body = {"type": kind, **fields} if shape == "flat" else {"type": kind, "visitor_id": "v_1", "payload": fields}
    response = await client.post("/api/collect", json=body, headers=everything_on["headers"])
    assert response.status_code == 200 and response.json() == {"ok": True}
    await drain(app)
    stored = await rows(app, f"SELECT * FROM {table} WHERE project_id = :p", p=everything_on["id"])
    assert len(stored) == 1
    row = stored[0]
    for column, value in expected.items():
        assert row[column] == value, column
    if kind == "event":
        assert float(row["revenue_amount"]) == 59.98


async def test_identify_merges_traits_aliases_and_accounts(client, app, site):
    send = [
        {"type": "identify", "visitor_id": "v_7fz9k2", "payload": {"user_id": "user_123",
                                                                     "traits": {"plan": "pro", "role": "admin"}}},
        {"type": "identify", "visitor_id": "v_7fz9k2",
         "payload": {"traits": {"plan": "enterprise"}, "account_id": "acme", "account_traits": {"seats": 5}}},
    ]
    for body in send:
        assert (await client.post("/api/collect", json=body, headers=site["headers"])).status_code == 200
        await drain(app)
    profile = (await rows(app, "SELECT * FROM identity_profiles WHERE project_id = :p", p=site["id"]))[0]
    assert profile["user_id"] == "user_123"
    assert profile["traits"] == {"plan": "enterprise", "role": "admin"}
    aliases = await rows(app, "SELECT user_id, visitor_id FROM identity_aliases WHERE project_id = :p", p=site["id"])
    assert aliases == [{"user_id": "user_123", "visitor_id": "v_7fz9k2"}]
    account = (await rows(app, "SELECT * FROM identity_accounts WHERE project_id = :p", p=site["id"]))[0]
    assert account["account_id"] == "acme" and account["traits"] == {"seats": 5}
    members = await rows(app, "SELECT account_id, visitor_id, user_id FROM account_members WHERE project_id = :p",
                         p=site["id"])
    assert members == [{"account_id": "acme", "visitor_id": "v_7fz9k2", "user_id": None}]


async def test_batches_accept_valid_items_and_report_the_rest(client, app, site):
    batch = [{"type": "pageview", "path": "/a"}, {"type": "scroll_depth", "max_depth": 140},
             {"type": "click_event", "x": 1, "y": 2}, {"type": "event", "name": "signup"}]
    for body in (batch, {"batch": batch}):
        response = await client.post("/api/collect", json=body, headers=site["headers"])
        assert response.status_code == 200
        assert response.json() == {"ok": True, "accepted": 2, "errors": [
            {"index": 1, "error": "Invalid request body: field 'max_depth' must be between 0 and 100."},
            {"index": 2, "error": "Module 'heatmaps' is not enabled for this project."}]}
    await drain(app)
    assert len(await rows(app, "SELECT 1 FROM pageviews WHERE project_id = :p", p=site["id"])) == 2
    assert len(await rows(app, "SELECT 1 FROM events WHERE project_id = :p", p=site["id"])) == 2
    assert await rows(app, "SELECT 1 FROM click_events WHERE project_id = :p", p=site["id"]) == []


@pytest.mark.parametrize(("body", "message"), [
    ({"type": "bogus"}, "Invalid request body: unknown payload type 'bogus'."),
    ({"path": "/"}, "Invalid request body: missing required field 'type'."),
    ({"type": "scroll_depth", "max_depth": 101}, "Invalid request body: field 'max_depth' must be between 0 and 100."),
    ({"type": "web_vital", "name": "FID", "value": 3},
     "Invalid request body: field 'name' must be one of LCP, FCP, CLS, INP, TTFB."),
    ({"type": "event"}, "Invalid request body: missing required field 'name'."),
    ({"type": "click_event", "x": "left", "y": 1}, "Invalid request body: field 'x' must be a number."),
])
async def test_invalid_payloads_are_400_and_store_nothing(client, app, site, body, message):
    response = await client.post("/api/collect", json=body, headers=site["headers"])
    assert response.status_code == 400
    assert response.json()["error"].startswith(message.rstrip("."))
    assert await drain(app) == 0


async def test_malformed_and_oversized_bodies(client, app, site):
    bad = await client.post("/api/collect", content=b"{nope", headers=site["headers"])
    assert bad.status_code == 400 and "error" in bad.json()
    huge = await client.post("/api/collect", content=b'{"type": "pageview", "title": "' + b"x" * 1_100_000 + b'"}',
                             headers=site["headers"])
    assert huge.status_code == 413 and "error" in huge.json()
    too_many = await client.post("/api/collect", json=[{"type": "pageview"}] * 501, headers=site["headers"])
    assert too_many.status_code == 413
    assert await drain(app) == 0


async def test_a_disabled_module_refuses_its_payloads(client, app, site):
    response = await client.post("/api/collect", json={"type": "click_event", "x": 1, "y": 2}, headers=site["headers"])
    assert response.status_code == 403
    assert response.json() == {"error": "Module 'heatmaps' is not enabled for this project."}
    await client.post(f"/api/admin/projects/{site['id']}/modules/webvitals/disable", headers=ADMIN)
    response = await client.post("/api/collect", json={"type": "web_vital", "name": "LCP", "value": 1},
                                 headers=site["headers"])
    assert response.json() == {"error": "Module 'webvitals' is not enabled for this project."}
    assert await drain(app) == 0


async def test_collect_needs_an_ingest_key(client, app, site):
    query_key = await create_key(client, site["id"], "query")
    refused = await client.post("/api/collect", json={"type": "pageview", "path": "/"},
                                headers=key_header(query_key["key"]))
    assert refused.status_code == 403
    assert refused.json() == {"error": "API key does not have the required 'ingest' scope for this endpoint."}
    missing = await client.post("/api/collect", json={"type": "pageview", "path": "/"})
    assert missing.status_code == 401
    by_query_string = await client.post(f"/api/collect?key={site['key']}", json={"type": "pageview", "path": "/"})
    assert by_query_string.status_code == 200
    assert await drain(app) == 1


async def test_a_key_writes_only_into_its_own_project(client, app, site):
    other = await client.post("/api/admin/projects", json={"name": "Other", "domain": "other.test"}, headers=ADMIN)
    other_id = other.json()["id"]
    response = await client.post(f"/api/collect?project_id={other_id}", json={"type": "pageview", "path": "/x"},
                                 headers=site["headers"])
    assert response.status_code == 404  # a key never targets another project
    await client.post("/api/collect", json={"type": "pageview", "path": "/mine", "project_id": other_id},
                      headers=site["headers"])
    await drain(app)
    assert await rows(app, "SELECT 1 FROM pageviews WHERE project_id = :p", p=other_id) == []
    assert len(await rows(app, "SELECT 1 FROM pageviews WHERE project_id = :p", p=site["id"])) == 1


async def test_enrichment_of_agent_referrer_and_campaign(client, app, site):
    await client.post("/api/collect", headers={**site["headers"], "User-Agent": IPHONE}, json={
        "type": "pageview", "url": "https://acme.test/pricing?utm_source=newsletter&utm_medium=email&utm_campaign=fall",
        "referrer": "https://mail.example.com/"})
    await client.post("/api/collect", headers=site["headers"], json={
        "type": "pageview", "path": "/", "referrer": "https://www.google.com/search?q=acme"})
    await client.post("/api/collect", headers=site["headers"], json={
        "type": "pageview", "path": "/about", "referrer": "https://acme.test/"})
    await drain(app)
    stored = {r["path"]: r for r in await rows(app, "SELECT * FROM pageviews WHERE project_id = :p", p=site["id"])}
    email = stored["/pricing"]
    assert (email["browser"], email["os"], email["device"]) == ("Safari", "iOS", "Mobile")
    assert (email["utm_source"], email["utm_medium"], email["utm_campaign"]) == ("newsletter", "email", "fall")
    assert email["channel"] == "Email" and email["hostname"] == "acme.test"
    search = stored["/"]
    assert (search["source"], search["channel"]) == ("google.com", "Organic Search")
    assert (search["browser"], search["os"], search["device"]) == ("Chrome", "Windows", "Desktop")
    internal = stored["/about"]
    assert internal["source"] is None and internal["referrer"] is None  # a self-referral is internal


async def test_country_from_the_client_address(settings):
    import httpx
    from asgi_lifespan import LifespanManager

    from tests.helpers import make_app

    app = make_app(settings)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app, client=("8.8.8.8", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://pulse.test") as c:
            project = (await c.post("/api/admin/projects", json={"name": "G", "domain": "g.test"},
                                    headers=ADMIN)).json()
            key = await create_key(c, project["id"], "ingest")
            await c.post("/api/collect", json={"type": "pageview", "path": "/"},
                         headers={**key_header(key["key"]), "User-Agent": CHROME})
            await drain(app)
            stored = await rows(app, "SELECT country, city FROM pageviews WHERE project_id = :p", p=project["id"])
    assert stored == [{"country": "US", "city": None}]


async def test_bots_are_counted_not_stored(client, app, site):
    response = await client.post("/api/collect", json={"type": "pageview", "path": "/"},
                                 headers={**site["headers"], "User-Agent": GOOGLEBOT})
    assert response.status_code == 200
    await drain(app)
    assert await rows(app, "SELECT 1 FROM pageviews WHERE project_id = :p", p=site["id"]) == []
    assert await rows(app, "SELECT 1 FROM visitors WHERE project_id = :p", p=site["id"]) == []
    hits = await rows(app, "SELECT hits FROM bot_hits WHERE project_id = :p", p=site["id"])
    assert hits == [{"hits": 1}]


async def test_visitor_ids_from_a_daily_hash_unless_the_client_sends_one(client, app, site):
    for headers in (site["headers"], site["headers"], {**site["headers"], "User-Agent": IPHONE}):
        await client.post("/api/collect", json={"type": "pageview", "path": "/"}, headers=headers)
    await client.post("/api/collect", json={"type": "pageview", "path": "/", "visitor_id": "device-42"},
                      headers=site["headers"])
    await drain(app)
    visitors = await rows(app, "SELECT visitor_id, visitor_no FROM visitors WHERE project_id = :p ORDER BY visitor_no",
                          p=site["id"])
    assert len(visitors) == 3  # same IP and agent is one visitor; another agent, another; the client's own id
    assert [v["visitor_no"] for v in visitors] == [1, 2, 3]
    assert "device-42" in {v["visitor_id"] for v in visitors}
    assert all("127.0.0.1" not in v["visitor_id"] for v in visitors)  # no IP, only a keyed hash
    ttl = await app.state.runtime.redis.ttl(f"pulse:salt:{datetime.now(UTC).date().isoformat()}")
    assert 0 < ttl <= 48 * 3600


async def test_timestamps_for_backfills(client, app, site):
    two_days_ago = (datetime.now(UTC) - timedelta(days=2)).replace(microsecond=0)
    await client.post("/api/collect", json={"type": "pageview", "path": "/old", "timestamp": two_days_ago.isoformat()},
                      headers=site["headers"])
    too_old = await client.post("/api/collect", json={"type": "pageview", "timestamp": "2001-01-01T00:00:00Z"},
                                headers=site["headers"])
    assert too_old.status_code == 400
    await drain(app)
    stored = await rows(app, "SELECT ts FROM pageviews WHERE project_id = :p", p=site["id"])
    assert stored == [{"ts": two_days_ago}]
    rollup = await rows(app, "SELECT day, pageviews FROM daily_rollups WHERE project_id = :p AND dimension = ''",
                        p=site["id"])
    assert rollup == [{"day": two_days_ago.date(), "pageviews": 1}]


async def test_metrics_show_the_stream_and_what_was_written(client, app, site):
    await client.post("/api/collect", json={"type": "pageview", "path": "/"}, headers=site["headers"])
    body = (await client.get("/metrics")).text
    assert "pulse_ingest_stream_length{" in body
    await drain(app)
    body = (await client.get("/metrics")).text
    assert 'pulse_ingest_records_written_total{type="pageview"}' in body
    assert 'route="/api/collect"' in body


async def test_sdk_requests_that_name_their_visitors_are_not_bot_filtered(client, app, site):
    sdk = {**site["headers"], "User-Agent": "python-httpx/0.28.1"}
    await client.post("/api/collect", json={"type": "event", "name": "renewed", "visitor_id": "user-1"}, headers=sdk)
    await client.post("/api/collect", json={"type": "pageview", "path": "/"}, headers=sdk)  # no visitor: a bot
    await drain(app)
    assert len(await rows(app, "SELECT 1 FROM events WHERE project_id = :p", p=site["id"])) == 1
    assert await rows(app, "SELECT 1 FROM pageviews WHERE project_id = :p", p=site["id"]) == []


NODE_SDK = "pulse-analytics-node/1.0.0"


async def bot_hits(app, project_id: str) -> int:
    return sum(r["hits"] for r in await rows(app, "SELECT hits FROM bot_hits WHERE project_id = :p", p=project_id))


@pytest.mark.parametrize("agent", ["python-requests/2.31.0", "okhttp/4.12.0", "axios/1.7.2", NODE_SDK])
async def test_a_generic_http_library_that_names_its_visitor_is_stored(client, app, site, agent):
    headers = {**site["headers"], "User-Agent": agent}
    response = await client.post("/api/collect", json={"type": "pageview", "path": "/s", "visitor_id": "u-1"},
                                 headers=headers)
    assert response.status_code == 200
    await client.post("/api/collect", json={"type": "pageview", "path": "/anon"}, headers=headers)  # no visitor: a bot
    await drain(app)
    stored = await rows(app, "SELECT path, browser, os, device FROM pageviews WHERE project_id = :p", p=site["id"])
    # The library says nothing about the person's browser: none is made up from it.
    assert stored == [{"path": "/s", "browser": None, "os": None, "device": "Unknown"}]
    assert await bot_hits(app, site["id"]) == 1


@pytest.mark.parametrize("agent", [
    GOOGLEBOT,
    "Googlebot/2.1",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.6099.28 "
    "Safari/537.36",
    "python-requests/2.31.0 (compatible; AcmeCrawler/1.0)",  # a crawler built on a library is a crawler
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 "
    "Safari/537.36 Chrome-Lighthouse",
    "",
])
async def test_a_crawler_or_headless_browser_is_a_bot_even_naming_a_visitor(client, app, site, agent):
    response = await client.post("/api/collect", json={"type": "pageview", "path": "/", "visitor_id": "v-1"},
                                 headers={**site["headers"], "User-Agent": agent})
    assert response.status_code == 200
    await drain(app)
    assert await rows(app, "SELECT 1 FROM pageviews WHERE project_id = :p", p=site["id"]) == []
    assert await rows(app, "SELECT 1 FROM visitors WHERE project_id = :p", p=site["id"]) == []
    assert await bot_hits(app, site["id"]) == 1


async def test_a_forwarded_user_agent_is_the_one_classified(client, app, site):
    sdk = {**site["headers"], "User-Agent": NODE_SDK}
    forwarded_bot = await client.post("/api/collect", headers=sdk, json={
        "type": "pageview", "path": "/crawled", "visitor_id": "v-bot", "user_agent": GOOGLEBOT})
    forwarded_phone = await client.post("/api/collect", headers=sdk, json={
        "type": "pageview", "path": "/phone", "visitor_id": "v-phone", "user_agent": IPHONE})
    # A browser's header is not what counts either when the payload forwards an agent.
    from_chrome = await client.post("/api/collect", headers=site["headers"], json={
        "type": "pageview", "path": "/chrome-says-bot", "visitor_id": "v-2", "user_agent": GOOGLEBOT})
    assert [r.status_code for r in (forwarded_bot, forwarded_phone, from_chrome)] == [200, 200, 200]
    await drain(app)
    stored = await rows(app, "SELECT path, browser, os, device FROM pageviews WHERE project_id = :p", p=site["id"])
    assert stored == [{"path": "/phone", "browser": "Safari", "os": "iOS", "device": "Mobile"}]
    assert await bot_hits(app, site["id"]) == 2


async def test_a_batch_keeps_its_humans_and_counts_its_bots_once(client, app, site):
    response = await client.post("/api/collect", headers={**site["headers"], "User-Agent": NODE_SDK}, json=[
        {"type": "pageview", "path": "/a", "visitor_id": "v-1", "user_agent": IPHONE},
        {"type": "pageview", "path": "/b", "visitor_id": "v-2", "user_agent": GOOGLEBOT},
        {"type": "pageview", "path": "/c", "visitor_id": "v-3", "user_agent": "Mozilla/5.0 (compatible; bingbot/2.0)"},
        {"type": "event", "name": "renewed", "visitor_id": "v-4"},  # the SDK's own agent, naming its visitor
    ])
    assert response.json() == {"ok": True, "accepted": 2, "errors": [], "dropped": {"bot": 2}}
    await drain(app)
    stored = await rows(app, "SELECT path FROM pageviews WHERE project_id = :p", p=site["id"])
    assert [r["path"] for r in stored] == ["/a"]
    assert len(await rows(app, "SELECT 1 FROM events WHERE project_id = :p", p=site["id"])) == 1
    assert await bot_hits(app, site["id"]) == 1


async def test_a_forwarded_user_agent_over_512_characters_is_refused(client, app, site):
    response = await client.post("/api/collect", headers=site["headers"], json={
        "type": "pageview", "path": "/", "visitor_id": "v", "user_agent": "Mozilla/5.0 " + "x" * 600})
    assert response.status_code == 400 and "user_agent" in response.json()["error"]
    assert await drain(app) == 0
