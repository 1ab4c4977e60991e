"""Projects through /api/admin and GraphQL."""

from __future__ import annotations

import re

from tests.helpers import ADMIN, create_key, create_project, gql, gql_error, key_header

ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


async def test_create_project_returns_the_documented_shape(client):
    response = await client.post("/api/admin/projects", json={"name": "My SaaS App", "domain": "app.example.com"},
                                 headers=ADMIN)
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "name", "domain", "created_at"}
    assert body["name"] == "My SaaS App" and body["domain"] == "app.example.com"
    assert ISO.match(body["created_at"])


async def test_domain_is_normalized_from_a_url(client):
    project = await create_project(client, "Shop", "https://Shop.Example.com/")
    assert project["domain"] == "shop.example.com"


async def test_list_and_get_projects(client):
    created = await create_project(client, "Listed", "listed.test")
    listed = (await client.get("/api/admin/projects", headers=ADMIN)).json()
    assert created in listed["data"]
    one = await client.get(f"/api/admin/projects/{created['id']}", headers=ADMIN)
    assert one.status_code == 200 and one.json() == created


async def test_unknown_project_is_404(client):
    for project_id in ("00000000-0000-0000-0000-000000000000", "not-a-uuid"):
        response = await client.get(f"/api/admin/projects/{project_id}", headers=ADMIN)
        assert response.status_code == 404
        assert response.json() == {"error": f"Project '{project_id}' not found."}


async def test_invalid_bodies_are_400_and_store_nothing(client):
    before = len((await client.get("/api/admin/projects", headers=ADMIN)).json()["data"])
    cases = [
        ({"name": "No domain"}, "Invalid request body: missing required field 'domain'."),
        ({"domain": "x.test"}, "Invalid request body: missing required field 'name'."),
        ({"name": "", "domain": "x.test"}, "Invalid request body: 'name' must not be empty."),
        ({"name": "Bad", "domain": "not a domain"},
         "Invalid request body: 'domain' must be a hostname such as 'app.example.com', got 'not a domain'."),
        ({"name": "Extra", "domain": "x.test", "owner": "me"}, None),
    ]
    for body, message in cases:
        response = await client.post("/api/admin/projects", json=body, headers=ADMIN)
        assert response.status_code == 400, body
        assert set(response.json()) == {"error"}
        if message:
            assert response.json()["error"] == message
    malformed = await client.post("/api/admin/projects", content=b"{not json", headers={
        **ADMIN, "Content-Type": "application/json"})
    assert malformed.status_code == 400 and "error" in malformed.json()
    after = len((await client.get("/api/admin/projects", headers=ADMIN)).json()["data"])
    assert after == before


async def test_admin_routes_need_the_admin_token(client):
    project = await create_project(client)
    missing = await client.get("/api/admin/projects")
    assert missing.status_code == 401
    assert missing.json() == {"error": "Missing admin token. Provide it via Authorization: Bearer <PULSE_ADMIN_TOKEN>."}
    wrong = await client.get("/api/admin/projects", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.json() == {"error": "Invalid admin token."}
    key = await create_key(client, project["id"], "admin")
    as_key = await client.get("/api/admin/projects", headers=key_header(key["key"]))
    assert as_key.status_code == 403
    assert as_key.json() == {"error": "This endpoint requires the admin token."}
    creating = await client.post("/api/admin/projects", json={"name": "x", "domain": "x.test"},
                                 headers=key_header(key["key"]))
    assert creating.status_code == 403


async def test_graphql_projects(client):
    created = (await gql(client, 'mutation { createProject(name: "Graph", domain: "graph.test") '
                                 '{ id name domain createdAt } }', headers=ADMIN))["data"]["createProject"]
    assert created["name"] == "Graph" and created["domain"] == "graph.test"
    listed = (await gql(client, "{ projects { id name } }", headers=ADMIN))["data"]["projects"]
    assert {"id": created["id"], "name": "Graph"} in listed
    one = (await gql(client, "query($id: ID) { project(id: $id) { id domain } }", {"id": created["id"]},
                     headers=ADMIN))["data"]["project"]
    assert one == {"id": created["id"], "domain": "graph.test"}
    rest = (await client.get(f"/api/admin/projects/{created['id']}", headers=ADMIN)).json()
    assert rest["name"] == "Graph" and rest["id"] == created["id"]


async def test_graphql_project_errors_match_rest(client):
    message, code = gql_error(await gql(client, "{ projects { id } }"))
    assert (message, code) == ("Missing admin token. Provide it via Authorization: Bearer <PULSE_ADMIN_TOKEN>.",
                               "UNAUTHENTICATED")
    message, code = gql_error(await gql(client, 'mutation { createProject(name: "", domain: "x.test") { id } }',
                                        headers=ADMIN))
    assert (message, code) == ("Invalid request body: 'name' must not be empty.", "BAD_REQUEST")
    missing = "00000000-0000-0000-0000-000000000000"
    message, code = gql_error(await gql(client, "query($id: ID) { project(id: $id) { id } }", {"id": missing},
                                        headers=ADMIN))
    assert (message, code) == (f"Project '{missing}' not found.", "NOT_FOUND")


async def test_a_key_reads_its_own_project_in_graphql(client):
    project = await create_project(client, "Mine", "mine.test")
    key = await create_key(client, project["id"], "query")
    data = (await gql(client, "{ project { id name } }", headers=key_header(key["key"])))["data"]
    assert data["project"] == {"id": project["id"], "name": "Mine"}


async def test_a_project_has_a_time_zone(client):
    berlin = await client.post("/api/admin/projects", headers=ADMIN,
                               json={"name": "Berlin", "domain": "berlin.test", "timezone": "Europe/Berlin"})
    assert berlin.status_code == 201 and set(berlin.json()) == {"id", "name", "domain", "created_at"}
    shown = await gql(client, "query($id: ID) { project(id: $id) { timezone } }", {"id": berlin.json()["id"]},
                      headers=ADMIN)
    assert shown["data"]["project"] == {"timezone": "Europe/Berlin"}
    bad = await client.post("/api/admin/projects", headers=ADMIN,
                            json={"name": "Nowhere", "domain": "nowhere.test", "timezone": "Mars/Olympus"})
    assert bad.status_code == 400
    assert bad.json() == {"error": "Invalid request body: unknown time zone 'Mars/Olympus' "
                                   "(expected an IANA name such as 'Europe/Berlin')."}
