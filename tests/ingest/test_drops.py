"""Payloads dropped on purpose answer 200 and say why (`dropped`), and are counted by reason in /metrics;
a pageview must name its page."""

from __future__ import annotations

import re

import pytest

from pulse.ingest.service import DROP_REASONS
from tests.helpers import CHROME, GOOGLEBOT, create_key, drain, key_header, rows

PAGEVIEW = {"type": "pageview", "path": "/pricing"}
CURL = "curl/8.5.0"


async def put_privacy(client, site, **settings) -> None:
    admin = key_header((await create_key(client, site["id"], "admin"))["key"])
    response = await client.put("/api/v1/privacy/settings", json=settings, headers=admin)
    assert response.status_code == 200, response.text


async def dropped_counts(client) -> dict[str, float]:
    """pulse_ingest_dropped_total by reason, as /metrics shows it (this process's registry)."""
    text = (await client.get("/metrics")).text
    return {m[1]: float(m[2]) for m in re.finditer(r'^pulse_ingest_dropped_total\{reason="(\w+)"\} (\S+)$', text, re.M)}


async def pageviews(app, site) -> list[str]:
    await drain(app)
    return [r["path"] for r in await rows(app, "SELECT path FROM pageviews WHERE project_id = :p ORDER BY ts",
                                          p=site["id"])]


async def collect(client, site, body, **headers):
    return await client.post("/api/collect", json=body, headers={**site["headers"], **headers})


async def test_the_readme_curl_without_a_browser_agent_is_dropped_as_a_bot_and_says_so(client, app, site):
    before = await dropped_counts(client)
    response = await collect(client, site, PAGEVIEW, **{"User-Agent": CURL})
    assert response.status_code == 200 and response.json() == {"ok": True, "dropped": "bot"}
    assert await pageviews(app, site) == []
    assert (await dropped_counts(client))["bot"] == before["bot"] + 1
    stored = await collect(client, site, PAGEVIEW)  # the same with a browser's agent
    assert stored.status_code == 200 and stored.json() == {"ok": True}
    assert await pageviews(app, site) == ["/pricing"]


async def test_every_reason_shows_in_metrics_from_zero(client):
    counts = await dropped_counts(client)
    assert set(counts) == set(DROP_REASONS) == {"dnt", "blocked_agent", "bot", "consent"}


@pytest.mark.parametrize("header", ["DNT", "Sec-GPC"])
async def test_do_not_track(client, app, site, header):
    before = await dropped_counts(client)
    response = await collect(client, site, PAGEVIEW, **{header: "1"})
    assert response.status_code == 200 and response.json() == {"ok": True, "dropped": "dnt"}
    assert await pageviews(app, site) == []
    assert (await dropped_counts(client))["dnt"] == before["dnt"] + 1


async def test_consent(client, app, site):
    await put_privacy(client, site, consent_required=True)
    before = await dropped_counts(client)
    for body in (PAGEVIEW, {**PAGEVIEW, "consent_granted": False},
                 {**PAGEVIEW, "consent_granted": True, "consent_mode": "marketing"}):
        response = await collect(client, site, body)
        assert response.status_code == 200 and response.json() == {"ok": True, "dropped": "consent"}
    granted = await collect(client, site, {**PAGEVIEW, "consent_granted": True})
    assert granted.json() == {"ok": True}
    assert await pageviews(app, site) == ["/pricing"]
    assert (await dropped_counts(client))["consent"] == before["consent"] + 3


async def test_blocked_agent_in_the_header_or_forwarded(client, app, site):
    await put_privacy(client, site, blocked_user_agents=["synthetic-monitor"])
    before = await dropped_counts(client)
    header = await collect(client, site, PAGEVIEW, **{"User-Agent": CHROME + " Synthetic-Monitor/1.0"})
    assert header.json() == {"ok": True, "dropped": "blocked_agent"}
    forwarded = await collect(client, site, {**PAGEVIEW, "visitor_id": "v1", "user_agent": "synthetic-monitor/2"},
                              **{"User-Agent": "pulse-analytics-node/1.0.0"})
    assert forwarded.json() == {"ok": True, "dropped": "blocked_agent"}
    assert await pageviews(app, site) == []
    assert (await dropped_counts(client))["blocked_agent"] == before["blocked_agent"] + 2


