"""Two app instances sharing PostgreSQL and Redis, as two API processes would."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio

from tests.helpers import ADMIN, create_key, create_project, gql, gql_error, key_header, make_app, serving


@pytest_asyncio.fixture(scope="module")
async def other(settings) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(make_app(settings)) as c:
        yield c


async def test_revoking_on_one_instance_stops_the_key_on_the_other_at_once(client, other):
    project = await create_project(client)
    key = await create_key(client, project["id"], "query")
    headers = key_header(key["key"])
    for _ in range(3):  # the other instance has the key cached
        assert (await gql(other, "{ project { id } }", headers=headers))["data"]["project"]["id"] == project["id"]
    revoked = await client.delete(f"/api/admin/projects/{project['id']}/keys/{key['id']}", headers=ADMIN)
    assert revoked.status_code == 204
    assert gql_error(await gql(other, "{ project { id } }", headers=headers)) == (
        "Invalid API key.", "UNAUTHENTICATED")


async def test_a_module_change_on_one_instance_applies_on_the_other_at_once(client, other):
    project = await create_project(client)
    key = await create_key(client, project["id"], "admin")
    headers = key_header(key["key"])
    path = f"/api/admin/projects/{project['id']}/modules"
    assert (await other.get(path, headers=headers)).status_code == 200
    await client.put(f"{path}/core/access", json={"access": "write"}, headers=ADMIN)
    assert gql_error(await gql(other, "{ project { id } }", headers=headers)) == (
        "Module 'core' does not allow read access for this project.", "FORBIDDEN")
    await client.put(f"{path}/core/access", json={"access": "all"}, headers=headers)
    assert (await gql(other, "{ project { id } }", headers=headers))["data"]["project"]["id"] == project["id"]
