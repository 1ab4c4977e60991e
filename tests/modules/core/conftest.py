"""The core reports' known dataset as a module-scoped fixture."""

from __future__ import annotations

import httpx
import pytest_asyncio

from tests.helpers import ADMIN, CHROME, IPHONE, create_key, drain, key_header, make_app, serving
from tests.modules.core.dataset import D1, D2, at


@pytest_asyncio.fixture(scope="module")
async def dataset(settings):
    """Three visitors, four sessions over two days, seen from a US address."""
    app = make_app(settings)
    async with serving(app) as _:
        transport = httpx.ASGITransport(app=app, client=("8.8.8.8", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://pulse.test") as c:
            project = (await c.post("/api/admin/projects", json={"name": "Reports", "domain": "reports.test"},
                                    headers=ADMIN)).json()
            ingest = (await create_key(c, project["id"], "ingest"))["key"]
            query = (await create_key(c, project["id"], "query"))["key"]
            desktop = {**key_header(ingest), "User-Agent": CHROME}
            phone = {**key_header(ingest), "User-Agent": IPHONE}
            sends = [
                (desktop, {"type": "pageview", "visitor_id": "a", "path": "/", "timestamp": at(D1, 10),
                           "referrer": "https://www.google.com/"}),
                (desktop, {"type": "pageview", "visitor_id": "a", "path": "/pricing", "timestamp": at(D1, 10, 2)}),
                (desktop, {"type": "event", "visitor_id": "a", "name": "signup", "timestamp": at(D1, 10, 3)}),
                (phone, {"type": "pageview", "visitor_id": "b", "path": "/", "timestamp": at(D1, 11)}),
                (desktop, {"type": "pageview", "visitor_id": "a", "path": "/docs", "timestamp": at(D2, 9)}),
                (desktop, {"type": "pageview", "visitor_id": "c", "path": "/pricing", "timestamp": at(D2, 12),
                           "referrer": "https://twitter.com/somebody"}),
                (desktop, {"type": "event", "visitor_id": "c", "name": "purchase", "revenue_amount": 49.99,
                           "timestamp": at(D2, 12, 1)}),
                (desktop, {"type": "pageview", "visitor_id": "d", "path": "/now"}),  # today: realtime only
            ]
            for headers, body in sends:
                assert (await c.post("/api/collect", json=body, headers=headers)).status_code == 200
            await drain(app)
            yield {"project": project, "query": key_header(query), "client": c}
