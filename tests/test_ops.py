"""Health, readiness, metrics, CORS and the JSON error envelope."""

from __future__ import annotations

from tests.helpers import ADMIN, make_app, serving


async def test_healthz(client):
    response = await client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_readyz_checks_database_and_redis(client):
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "redis": "ok"},
                               "dead_letters": {"total": 0, "by_shard": {"0": 0, "1": 0}}}


async def test_readyz_reports_an_unreachable_redis(settings):
    async with serving(make_app(settings, redis_url="redis://127.0.0.1:1/0")) as c:
        response = await c.get("/readyz")
        assert response.status_code == 503
        assert response.json() == {"status": "unavailable", "checks": {"database": "ok", "redis": "unreachable"}}
        # Authenticated requests need Redis (rate limits, revocation): 503 with Retry-After, not a guess.
        refused = await c.get("/api/admin/projects", headers=ADMIN)
        assert refused.status_code == 503 and refused.headers["Retry-After"] == "1"
        assert refused.json() == {"error": "Service temporarily unavailable: Redis is unreachable."}


async def test_metrics_count_requests_by_route(client):
    await client.get("/api/admin/projects", headers=ADMIN)
    body = (await client.get("/metrics")).text
    assert 'pulse_http_requests_total{method="GET",route="/api/admin/projects",status="200"}' in body
    assert "pulse_http_request_duration_seconds_bucket" in body


async def test_unknown_routes_and_methods_answer_json(client):
    missing = await client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.json() == {"error": "Not found."}
    method = await client.delete("/api/admin/projects", headers=ADMIN)
    assert method.status_code == 405 and method.json() == {"error": "Method not allowed."}


async def test_cors_allows_configured_origins_only(settings):
    async with serving(make_app(settings, allowed_origins=["https://dash.example.com"])) as c:
        preflight = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "x-pulse-key"}
        ok = await c.options("/graphql", headers={"Origin": "https://dash.example.com", **preflight})
        assert ok.status_code == 200
        assert ok.headers["access-control-allow-origin"] == "https://dash.example.com"
        denied = await c.options("/graphql", headers={"Origin": "https://evil.example", **preflight})
        assert "access-control-allow-origin" not in denied.headers
        # The tracking paths are called from customers' own sites, whatever ALLOWED_ORIGINS says.
        site = {"Origin": "https://acme.test", "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type,x-pulse-key"}
        collect = await c.options("/api/collect", headers=site)
        assert collect.status_code == 200 and collect.headers["access-control-allow-origin"] == "*"
