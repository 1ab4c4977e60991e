"""A small known identity dataset, sent through POST /api/collect.

Two days (D1, D2), desktop Chrome from a US address:

  D1 10:00  v1 identify user u1 {plan: pro, name: Ada}, account acme {tier: gold} as admin;
            pageviews / (10:00) and /pricing (10:02), event purchase 49.99 USD (10:03)
  D1 11:00  v4 anonymous identify {email: ann@example.test}; pageview / (11:00)
  D2 09:00  v2 identify user u1 {plan: team}, account acme as member; pageview /docs, event signup (09:01)
  D2 12:00  v3 identify user u2 {plan: free}, account globex {tier: silver}; pageview /, event purchase 10 EUR
  D2 13:00  v5 pageview only (no profile)

So acme has members v1 and v2 (one user, u1): over D1..D2 two sessions, 3 pageviews, 2 events, 49.99 USD.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx

from tests.helpers import CHROME, create_key, create_project, drain, key_header, make_app, serving

D1 = (datetime.now(UTC) - timedelta(days=3)).replace(hour=0, minute=0, second=0, microsecond=0)
D2 = D1 + timedelta(days=1)
RANGE = {"start_at": D1.date().isoformat(), "end_at": D2.date().isoformat()}


def at(day: datetime, hour: int, minute: int = 0) -> str:
    return (day + timedelta(hours=hour, minutes=minute)).isoformat()


def z(day: datetime, hour: int, minute: int = 0) -> str:
    """The API's form of the same instant."""
    return (day + timedelta(hours=hour, minutes=minute)).strftime("%Y-%m-%dT%H:%M:%SZ")


def identify(visitor: str, when: str, **payload) -> dict:
    return {"type": "identify", "visitor_id": visitor, "timestamp": when, "payload": payload}


SENDS = [
    identify("v1", at(D1, 10), user_id="u1", traits={"plan": "pro", "name": "Ada"},
             account={"id": "acme", "traits": {"tier": "gold"}, "role": "admin"}),
    {"type": "pageview", "visitor_id": "v1", "path": "/", "timestamp": at(D1, 10)},
    {"type": "pageview", "visitor_id": "v1", "path": "/pricing", "timestamp": at(D1, 10, 2)},
    {"type": "event", "visitor_id": "v1", "name": "purchase", "revenue_amount": 49.99, "revenue_currency": "USD",
     "timestamp": at(D1, 10, 3)},
    identify("v4", at(D1, 11), traits={"email": "ann@example.test"}),
    {"type": "pageview", "visitor_id": "v4", "path": "/", "timestamp": at(D1, 11)},
    identify("v2", at(D2, 9), user_id="u1", traits={"plan": "team"}, account_id="acme", account_role="member"),
    {"type": "pageview", "visitor_id": "v2", "path": "/docs", "timestamp": at(D2, 9)},
    {"type": "event", "visitor_id": "v2", "name": "signup", "timestamp": at(D2, 9, 1)},
    identify("v3", at(D2, 12), user_id="u2", traits={"plan": "free"},
             account={"id": "globex", "traits": {"tier": "silver"}}),
    {"type": "pageview", "visitor_id": "v3", "path": "/", "timestamp": at(D2, 12)},
    {"type": "event", "visitor_id": "v3", "name": "purchase", "revenue_amount": 10, "revenue_currency": "EUR",
     "timestamp": at(D2, 12, 1)},
    {"type": "pageview", "visitor_id": "v5", "path": "/", "timestamp": at(D2, 13)},
]
# Another project using the same ids: none of it may show in the first.
OTHER_SENDS = [
    identify("v1", at(D1, 8), user_id="u1", traits={"plan": "other"}, account={"id": "acme", "traits": {"x": 1}}),
    identify("v9", at(D1, 8), user_id="u9", account_id="initech"),
    {"type": "pageview", "visitor_id": "v1", "path": "/other", "timestamp": at(D1, 8)},
]


async def _project(c: httpx.AsyncClient, name: str, sends: list[dict]) -> dict:
    project = await create_project(c, name, f"{name.lower()}.test")
    ingest = key_header((await create_key(c, project["id"], "ingest"))["key"])
    query = key_header((await create_key(c, project["id"], "query"))["key"])
    for body in sends:
        response = await c.post("/api/collect", json=body, headers={**ingest, "User-Agent": CHROME})
        assert response.status_code == 200, response.text
    return {"project": project, "ingest": ingest, "query": query}


@asynccontextmanager
async def identity_dataset(settings) -> AsyncIterator[dict]:
    app = make_app(settings)
    async with serving(app) as _:
        transport = httpx.ASGITransport(app=app, client=("8.8.8.8", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://pulse.test") as c:
            main = await _project(c, "People", SENDS)
            other = await _project(c, "Others", OTHER_SENDS)
            await drain(app)
            yield {**main, "other": other, "client": c, "app": app}
