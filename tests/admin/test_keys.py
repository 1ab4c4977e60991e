"""API keys: creation, masking, hashing, expiry, revocation and last use."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from tests.helpers import ADMIN, create_key, create_project, gql, gql_error, key_header

KEY = re.compile(r"^pa_live_[A-Za-z0-9]{24}$")


async def test_create_key_returns_the_value_once(client):
    project = await create_project(client)
    response = await client.post(f"/api/admin/projects/{project['id']}/keys", headers=ADMIN, json={
        "name": "Production Ingest", "scopes": ["ingest"], "expires_at": "2099-01-01T00:00:00Z",
        "allowed_modules": None})
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "key", "name", "scopes", "allowed_modules", "expires_at", "created_at"}
    assert KEY.match(body["key"])
    assert body["scopes"] == ["ingest"] and body["allowed_modules"] is None
    assert body["expires_at"] == "2099-01-01T00:00:00Z"

    listed = (await client.get(f"/api/admin/projects/{project['id']}/keys", headers=ADMIN)).json()["data"]
    assert len(listed) == 1
    entry = listed[0]
    assert set(entry) == {"id", "name", "key_prefix", "scopes", "allowed_modules", "expires_at", "created_at",
                          "last_used_at"}
    assert entry["key_prefix"] == body["key"][:12] + "..."
    assert "key" not in entry and entry["last_used_at"] is None


async def test_keys_are_stored_hashed(client, app):
    project = await create_project(client)
    key = await create_key(client, project["id"], "query")
    async with app.state.runtime.engine.connect() as conn:
        row = (await conn.execute(text("SELECT * FROM api_keys WHERE id = :id"), {"id": key["id"]})).mappings().one()
    assert key["key"] not in {str(v) for v in row.values()}
    assert len(row["key_hash"]) == 64


async def test_key_validation(client):
    project = await create_project(client)
    url = f"/api/admin/projects/{project['id']}/keys"
    cases = [
        ({"name": "k"}, "Invalid request body: missing required field 'scopes'."),
        ({"name": "k", "scopes": []},
         "Invalid request body: 'scopes' must list at least one of ingest, query, admin."),
        ({"name": "k", "scopes": ["write"]},
         "Invalid request body: unknown scope 'write' (expected ingest, query or admin)."),
        ({"name": "k", "scopes": ["query"], "allowed_modules": ["nope"]},
         "Invalid request body: unknown module 'nope' in 'allowed_modules'."),
        ({"name": "k", "scopes": ["query"], "expires_at": "2001-01-01T00:00:00Z"},
         "Invalid request body: 'expires_at' must be in the future."),
    ]
    for body, message in cases:
        response = await client.post(url, json=body, headers=ADMIN)
        assert response.status_code == 400, body
        assert response.json() == {"error": message}
    bad_date = await client.post(url, json={"name": "k", "scopes": ["query"], "expires_at": "soon"}, headers=ADMIN)
    assert bad_date.status_code == 400 and "expires_at" in bad_date.json()["error"]
    assert (await client.get(url, headers=ADMIN)).json()["data"] == []


async def test_a_key_works_until_revoked(client):
    project = await create_project(client)
    key = await create_key(client, project["id"], "query")
    assert (await gql(client, "{ project { id } }", headers=key_header(key["key"])))["data"]
    revoke = await client.delete(f"/api/admin/projects/{project['id']}/keys/{key['id']}", headers=ADMIN)
    assert revoke.status_code == 204 and revoke.content == b""
    message, code = gql_error(await gql(client, "{ project { id } }", headers=key_header(key["key"])))
    assert (message, code) == ("Invalid API key.", "UNAUTHENTICATED")
    assert (await client.get(f"/api/admin/projects/{project['id']}/keys", headers=ADMIN)).json()["data"] == []
    again = await client.delete(f"/api/admin/projects/{project['id']}/keys/{key['id']}", headers=ADMIN)
    assert again.status_code == 404 and again.json() == {"error": f"API key '{key['id']}' not found."}


async def test_an_expired_key_is_refused(client, app):
    project = await create_project(client)
    key = await create_key(client, project["id"], "query")
    assert (await gql(client, "{ project { id } }", headers=key_header(key["key"])))["data"]
    # Expire it behind the API's back, as time passing would; the change shows once the cache
    # learns of it, which a module change (any access change) forces.
    async with app.state.runtime.engine.begin() as conn:
        await conn.execute(text("UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = :id"),
                           {"id": key["id"]})
    await client.post(f"/api/admin/projects/{project['id']}/modules/funnels/enable", headers=ADMIN)
    message, code = gql_error(await gql(client, "{ project { id } }", headers=key_header(key["key"])))
    assert (message, code) == ("API key has expired.", "UNAUTHENTICATED")


async def test_a_key_that_expires_while_cached_is_refused(client, app):
    project = await create_project(client)
    soon = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    key = await create_key(client, project["id"], "query", expires_at=soon)
    first = await gql(client, "{ project { id } }", headers=key_header(key["key"]))
    assert first["data"]
    import asyncio

    await asyncio.sleep(1.1)  # the expiry is a wall-clock instant; nothing else to poll
    message, _ = gql_error(await gql(client, "{ project { id } }", headers=key_header(key["key"])))
    assert message == "API key has expired."


async def test_last_used_at_is_recorded_without_a_write_per_request(client, app):
    from pulse.worker import flush_key_last_used

    project = await create_project(client)
    key = await create_key(client, project["id"], "query")
    await gql(client, "{ project { id } }", headers=key_header(key["key"]))
    listed = (await client.get(f"/api/admin/projects/{project['id']}/keys", headers=ADMIN)).json()["data"]
    assert listed[0]["last_used_at"] is not None
    async with app.state.runtime.engine.connect() as conn:
        stored = (await conn.execute(text("SELECT last_used_at FROM api_keys WHERE id = :id"),
                                     {"id": key["id"]})).scalar_one()
    assert stored is None  # only Redis knows so far
    await flush_key_last_used(app.state.runtime)
    async with app.state.runtime.engine.connect() as conn:
        stored = (await conn.execute(text("SELECT last_used_at FROM api_keys WHERE id = :id"),
                                     {"id": key["id"]})).scalar_one()
    assert stored is not None


async def test_graphql_key_management(client):
    project = await create_project(client)
    created = (await gql(client, """
        mutation($p: ID!) { createApiKey(projectId: $p, name: "CI", scopes: ["query"], allowedModules: ["funnels"]) {
          key apiKey { id name keyPrefix scopes allowedModules lastUsedAt } } }""",
                         {"p": project["id"]}, headers=ADMIN))["data"]["createApiKey"]
    assert KEY.match(created["key"])
    assert created["apiKey"]["keyPrefix"] == created["key"][:12] + "..."
    assert created["apiKey"]["allowedModules"] == ["funnels"]
    keys = (await gql(client, "query($p: ID) { project(id: $p) { keys { id name } } }", {"p": project["id"]},
                      headers=ADMIN))["data"]["project"]["keys"]
    assert keys == [{"id": created["apiKey"]["id"], "name": "CI"}]
    rest = (await client.get(f"/api/admin/projects/{project['id']}/keys", headers=ADMIN)).json()["data"]
    assert [k["id"] for k in rest] == [created["apiKey"]["id"]]
    revoked = await gql(client, "mutation($p: ID!, $k: ID!) { revokeApiKey(projectId: $p, keyId: $k) }",
                        {"p": project["id"], "k": created["apiKey"]["id"]}, headers=ADMIN)
    assert revoked["data"]["revokeApiKey"] is True
    assert (await client.get(f"/api/admin/projects/{project['id']}/keys", headers=ADMIN)).json()["data"] == []
    message, code = gql_error(await gql(
        client, "mutation($p: ID!, $k: ID!) { revokeApiKey(projectId: $p, keyId: $k) }",
        {"p": project["id"], "k": created["apiKey"]["id"]}, headers=ADMIN))
    assert code == "NOT_FOUND"


async def test_an_admin_scoped_key_manages_its_own_project_only(client):
    mine = await create_project(client, "Mine", "mine.test")
    theirs = await create_project(client, "Theirs", "theirs.test")
    admin_key = key_header((await create_key(client, mine["id"], "admin"))["key"])
    own = await client.post(f"/api/admin/projects/{mine['id']}/keys", json={"name": "x", "scopes": ["query"]},
                            headers=admin_key)
    assert own.status_code == 201
    for method, path, body in [
        ("GET", f"/api/admin/projects/{theirs['id']}", None),
        ("GET", f"/api/admin/projects/{theirs['id']}/keys", None),
        ("POST", f"/api/admin/projects/{theirs['id']}/keys", {"name": "x", "scopes": ["admin"]}),
        ("PUT", f"/api/admin/projects/{theirs['id']}/modules", {"modules": [{"name": "bi", "enabled": True}]}),
        ("POST", f"/api/admin/projects/{theirs['id']}/modules/heatmaps/enable", None),
    ]:
        response = await client.request(method, path, json=body, headers=admin_key)
        assert response.status_code == 404, (method, path)
        assert response.json() == {"error": f"Project '{theirs['id']}' not found."}
    assert (await client.get(f"/api/admin/projects/{theirs['id']}/keys", headers=ADMIN)).json()["data"] == []
    query_key = key_header((await create_key(client, mine["id"], "query"))["key"])
    refused = await client.get(f"/api/admin/projects/{mine['id']}/keys", headers=query_key)
    assert refused.status_code == 403
    assert refused.json() == {"error": "API key does not have the required 'admin' scope for this endpoint."}
