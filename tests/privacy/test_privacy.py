"""Privacy settings: the API on both faces, and what ingestion does with them."""

from __future__ import annotations

import pytest

from tests.helpers import ADMIN, CHROME, GOOGLEBOT, create_key, create_project, drain, gql, gql_error, key_header, rows

DEFAULTS = {"anonymize_ip": True, "respect_dnt": True, "bot_filtering": True, "consent_required": False,
            "allowed_consent_modes": ["analytics"], "blocked_user_agents": []}

PAGEVIEW = {"type": "pageview", "path": "/"}


@pytest.fixture
async def site(client) -> dict:
    project = await create_project(client, "Private", "private.test")
    ingest = await create_key(client, project["id"], "ingest")
    admin = await create_key(client, project["id"], "admin")
    return {"id": project["id"], "ingest": {**key_header(ingest["key"]), "User-Agent": CHROME},
            "admin": key_header(admin["key"])}


async def put(client, site, body: dict):
    return await client.put("/api/v1/privacy/settings", json=body, headers=site["admin"])


async def pageviews(app, site) -> int:
    await drain(app)
    return len(await rows(app, "SELECT 1 FROM pageviews WHERE project_id = :p", p=site["id"]))


async def test_defaults_and_updates(client, site):
    got = await client.get("/api/v1/privacy/settings", headers=site["admin"])
    assert got.status_code == 200 and got.json() == DEFAULTS
    body = {"anonymize_ip": True, "respect_dnt": True, "bot_filtering": True, "consent_required": True,
            "allowed_consent_modes": ["analytics", "measurement"], "blocked_user_agents": ["synthetic-monitor"]}
    updated = await put(client, site, body)
    assert updated.status_code == 200 and updated.json() == body
    partial = await put(client, site, {"respect_dnt": False})
    assert partial.json() == {**body, "respect_dnt": False}
    stored = (await client.get("/api/v1/privacy/settings", headers=site["admin"])).json()
    assert stored == {**body, "respect_dnt": False}


async def test_the_admin_token_names_the_project(client, site):
    got = await client.get(f"/api/v1/privacy/settings?project_id={site['id']}", headers=ADMIN)
    assert got.status_code == 200 and got.json() == DEFAULTS
    query_key = await create_key(client, site["id"], "query")
    refused = await client.get("/api/v1/privacy/settings", headers=key_header(query_key["key"]))
    assert refused.status_code == 403


@pytest.mark.parametrize(("body", "message"), [
    ({"anonymize_ip": "yes"}, "Invalid request body: field 'anonymize_ip' must be true or false."),
    ({"track_everything": True}, "Invalid request body: unknown field 'track_everything'"),
    ({"allowed_consent_modes": "analytics"}, "Invalid request body: field 'allowed_consent_modes' must be a list"),
    ({"blocked_user_agents": [""]}, "Invalid request body: field 'blocked_user_agents' must be a list"),
])
async def test_invalid_updates_change_nothing(client, site, body, message):
    response = await put(client, site, body)
    assert response.status_code == 400 and response.json()["error"].startswith(message)
    assert (await client.get("/api/v1/privacy/settings", headers=site["admin"])).json() == DEFAULTS


async def test_graphql_privacy_settings(client, site):
    query = "{ privacySettings { anonymizeIp respectDnt consentRequired allowedConsentModes } }"
    data = (await gql(client, query, headers=site["admin"]))["data"]["privacySettings"]
    assert data == {"anonymizeIp": True, "respectDnt": True, "consentRequired": False,
                    "allowedConsentModes": ["analytics"]}
    mutation = ('mutation { updatePrivacySettings(input: {consentRequired: true, blockedUserAgents: ["bot-x"]}) '
                '{ consentRequired blockedUserAgents respectDnt } }')
    updated = (await gql(client, mutation, headers=site["admin"]))["data"]["updatePrivacySettings"]
    assert updated == {"consentRequired": True, "blockedUserAgents": ["bot-x"], "respectDnt": True}
    rest = (await client.get("/api/v1/privacy/settings", headers=site["admin"])).json()
    assert rest["consent_required"] is True and rest["blocked_user_agents"] == ["bot-x"]
    bad = await gql(client, 'mutation { updatePrivacySettings(input: {allowedConsentModes: ["Bad Mode"]}) '
                            '{ consentRequired } }', headers=site["admin"])
    assert gql_error(bad)[1] == "BAD_REQUEST"


