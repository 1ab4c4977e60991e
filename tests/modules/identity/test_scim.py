"""SCIM provisioning on the reference's routes (/api/v1/identity/scim/users and /groups) and on
GraphQL: shapes, the synced identity profile `scim:{id}`, members, scope, tenant isolation."""

from __future__ import annotations

import uuid

from tests.helpers import ADMIN, create_key, create_project, gql, gql_error, key_header, rows

USERS = "/api/v1/identity/scim/users"
GROUPS = "/api/v1/identity/scim/groups"
ALICE = {"user_name": "alice@example.com", "external_id": "idp_123", "active": True, "display_name": "Alice Example",
         "emails": [{"value": "alice@example.com", "primary": True}], "traits": {"department": "Engineering"}}


async def keys(client) -> tuple[dict, dict, dict]:
    """A project, its admin key's headers and its query key's headers."""
    project = await create_project(client)
    admin = await create_key(client, project["id"], "admin")
    query = await create_key(client, project["id"], "query")
    return project, key_header(admin["key"]), key_header(query["key"])


async def make_user(client, headers, **fields) -> dict:
    response = await client.post(USERS, json={**ALICE, **fields}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def test_create_answers_the_normalised_user(client):
    _, admin, _ = await keys(client)
    body = await make_user(client, admin, user_name="  Alice@Example.com ",
                           emails=[{"value": " Alice@Example.COM", "primary": True}, {"value": "a@work.test"}])
    assert set(body) == {"id", "user_name", "external_id", "active", "display_name", "name", "emails", "traits",
                         "visitor_id", "created_at", "updated_at"}
    assert uuid.UUID(body["id"])
    assert body["user_name"] == "Alice@Example.com"
    assert body["emails"] == [{"value": "alice@example.com", "primary": True},
                              {"value": "a@work.test", "primary": False}]
    assert (body["active"], body["traits"], body["visitor_id"]) == (True, {"department": "Engineering"},
                                                                    f"scim:{body['id']}")


async def test_list_get_replace_delete(client):
    _, admin, query = await keys(client)
    first = await make_user(client, admin)
    second = await make_user(client, admin, user_name="bob@example.com", name={"given_name": "Bob"})
    listed = await client.get(USERS, headers=query)
    assert listed.status_code == 200
    assert listed.json() == {"data": [second, first], "total": 2}
    assert (await client.get(f"{USERS}?limit=1&offset=1", headers=query)).json() == {"data": [first], "total": 2}
    assert (await client.get(f"{USERS}/{second['id']}", headers=query)).json() == second
    assert second["name"] == {"given_name": "Bob"}

    replaced = await client.put(f"{USERS}/{first['id']}", json={"active": False, "traits": {"team": "core"}},
                                headers=admin)
    assert replaced.status_code == 200
    assert (replaced.json()["active"], replaced.json()["traits"], replaced.json()["user_name"]) == (
        False, {"team": "core"}, "alice@example.com")

    assert (await client.delete(f"{USERS}/{first['id']}", headers=admin)).status_code == 204
    gone = await client.get(f"{USERS}/{first['id']}", headers=query)
    assert (gone.status_code, gone.json()) == (404, {"error": f"SCIM user '{first['id']}' not found."})
    assert (await client.get(USERS, headers=query)).json()["total"] == 1


async def test_a_user_is_synced_to_its_profile_and_removed_with_it(client, app):
    project, admin, _ = await keys(client)
    user = await make_user(client, admin)
    sql = "SELECT user_id, traits FROM identity_profiles WHERE project_id = :p AND visitor_id = :v"
    params = {"p": project["id"], "v": f"scim:{user['id']}"}
    [profile] = await rows(app, sql, **params)
    assert profile["user_id"] == "alice@example.com"
    assert profile["traits"]["department"] == "Engineering"
    assert (profile["traits"]["email"], profile["traits"]["active"]) == ("alice@example.com", True)

    await client.put(f"{USERS}/{user['id']}", json={"display_name": "Alice B", "active": False}, headers=admin)
    [profile] = await rows(app, sql, **params)
    assert (profile["traits"]["display_name"], profile["traits"]["active"]) == ("Alice B", False)

    await client.delete(f"{USERS}/{user['id']}", headers=admin)
    assert await rows(app, sql, **params) == []


async def test_missing_and_invalid_fields_are_400s_that_change_nothing(client):
    _, admin, query = await keys(client)
    missing = await client.post(USERS, json={"emails": []}, headers=admin)
    assert (missing.status_code, missing.json()) == (
        400, {"error": "Invalid request body: missing required field 'user_name'."})
    two_primary = await client.post(USERS, headers=admin, json={**ALICE, "emails": [
        {"value": "a@x.test", "primary": True}, {"value": "b@x.test", "primary": True}]})
    assert two_primary.status_code == 400 and "primary" in two_primary.json()["error"]
    unknown = await client.post(USERS, json={**ALICE, "nickname": "al"}, headers=admin)
    assert unknown.status_code == 400
    not_object = await client.post(USERS, content=b"[1]", headers={**admin, "Content-Type": "application/json"})
    assert not_object.status_code == 400
    missing_group = await client.post(GROUPS, json={"members": []}, headers=admin)
    assert missing_group.json() == {"error": "Invalid request body: missing required field 'display_name'."}
    nul = await client.post(USERS, json={**ALICE, "traits": {"note": "a\u0000b"}}, headers=admin)
    assert nul.json() == {"error": "Invalid request body: text may not contain NUL characters."}
    deep = {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": {"j": {"k": {"l": 1}}}}}}}}}}}}
    assert (await client.post(USERS, json={**ALICE, "traits": deep}, headers=admin)).status_code == 400
    assert (await client.get(USERS, headers=query)).json()["total"] == 0


async def test_duplicate_user_name_is_a_409(client):
    _, admin, _ = await keys(client)
    await make_user(client, admin)
    again = await client.post(USERS, json={**ALICE, "user_name": "ALICE@example.com"}, headers=admin)
    assert again.status_code == 409
    assert again.json() == {"error": "A SCIM user with user_name 'ALICE@example.com' already exists."}


async def test_groups_take_existing_users_as_members(client):
    _, admin, query = await keys(client)
    alice = await make_user(client, admin)
    bob = await make_user(client, admin, user_name="bob@example.com", display_name="Bob")
    created = await client.post(GROUPS, headers=admin, json={
        "display_name": "Engineering", "external_id": "group_eng", "traits": {"cost_center": "eng"},
        "members": [bob["id"], alice["id"]]})
    assert created.status_code == 201
    group = created.json()
    assert set(group) == {"id", "display_name", "external_id", "traits", "members", "created_at", "updated_at"}
    assert group["members"] == [{"id": bob["id"], "user_name": "bob@example.com", "display_name": "Bob"},
                                {"id": alice["id"], "user_name": "alice@example.com", "display_name": "Alice Example"}]
    assert (await client.get(f"{GROUPS}/{group['id']}", headers=query)).json() == group
    assert (await client.get(GROUPS, headers=query)).json() == {"data": [group], "total": 1}

    renamed = (await client.put(f"{GROUPS}/{group['id']}", json={"display_name": "Eng"}, headers=admin)).json()
    assert (renamed["display_name"], len(renamed["members"])) == ("Eng", 2)
    only_alice = (await client.put(f"{GROUPS}/{group['id']}", json={"members": [alice["id"]]}, headers=admin)).json()
    assert [m["id"] for m in only_alice["members"]] == [alice["id"]]

    await client.delete(f"{USERS}/{alice['id']}", headers=admin)  # a deprovisioned user leaves its groups
    assert (await client.get(f"{GROUPS}/{group['id']}", headers=query)).json()["members"] == []
    assert (await client.delete(f"{GROUPS}/{group['id']}", headers=admin)).status_code == 204
    assert (await client.get(f"{GROUPS}/{group['id']}", headers=query)).status_code == 404


async def test_an_unknown_member_is_a_400_naming_it(client):
    _, admin, query = await keys(client)
    alice = await make_user(client, admin)
    stranger = str(uuid.uuid4())
    response = await client.post(GROUPS, json={"display_name": "Eng", "members": [alice["id"], stranger]},
                                 headers=admin)
    assert (response.status_code, response.json()) == (
        400, {"error": f"Invalid request body: field 'members': unknown SCIM user '{stranger}'."})
    assert (await client.get(GROUPS, headers=query)).json()["total"] == 0


async def test_scope_query_reads_admin_writes_ingest_nothing(client):
    project, admin, query = await keys(client)
    ingest = key_header((await create_key(client, project["id"], "ingest"))["key"])
    user = await make_user(client, admin)
    refused = await client.post(USERS, json=ALICE, headers=query)
    assert refused.status_code == 403
    assert (await client.put(f"{USERS}/{user['id']}", json={"active": False}, headers=query)).status_code == 403
    assert (await client.delete(f"{USERS}/{user['id']}", headers=query)).status_code == 403
    assert (await client.get(USERS, headers=ingest)).status_code == 403
    assert (await client.get(USERS, headers={})).status_code == 401
    assert (await client.get(f"{USERS}/{user['id']}", headers=query)).json()["active"] is True
    with_token = await client.get(f"{USERS}?project_id={project['id']}", headers=ADMIN)
    assert with_token.json()["total"] == 1


async def test_another_project_never_sees_or_changes_these_records(client):
    _, admin, _ = await keys(client)
    _, other_admin, other_query = await keys(client)
    user = await make_user(client, admin)
    group = (await client.post(GROUPS, json={"display_name": "Eng", "members": [user["id"]]}, headers=admin)).json()
    assert (await client.get(USERS, headers=other_query)).json() == {"data": [], "total": 0}
    assert (await client.get(f"{USERS}/{user['id']}", headers=other_query)).status_code == 404
    assert (await client.put(f"{USERS}/{user['id']}", json={"active": False}, headers=other_admin)).status_code == 404
    assert (await client.delete(f"{GROUPS}/{group['id']}", headers=other_admin)).status_code == 404
    borrowed = await client.post(GROUPS, json={"display_name": "X", "members": [user["id"]]}, headers=other_admin)
    assert borrowed.status_code == 400
    assert (await client.get(f"{USERS}/{user['id']}", headers=admin)).json()["active"] is True
    # A user name is unique per project only.
    assert (await client.post(USERS, json=ALICE, headers=other_admin)).status_code == 201


async def test_graphql_reads_and_writes_the_same_records(client):
    _, admin, query = await keys(client)
    rest_user = await make_user(client, admin)
    created = await gql(client, """mutation { createScimUser(input: {userName: "carol@example.com",
        emails: [{value: "Carol@Example.com", primary: true}], name: {givenName: "Carol"}, traits: {team: "ops"}})
        { id userName emails { value primary } name traits visitorId active } }""", headers=admin)
    carol = created["data"]["createScimUser"]
    assert carol["emails"] == [{"value": "carol@example.com", "primary": True}]
    assert (carol["name"], carol["traits"], carol["visitorId"]) == ({"givenName": "Carol"}, {"team": "ops"},
                                                                    f"scim:{carol['id']}")
    rest_view = (await client.get(f"{USERS}/{carol['id']}", headers=query)).json()
    assert (rest_view["user_name"], rest_view["name"]) == ("carol@example.com", {"given_name": "Carol"})

    group = await gql(client, """mutation($m: [ID!]) { createScimGroup(input: {displayName: "Ops", members: $m})
        { id members { id } } }""", {"m": [carol["id"], rest_user["id"]]}, headers=admin)
    group_id = group["data"]["createScimGroup"]["id"]
    listed = await gql(client, """{ project { scimUsers(first: 1) { total data { id } pageInfo { hasNextPage } }
        scimGroups { total data { displayName members { userName } } } } }""", headers=query)
    project = listed["data"]["project"]
    assert project["scimUsers"] == {"total": 2, "data": [{"id": carol["id"]}], "pageInfo": {"hasNextPage": True}}
    assert project["scimGroups"] == {"total": 1, "data": [{"displayName": "Ops", "members": [
        {"userName": "carol@example.com"}, {"userName": "alice@example.com"}]}]}

    replaced = await gql(client, 'mutation($id: ID!) { replaceScimUser(id: $id, input: {active: false}) { active } }',
                         {"id": carol["id"]}, headers=admin)
    assert replaced["data"]["replaceScimUser"] == {"active": False}
    refused = await gql(client, 'mutation($id: ID!) { deleteScimUser(id: $id) }', {"id": carol["id"]}, headers=query)
    assert gql_error(refused)[1] == "FORBIDDEN"
    unknown = await gql(client, 'mutation { createScimGroup(input: {displayName: "X", members: ["nope"]}) { id } }',
                        headers=admin)
    assert gql_error(unknown)[0] == "Invalid request body: field 'members': unknown SCIM user 'nope'."
    deleted = await gql(client, 'mutation($id: ID!) { deleteScimGroup(id: $id) }', {"id": group_id}, headers=admin)
    assert deleted["data"] == {"deleteScimGroup": True}
    assert (await client.get(GROUPS, headers=query)).json()["total"] == 0
