"""A small known dataset for the core reports: three visitors, four sessions, two days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

D1 = (datetime.now(UTC) - timedelta(days=3)).replace(hour=0, minute=0, second=0, microsecond=0)
D2 = D1 + timedelta(days=1)
RANGE = {"start_at": D1.date().isoformat(), "end_at": D2.date().isoformat()}


def at(day: datetime, hour: int, minute: int = 0) -> str:
    return (day + timedelta(hours=hour, minutes=minute)).isoformat()


async def rest(dataset, path: str, **params) -> dict:
    response = await dataset["client"].get(path, params={**RANGE, **params}, headers=dataset["query"])
    assert response.status_code == 200, response.text
    return response.json()
