"""A small known campaign dataset, shared by the utm and exports tests.

Five visitors, six sessions over two days (D1, D2), all desktop Chrome from a US address:

  D1  a  10:00 /  google/cpc/spring_sale, 10:02 /pricing, event 'signup, "beta"' at 10:02
      b  11:00 /  newsletter/email/spring_sale (bounce)
      e  11:30 /landing  google/cpc/spring_sale (bounce), event "=1+2" at 11:30
  D2  c  09:00 /  Google/cpc/product_launch (bounce; the source is stored lowercased)
      a  12:00 /docs, no tags (bounce, direct)
      d  13:00 /  tags in the page URL: twitter/social/product_launch, 13:01 /pricing, 13:03 /docs

So: spring_sale has visitors a, b, e, 4 pageviews, 3 sessions, 2 bounces, 120 s in all;
product_launch has c, d, 4 pageviews, 2 sessions, 1 bounce, 180 s.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx

from tests.helpers import ADMIN, CHROME, create_key, drain, key_header, make_app, serving

D1 = (datetime.now(UTC) - timedelta(days=3)).replace(hour=0, minute=0, second=0, microsecond=0)
D2 = D1 + timedelta(days=1)
D0 = D1 - timedelta(days=1)
RANGE = {"start_at": D1.date().isoformat(), "end_at": D2.date().isoformat()}


def at(day: datetime, hour: int, minute: int = 0) -> str:
    return (day + timedelta(hours=hour, minutes=minute)).isoformat()


def tagged(source: str, medium: str, campaign: str) -> dict:
    return {"utm_source": source, "utm_medium": medium, "utm_campaign": campaign}


SENDS = [
    {"type": "pageview", "visitor_id": "a", "path": "/", "timestamp": at(D1, 10),
     **tagged("google", "cpc", "spring_sale")},
    {"type": "pageview", "visitor_id": "a", "path": "/pricing", "timestamp": at(D1, 10, 2)},
    {"type": "event", "visitor_id": "a", "name": 'signup, "beta"', "timestamp": at(D1, 10, 2)},
    {"type": "pageview", "visitor_id": "b", "path": "/", "timestamp": at(D1, 11),
     **tagged("newsletter", "email", "spring_sale")},
    {"type": "pageview", "visitor_id": "e", "path": "/landing", "timestamp": at(D1, 11, 30),
     **tagged("google", "cpc", "spring_sale")},
    {"type": "event", "visitor_id": "e", "name": "=1+2", "timestamp": at(D1, 11, 30)},
    {"type": "pageview", "visitor_id": "c", "path": "/", "timestamp": at(D2, 9),
     **tagged("Google", "cpc", "product_launch")},
    {"type": "pageview", "visitor_id": "a", "path": "/docs", "timestamp": at(D2, 12)},
    {"type": "pageview", "visitor_id": "d", "path": "/", "timestamp": at(D2, 13),
     "url": "https://utm.test/?utm_source=Twitter&utm_medium=social&utm_campaign=product_launch"},
    {"type": "pageview", "visitor_id": "d", "path": "/pricing", "timestamp": at(D2, 13, 1)},
    {"type": "pageview", "visitor_id": "d", "path": "/docs", "timestamp": at(D2, 13, 3)},
]


async def new_project(c: httpx.AsyncClient, name: str) -> tuple[dict, dict]:
    """A project and the headers of a query key for it."""
    response = await c.post("/api/admin/projects", json={"name": name, "domain": f"{name.lower()}.test"},
                            headers=ADMIN)
    assert response.status_code == 201, response.text
    project = response.json()
    return project, key_header((await create_key(c, project["id"], "query"))["key"])


@asynccontextmanager
async def campaign_dataset(settings) -> AsyncIterator[dict]:
    app = make_app(settings)
    async with serving(app) as _:
        transport = httpx.ASGITransport(app=app, client=("8.8.8.8", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://pulse.test") as c:
            project, query = await new_project(c, "Campaigns")
            ingest = {**key_header((await create_key(c, project["id"], "ingest"))["key"]), "User-Agent": CHROME}
            for body in SENDS:
                response = await c.post("/api/collect", json=body, headers=ingest)
                assert response.status_code == 200, response.text
            await drain(app)
            yield {"project": project, "query": query, "client": c, "app": app}