async def test_a_rule_turned_off_drops_nothing(client, app, site):
    await put_privacy(client, site, bot_filtering=False, respect_dnt=False)
    assert (await collect(client, site, PAGEVIEW, **{"User-Agent": GOOGLEBOT})).json() == {"ok": True}
    assert (await collect(client, site, PAGEVIEW, DNT="1")).json() == {"ok": True}
    assert await pageviews(app, site) == ["/pricing", "/pricing"]


async def test_a_batch_counts_its_drops_by_reason(client, app, site):
    await put_privacy(client, site, consent_required=True, blocked_user_agents=["synthetic-monitor"])
    granted = {"consent_granted": True}
    before = await dropped_counts(client)
    response = await collect(client, site, [
        {**PAGEVIEW, **granted, "visitor_id": "v1", "user_agent": CHROME},
        {**PAGEVIEW, **granted, "visitor_id": "v2", "user_agent": GOOGLEBOT},
        {**PAGEVIEW, **granted, "visitor_id": "v3", "user_agent": "Mozilla/5.0 (compatible; bingbot/2.0)"},
        {**PAGEVIEW, "visitor_id": "v4", "user_agent": CHROME},
        {**PAGEVIEW, **granted, "visitor_id": "v5", "user_agent": CHROME + " synthetic-monitor"},
        {"type": "pageview"},
    ], **{"User-Agent": "pulse-analytics-node/1.0.0"})
    assert response.status_code == 200
    assert response.json() == {
        "ok": True, "accepted": 1,
        "errors": [{"index": 5, "error": "Invalid request body: missing required field 'path' or 'url'."}],
        "dropped": {"bot": 2, "consent": 1, "blocked_agent": 1}}
    assert await pageviews(app, site) == ["/pricing"]
    after = await dropped_counts(client)
    assert {r: after[r] - before[r] for r in DROP_REASONS} == {"dnt": 0, "blocked_agent": 1, "bot": 2, "consent": 1}


async def test_a_batch_dropped_whole_counts_every_valid_item(client, app, site):
    response = await collect(client, site, [PAGEVIEW, PAGEVIEW, {"type": "nope"}], DNT="1")
    assert response.json()["accepted"] == 0 and response.json()["dropped"] == {"dnt": 2}
    assert len(response.json()["errors"]) == 1


async def test_a_batch_with_nothing_dropped_keeps_its_answer(client, site):
    response = await collect(client, site, [PAGEVIEW, {**PAGEVIEW, "path": "/about"}])
    assert response.json() == {"ok": True, "accepted": 2, "errors": []}


# --------------------------------------------------------------------------------------------
# A pageview names its page


@pytest.mark.parametrize("body", [{"type": "pageview"}, {"type": "pageview", "path": "", "url": ""},
                                  {"type": "pageview", "visitor_id": "v", "payload": {"title": "Pricing"}}])
async def test_a_pageview_without_path_or_url_is_refused(client, app, site, body):
    await drain(app)
    response = await collect(client, site, body)
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid request body: missing required field 'path' or 'url'."}
    assert await drain(app) == 0


async def test_a_pageview_url_gives_its_path(client, app, site):
    response = await collect(client, site, {"type": "pageview", "url": "https://acme.test/docs?x=1"})
    assert response.json() == {"ok": True}
    assert await pageviews(app, site) == ["/docs"]


async def test_a_screen_still_needs_its_name(client, site):
    response = await collect(client, site, {"type": "screen", "visitor_id": "device-1"})
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid request body: missing required field 'name'."}


async def test_a_refused_pageview_is_checked_before_the_privacy_rules(client, site):
    """Validation runs first, so a client sending bad payloads learns it even from a dropped request."""
    response = await collect(client, site, {"type": "pageview"}, **{"User-Agent": CURL})
    assert response.status_code == 400
