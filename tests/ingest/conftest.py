"""Fixtures for ingestion tests: a project with an ingest key."""

from __future__ import annotations

import pytest_asyncio

from tests.helpers import CHROME, create_key, create_project, key_header


@pytest_asyncio.fixture
async def site(client) -> dict:
    """A fresh project with an ingest key; `headers` send a desktop Chrome user agent."""
    project = await create_project(client, "Site", "acme.test")
    key = await create_key(client, project["id"], "ingest")
    return {"id": project["id"], "key": key["key"],
            "headers": {**key_header(key["key"]), "User-Agent": CHROME}}
