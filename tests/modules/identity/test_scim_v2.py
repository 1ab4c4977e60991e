"""The SCIM 2.0 surface (RFC 7643/7644) at /scim/v2: what an identity provider does (create,
filter, page, PATCH, replace, delete), its error bodies and content type, discovery, bearer
admin keys only, tenant isolation, and bad input that changes nothing."""

from __future__ import annotations

import uuid

from tests.helpers import create_key, create_project

V2 = "/scim/v2"
SCIM = "application/scim+json"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def bearer(key: dict) -> dict:
    return {"Authorization": f"Bearer {key['key']}", "Content-Type": SCIM}


async def setup(client) -> tuple[dict, dict]:
    project = await create_project(client)
    return project, bearer(await create_key(client, project["id"], "admin"))


def okta_user(user_name: str = "bjensen@example.com", **extra) -> dict:
    return {"schemas": [USER, ENTERPRISE], "userName": user_name, "externalId": "00u1",
            "name": {"givenName": "Barbara", "familyName": "Jensen"}, "displayName": "Babs Jensen",
            "emails": [{"value": user_name, "primary": True, "type": "work"}], "active": True, "title": "Tour Guide",
            ENTERPRISE: {"department": "Tours"}, **extra}


async def create_user(client, headers, **extra) -> dict:
    response = await client.post(f"{V2}/Users", json=okta_user(**extra), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def assert_error(response, status: int, scim_type: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(SCIM)
    body = response.json()
    assert body["schemas"] == [ERROR] and body["status"] == str(status) and body["detail"]
    if scim_type:
        assert body["scimType"] == scim_type, body
    return body


async def test_create_answers_the_resource_with_location_and_meta(client):
    _, headers = await setup(client)
    response = await client.post(f"{V2}/Users", json=okta_user(password="s3cret!"), headers=headers)
    assert response.status_code == 201
    assert response.headers["content-type"].startswith(SCIM)
    body = response.json()
    assert body["schemas"] == [USER, ENTERPRISE]
    assert uuid.UUID(body["id"])
    assert response.headers["location"] == f"http://pulse.test/scim/v2/Users/{body['id']}"
    assert body["meta"]["resourceType"] == "User" and body["meta"]["location"] == response.headers["location"]
    assert (body["userName"], body["externalId"], body["active"], body["title"]) == (
        "bjensen@example.com", "00u1", True, "Tour Guide")
    assert body["name"] == {"givenName": "Barbara", "familyName": "Jensen"}
    assert body["emails"] == [{"value": "bjensen@example.com", "primary": True, "type": "work"}]
    assert body[ENTERPRISE] == {"department": "Tours"}
    assert "password" not in body
    again = await client.get(f"{V2}/Users/{body['id']}", headers=headers)
    assert again.json() == body
    # The same record on the reference's route.
    rest = await client.get(f"/api/v1/identity/scim/users/{body['id']}", headers={"X-Pulse-Key": headers[
        "Authorization"][7:]})
    assert (rest.json()["user_name"], rest.json()["visitor_id"]) == ("bjensen@example.com", f"scim:{body['id']}")


async def test_filter_and_pagination(client):
    _, headers = await setup(client)
    made = [await create_user(client, headers, user_name=f"user{i}@example.com", externalId=f"ext{i}")
            for i in range(5)]
    found = await client.get(f'{V2}/Users', params={"filter": 'userName eq "USER3@example.com"'}, headers=headers)
    assert found.status_code == 200 and found.headers["content-type"].startswith(SCIM)
    body = found.json()
    assert (body["schemas"], body["totalResults"], body["itemsPerPage"], body["startIndex"]) == ([LIST], 1, 1, 1)
    assert body["Resources"][0]["id"] == made[3]["id"]
    none = (await client.get(f"{V2}/Users", params={"filter": 'userName eq "nobody"'}, headers=headers)).json()
    assert (none["totalResults"], none["Resources"]) == (0, [])
    page = (await client.get(f"{V2}/Users?startIndex=2&count=2", headers=headers)).json()
    assert (page["totalResults"], page["startIndex"], page["itemsPerPage"]) == (5, 2, 2)
    assert [r["id"] for r in page["Resources"]] == [made[1]["id"], made[2]["id"]]
    counted = (await client.get(f"{V2}/Users?count=0", headers=headers)).json()
    assert (counted["totalResults"], counted["Resources"]) == (5, [])

    cases = {
        'emails[type eq "work" and value ew "4@example.com"]': [made[4]["id"]],
        'emails.value eq "user1@example.com" or externalId eq "ext2"': [made[1]["id"], made[2]["id"]],
        'externalId eq "EXT2"': [],  # caseExact
        'userName sw "user" and not (userName co "0") and active eq true': [m["id"] for m in made[1:]],
        'name.givenName eq "barbara" and meta.created gt "2000-01-01T00:00:00Z"': [m["id"] for m in made],
        'title pr': None,
    }
    for filter_, expected in cases.items():
        response = await client.get(f"{V2}/Users", params={"filter": filter_}, headers=headers)
        if expected is None:
            assert_error(response, 400, "invalidFilter")
            continue
        assert [r["id"] for r in response.json()["Resources"]] == expected, filter_


async def test_patch_add_replace_remove(client):
    _, headers = await setup(client)
    user = await create_user(client, headers)
    url = f"{V2}/Users/{user['id']}"
    patched = await client.patch(url, headers=headers, json={"schemas": [PATCH], "Operations": [
        {"op": "Replace", "path": "active", "value": False},
        {"op": "add", "value": {"nickName": "Babs", "displayName": "Barbara J"}},
        {"op": "add", "path": "emails", "value": [{"value": "home@example.com", "type": "home"}]},
        {"op": "remove", "path": 'emails[type eq "work"]'}]})
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert (body["active"], body["displayName"], body["nickName"]) == (False, "Barbara J", "Babs")
    assert body["emails"] == [{"value": "home@example.com", "primary": False, "type": "home"}]
    assert (await client.get(url, headers=headers)).json() == body

    group = await client.post(f"{V2}/Groups", headers=headers, json={"schemas": [GROUP], "displayName": "Tours",
                                                                     "members": [{"value": user["id"]}]})
    assert group.status_code == 201
    group = group.json()
    assert group["members"][0]["value"] == user["id"]
    other = await create_user(client, headers, user_name="other@example.com")
    group_url = f"{V2}/Groups/{group['id']}"
    added = await client.patch(group_url, headers=headers, json={"schemas": [PATCH], "Operations": [
        {"op": "add", "path": "members", "value": [{"value": other["id"]}]},
        {"op": "replace", "path": "displayName", "value": "Guides"}]})
    assert [m["value"] for m in added.json()["members"]] == [user["id"], other["id"]]
    assert added.json()["displayName"] == "Guides"
    in_group = (await client.get(f"{V2}/Groups", params={"filter": f'members[value eq "{other["id"]}"]'},
                                 headers=headers)).json()
    assert [g["id"] for g in in_group["Resources"]] == [group["id"]]
    assert (await client.get(f"{V2}/Users/{other['id']}", headers=headers)).json()["groups"][0]["value"] == group["id"]
    removed = await client.patch(group_url, headers=headers, json={"schemas": [PATCH], "Operations": [
        {"op": "remove", "path": f'members[value eq "{user["id"]}"]'}]})
    assert [m["value"] for m in removed.json()["members"]] == [other["id"]]
    stranger = str(uuid.uuid4())
    unknown = await client.patch(group_url, headers=headers, json={"schemas": [PATCH], "Operations": [
        {"op": "add", "path": "members", "value": [{"value": stranger}]}]})
    assert stranger in assert_error(unknown, 400, "invalidValue")["detail"]
    assert [m["value"] for m in (await client.get(group_url, headers=headers)).json()["members"]] == [other["id"]]


async def test_replace_and_delete(client):
    _, headers = await setup(client)
    user = await create_user(client, headers)
    url = f"{V2}/Users/{user['id']}"
    replaced = await client.put(url, headers=headers, json={"schemas": [USER], "userName": "barbara@example.com",
                                                            "active": False})
    assert replaced.status_code == 200
    body = replaced.json()
    assert (body["userName"], body["active"], body["id"]) == ("barbara@example.com", False, user["id"])
    assert "title" not in body and "emails" not in body  # a replacement drops what it does not carry
    assert (await client.delete(url, headers=headers)).status_code == 204
    assert_error(await client.get(url, headers=headers), 404)
    assert_error(await client.delete(url, headers=headers), 404)
    assert_error(await client.get(f"{V2}/Users/not-a-uuid", headers=headers), 404)


async def test_errors_are_scim_bodies_and_change_nothing(client):
    _, headers = await setup(client)
    user = await create_user(client, headers)
    assert_error(await client.post(f"{V2}/Users", json=okta_user(), headers=headers), 409, "uniqueness")
    assert_error(await client.post(f"{V2}/Users", content=b"{not json", headers=headers), 400, "invalidSyntax")
    assert_error(await client.post(f"{V2}/Users", json=[okta_user()], headers=headers), 400, "invalidSyntax")
    assert_error(await client.post(f"{V2}/Users", json={"schemas": [USER]}, headers=headers), 400)
    assert_error(await client.post(f"{V2}/Users", json={"schemas": [USER], "userName": "x", "active": "maybe"},
                                   headers=headers), 400)
    url = f"{V2}/Users/{user['id']}"
    assert_error(await client.patch(url, headers=headers, json={"schemas": [PATCH], "Operations": [
        {"op": "frobnicate", "path": "active", "value": True}]}), 400)
    assert_error(await client.patch(url, headers=headers, json={"schemas": [PATCH], "Operations": [
        {"op": "replace", "path": "id", "value": "other"}]}), 400)
    assert_error(await client.patch(url, headers=headers, json={"schemas": [PATCH], "Operations": [
        {"op": "replace", "path": "active", "value": False}, {"op": "replace", "path": "noSuchThing", "value": 1}]}),
        400)
    for bad in ('userName eq', 'userName eq "a" and', 'password eq "x"', 'active eq "yes"', 'meta.created gt "soon"'):
        assert_error(await client.get(f"{V2}/Users", params={"filter": bad}, headers=headers), 400, "invalidFilter")
    assert_error(await client.get(f"{V2}/Users?startIndex=abc", headers=headers), 400, "invalidValue")
    assert_error(await client.post(f"{V2}/Users", json=okta_user("nul\u0000@example.com"), headers=headers), 400)
    # Nothing changed.
    listed = (await client.get(f"{V2}/Users", headers=headers)).json()
    assert listed["totalResults"] == 1 and listed["Resources"][0] == (await client.get(url, headers=headers)).json()
    assert listed["Resources"][0]["active"] is True


async def test_discovery(client):
    _, headers = await setup(client)
    config = await client.get(f"{V2}/ServiceProviderConfig", headers=headers)
    assert config.status_code == 200 and config.headers["content-type"].startswith(SCIM)
    body = config.json()
    assert body["schemas"] == ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"]
    assert (body["patch"], body["bulk"]["supported"], body["filter"]) == (
        {"supported": True}, False, {"supported": True, "maxResults": 1000})
    assert body["authenticationSchemes"][0]["type"] == "oauthbearertoken"
    types = (await client.get(f"{V2}/ResourceTypes", headers=headers)).json()
    assert {(t["id"], t["endpoint"], t["schema"]) for t in types["Resources"]} == {
        ("User", "/Users", USER), ("Group", "/Groups", GROUP)}
    assert (await client.get(f"{V2}/ResourceTypes/User", headers=headers)).json()["schemaExtensions"] == [
        {"schema": ENTERPRISE, "required": False}]
    schemas = (await client.get(f"{V2}/Schemas", headers=headers)).json()
    assert {s["id"] for s in schemas["Resources"]} == {USER, GROUP, ENTERPRISE}
    user_schema = (await client.get(f"{V2}/Schemas/{USER}", headers=headers)).json()
    assert "userName" in {a["name"] for a in user_schema["attributes"]}
    assert_error(await client.get(f"{V2}/Schemas/urn:nope", headers=headers), 404)


async def test_only_an_admin_scoped_bearer_key_of_the_project(client):
    project, headers = await setup(client)
    user = await create_user(client, headers)
    query = bearer(await create_key(client, project["id"], "query"))
    ingest = bearer(await create_key(client, project["id"], "ingest"))
    assert_error(await client.get(f"{V2}/Users", headers=query), 403)
    assert_error(await client.post(f"{V2}/Users", json=okta_user("q@example.com"), headers=query), 403)
    assert_error(await client.get(f"{V2}/Users", headers=ingest), 403)
    assert_error(await client.get(f"{V2}/Users", headers={}), 401)
    assert_error(await client.get(f"{V2}/Users", headers={"Authorization": "Bearer pa_live_" + "x" * 24}), 401)
    # Another project's admin key sees and changes nothing of this one.
    _, other = await setup(client)
    assert (await client.get(f"{V2}/Users", headers=other)).json()["totalResults"] == 0
    assert_error(await client.get(f"{V2}/Users/{user['id']}", headers=other), 404)
    assert_error(await client.patch(f"{V2}/Users/{user['id']}", headers=other, json={
        "schemas": [PATCH], "Operations": [{"op": "replace", "path": "active", "value": False}]}), 404)
    assert_error(await client.delete(f"{V2}/Users/{user['id']}", headers=other), 404)
    assert_error(await client.post(f"{V2}/Groups", headers=other, json={
        "schemas": [GROUP], "displayName": "X", "members": [{"value": user["id"]}]}), 400, "invalidValue")
    assert (await client.get(f"{V2}/Users/{user['id']}", headers=headers)).json()["active"] is True