@pytest.mark.parametrize("header", ["DNT", "Sec-GPC"])
async def test_do_not_track_and_global_privacy_control(client, app, site, header):
    response = await client.post("/api/collect", json=PAGEVIEW, headers={**site["ingest"], header: "1"})
    assert response.status_code == 200 and response.json() == {"ok": True, "dropped": "dnt"}
    assert await pageviews(app, site) == 0
    await put(client, site, {"respect_dnt": False})
    await client.post("/api/collect", json=PAGEVIEW, headers={**site["ingest"], header: "1"})
    assert await pageviews(app, site) == 1


async def test_consent_required(client, app, site):
    await put(client, site, {"consent_required": True, "allowed_consent_modes": ["analytics"]})
    for body in (PAGEVIEW, {"type": "pageview", "path": "/", "consent_granted": False},
                 {"type": "pageview", "path": "/", "consent_granted": "true", "consent_mode": "marketing"}):
        assert (await client.post("/api/collect", json=body, headers=site["ingest"])).status_code == 200
    assert await pageviews(app, site) == 0
    granted = {"type": "pageview", "path": "/", "consent_granted": "true", "consent_mode": "analytics"}
    await client.post("/api/collect", json=granted, headers=site["ingest"])
    assert await pageviews(app, site) == 1


async def test_blocked_user_agents(client, app, site):
    await put(client, site, {"blocked_user_agents": ["Synthetic-Monitor"]})
    agent = CHROME + " synthetic-monitor/1.0"
    await client.post("/api/collect", json=PAGEVIEW, headers={**site["ingest"], "User-Agent": agent})
    assert await pageviews(app, site) == 0


async def test_blocked_user_agents_apply_to_a_forwarded_agent(client, app, site):
    await put(client, site, {"blocked_user_agents": ["Synthetic-Monitor"]})
    server = {**site["ingest"], "User-Agent": "pulse-analytics-node/1.0.0"}
    batch = [{"type": "pageview", "path": "/", "visitor_id": "v1", "user_agent": CHROME + " synthetic-monitor/1.0"},
             {"type": "pageview", "path": "/", "visitor_id": "v2", "user_agent": CHROME}]
    assert (await client.post("/api/collect", json=batch, headers=server)).json()["accepted"] == 1
    assert await pageviews(app, site) == 1


async def test_bot_filtering_can_be_turned_off(client, app, site):
    await client.post("/api/collect", json=PAGEVIEW, headers={**site["ingest"], "User-Agent": GOOGLEBOT})
    assert await pageviews(app, site) == 0
    await put(client, site, {"bot_filtering": False})
    await client.post("/api/collect", json=PAGEVIEW, headers={**site["ingest"], "User-Agent": GOOGLEBOT})
    assert await pageviews(app, site) == 1
    device = await rows(app, "SELECT device FROM pageviews WHERE project_id = :p", p=site["id"])
    assert device == [{"device": "Bot"}]


async def test_the_raw_ip_is_never_stored(client, app, site):
    await client.post("/api/collect", json=PAGEVIEW, headers=site["ingest"])
    await drain(app)
    dump = await rows(app, "SELECT row_to_json(p)::text AS row FROM pageviews p WHERE project_id = :p", p=site["id"])
    visitors = await rows(app, "SELECT visitor_id FROM visitors WHERE project_id = :p", p=site["id"])
    assert "127.0.0.1" not in dump[0]["row"] and "127.0.0.1" not in visitors[0]["visitor_id"]
