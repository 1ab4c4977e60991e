"""Admin webhooks: the reference's routes and shapes, validation, tenant isolation, and the signed
test delivery through the outbound client."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time

import pytest_asyncio
from sqlalchemy import text

from tests.helpers import ADMIN, create_key, create_project, gql, gql_error, key_header, local_server, make_app, serving

ID = re.compile(r"^wh-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
HOOK = "https://hooks.slack.com/services/T00/B00/xxxxx"  # a public name: stored, never called here
SECRET = "whsec_my_signing_secret_2026"


def hooks_url(project_id: str, *rest: str) -> str:
    return "/".join([f"/api/admin/projects/{project_id}/webhooks", *rest])


async def create_hook(client, project_id: str, **body) -> dict:
    body = {"url": HOOK, "events": ["traffic_spike", "zero_traffic"], "secret": SECRET, **body}
    response = await client.post(hooks_url(project_id), json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    return response.json()


@pytest_asyncio.fixture(scope="module")
async def open_client(settings):
    """The same database, served by an app that lets outbound requests reach private addresses."""
    async with serving(make_app(settings, allow_private_targets=True)) as c:
        yield c


async def test_create_answers_the_reference_shape_without_the_secret(client):
    project = await create_project(client)
    response = await client.post(hooks_url(project["id"]), headers=ADMIN, json={
        "url": HOOK, "events": ["traffic_spike", "zero_traffic"], "secret": SECRET})
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "url", "events", "created_at"}
    assert ID.match(body["id"])
    assert (body["url"], body["events"]) == (HOOK, ["traffic_spike", "zero_traffic"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["created_at"])


async def test_the_secret_is_stored_to_sign_never_shown_and_required(client, app):
    project = await create_project(client)
    given = await create_hook(client, project["id"], secret=SECRET)
    async with app.state.runtime.engine.connect() as conn:
        rows = dict((await conn.execute(text("SELECT id::text, secret FROM webhooks WHERE project_id = :p"),
                                        {"p": project["id"]})).all())
    assert rows[given["id"][3:]] == SECRET
    listed = (await client.get(hooks_url(project["id"]), headers=ADMIN)).text
    assert SECRET not in listed
    missing = await client.post(hooks_url(project["id"]), json={"url": HOOK, "events": ["daily_summary"]},
                                headers=ADMIN)
    assert (missing.status_code, missing.json()) == (
        400, {"error": "Invalid request body: missing required field 'secret'."})


async def test_list_is_newest_first_and_paged(client):
    project = await create_project(client)
    first = await create_hook(client, project["id"], events=["daily_summary"])
    second = await create_hook(client, project["id"])
    listed = await client.get(hooks_url(project["id"]), headers=ADMIN)
    assert listed.status_code == 200
    assert listed.json() == {"data": [second, first], "total": 2}
    page = (await client.get(hooks_url(project["id"]) + "?limit=1&offset=1", headers=ADMIN)).json()
    assert page == {"data": [first], "total": 2}


async def test_update_changes_only_the_fields_given(client, app):
    project = await create_project(client)
    hook = await create_hook(client, project["id"], secret=SECRET)
    response = await client.put(hooks_url(project["id"], hook["id"]), headers=ADMIN,
                                json={"events": ["traffic_spike", "zero_traffic", "daily_summary"]})
    assert response.status_code == 200
    assert response.json() == {**hook, "events": ["traffic_spike", "zero_traffic", "daily_summary"]}
    moved = await client.put(hooks_url(project["id"], hook["id"]), headers=ADMIN,
                             json={"url": "https://example.com/hook"})
    assert moved.json()["url"] == "https://example.com/hook"
    assert moved.json()["events"] == ["traffic_spike", "zero_traffic", "daily_summary"]
    async with app.state.runtime.engine.connect() as conn:
        secret = (await conn.execute(text("SELECT secret FROM webhooks WHERE id = :id"),
                                     {"id": hook["id"][3:]})).scalar_one()
    assert secret == SECRET
    assert (await client.get(hooks_url(project["id"]), headers=ADMIN)).json()["data"] == [moved.json()]


async def test_delete_answers_204_then_404(client):
    project = await create_project(client)
    hook = await create_hook(client, project["id"])
    gone = await client.delete(hooks_url(project["id"], hook["id"]), headers=ADMIN)
    assert gone.status_code == 204 and gone.content == b""
    assert (await client.get(hooks_url(project["id"]), headers=ADMIN)).json() == {"data": [], "total": 0}
    again = await client.delete(hooks_url(project["id"], hook["id"]), headers=ADMIN)
    assert again.status_code == 404 and again.json() == {"error": f"Webhook '{hook['id']}' not found."}


async def test_an_unknown_id_is_a_404_with_the_reference_message(client):
    project = await create_project(client)
    for webhook_id in ("wh-00000000-0000-0000-0000-000000000000", "nope"):
        for method, suffix in (("PUT", ""), ("DELETE", ""), ("POST", "/test")):
            response = await client.request(method, hooks_url(project["id"], webhook_id) + suffix, headers=ADMIN,
                                            json={"events": ["daily_summary"]} if method == "PUT" else None)
            assert response.status_code == 404, (method, suffix)
            assert response.json() == {"error": f"Webhook '{webhook_id}' not found."}


async def test_another_projects_webhook_is_a_404(client):
    mine, theirs = await create_project(client, "Mine"), await create_project(client, "Theirs")
    hook = await create_hook(client, theirs["id"])
    not_found = {"error": f"Webhook '{hook['id']}' not found."}
    for method, suffix in (("PUT", ""), ("DELETE", ""), ("POST", "/test")):
        response = await client.request(method, hooks_url(mine["id"], hook["id"]) + suffix, headers=ADMIN,
                                        json={"url": "https://example.com/"} if method == "PUT" else None)
        assert (response.status_code, response.json()) == (404, not_found)
    assert (await client.get(hooks_url(mine["id"]), headers=ADMIN)).json() == {"data": [], "total": 0}
    # A key of one project cannot even name the other.
    key = await create_key(client, mine["id"], "admin")
    listed = await client.get(hooks_url(theirs["id"]), headers=key_header(key["key"]))
    assert listed.status_code == 404
    assert (await client.get(hooks_url(theirs["id"]), headers=ADMIN)).json()["data"] == [hook]


async def test_admin_access_is_required(client):
    project = await create_project(client)
    assert (await client.get(hooks_url(project["id"]))).status_code == 401
    query = await create_key(client, project["id"], "query")
    refused = await client.post(hooks_url(project["id"]), headers=key_header(query["key"]),
                                json={"url": HOOK, "events": ["daily_summary"]})
    assert refused.status_code == 403
    admin_key = await create_key(client, project["id"], "admin")
    created = await client.post(hooks_url(project["id"]), headers=key_header(admin_key["key"]),
                                json={"url": HOOK, "events": ["daily_summary"], "secret": SECRET})
    assert created.status_code == 201


async def test_validation_messages(client):
    project = await create_project(client)
    url = hooks_url(project["id"])
    cases = [
        ({"events": ["nope"]}, "Invalid request body: missing required field 'url'."),
        ({"events": [], "secret": 5}, "Invalid request body: missing required field 'url'."),
        ({"url": HOOK}, "Invalid request body: missing required field 'events'."),
        ({"url": HOOK, "events": ["page_view"]},
         "Invalid request body: field 'events': unknown event type 'page_view' "
         "(expected traffic_spike, zero_traffic, daily_summary)."),
        ({"url": HOOK, "events": []},
         "Invalid request body: field 'events': must list at least one of traffic_spike, zero_traffic, "
         "daily_summary."),
        ({"url": HOOK, "events": ["daily_summary", "daily_summary"]},
         "Invalid request body: field 'events': lists an event type twice."),
        ({"url": HOOK, "events": ["daily_summary"], "secret": "short"},
         "Invalid request body: field 'secret': must be 8 to 256 characters long."),
        ({"url": HOOK, "events": ["daily_summary"], "extra": 1},
         "Invalid request body: field 'extra': Extra inputs are not permitted."),
        ({"url": "ftp://example.com/x", "events": ["daily_summary"]},
         "Invalid request body: 'url' must be an http or https URL."),
        ({"url": "http://10.0.0.1/hook", "events": ["daily_summary"]},
         "Invalid request body: 'url' must not point to a private or local network: "
         "10.0.0.1 is a private, local or reserved address."),
        ({"url": "http://169.254.169.254/latest/meta-data/", "events": ["daily_summary"]},
         "Invalid request body: 'url' must not point to a private or local network: "
         "169.254.169.254 is a private, local or reserved address."),
        ({"url": "http://[::1]:9000/", "events": ["daily_summary"]},
         "Invalid request body: 'url' must not point to a private or local network: "
         "::1 is a private, local or reserved address."),
    ]
    for body, message in cases:
        if {"url", "events"} <= body.keys():
            body = {"secret": SECRET, **body}
        response = await client.post(url, json=body, headers=ADMIN)
        assert (response.status_code, response.json()) == (400, {"error": message}), body
    local = await client.post(url, json={"url": "http://localhost:9000/", "events": ["daily_summary"],
                                           "secret": SECRET}, headers=ADMIN)
    assert local.status_code == 400 and re.fullmatch(
        r"Invalid request body: 'url' must not point to a private or local network: "
        r"localhost \((127\.0\.0\.1|::1)\) is a private, local or reserved address\.", local.json()["error"])
    for raw in (b"[1]", b"not json", b""):
        response = await client.post(url, content=raw, headers={**ADMIN, "Content-Type": "application/json"})
        assert response.json() == {"error": "Invalid request body: expected a JSON object."}
    assert (await client.get(url, headers=ADMIN)).json()["total"] == 0


async def test_update_validates_what_it_is_given(client):
    project = await create_project(client)
    hook = await create_hook(client, project["id"])
    url = hooks_url(project["id"], hook["id"])
    for body, message in [
        ({"events": ["nope"]}, "Invalid request body: field 'events': unknown event type 'nope' "
                               "(expected traffic_spike, zero_traffic, daily_summary)."),
        ({"url": "http://127.0.0.1/"}, "Invalid request body: 'url' must not point to a private or local network: "
                                       "127.0.0.1 is a private, local or reserved address."),
        ({"url": None}, "Invalid request body: field 'url': Input should be a valid string."),
    ]:
        response = await client.put(url, json=body, headers=ADMIN)
        assert (response.status_code, response.json()) == (400, {"error": message}), body
    assert (await client.put(url, json={}, headers=ADMIN)).json() == hook


def verify(secret: str, headers: dict[str, str], body: bytes) -> None:
    """Check a delivery as a receiver would (Standard Webhooks, and X-Pulse-Signature)."""
    key = secret.encode()  # a `whsec_<base64>` secret signs with its decoded bytes, any other with its UTF-8
    if secret.startswith("whsec_"):
        try:
            key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
        except ValueError:
            pass
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert headers["webhook-signature"] == f"v1,{expected}"
    assert headers["x-pulse-signature"] == "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 60
    assert headers["webhook-id"].startswith("msg_")


async def test_the_test_route_sends_a_signed_payload(open_client, client):
    project = await create_project(open_client)
    async with local_server() as server:
        hook = await create_hook(open_client, project["id"], url=f"{server.url}/receive", secret=SECRET)
        response = await open_client.post(hooks_url(project["id"], hook["id"], "test"), headers=ADMIN)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"success", "status_code", "response_time_ms"}
    assert (body["success"], body["status_code"]) == (True, 200)
    assert isinstance(body["response_time_ms"], int) and body["response_time_ms"] >= 0
    [received] = server.requests
    assert (received.method, received.path) == ("POST", "/receive")
    assert received.headers["content-type"] == "application/json"
    verify(SECRET, received.headers, received.body)
    payload = json.loads(received.body)
    assert set(payload) == {"event", "project_id", "timestamp", "data"}
    assert (payload["event"], payload["project_id"]) == ("test", project["id"])
    assert payload["data"]["webhook_id"] == hook["id"]


async def test_a_standard_webhooks_secret_signs_with_its_decoded_key(open_client):
    project = await create_project(open_client)
    secret = "whsec_" + base64.b64encode(bytes(range(32))).decode()
    async with local_server() as server:
        hook = await create_hook(open_client, project["id"], url=f"{server.url}/", secret=secret)
        assert (await open_client.post(hooks_url(project["id"], hook["id"], "test"), headers=ADMIN)).json()["success"]
    verify(secret, server.requests[0].headers, server.requests[0].body)


async def test_a_receiver_error_is_success_false(open_client):
    project = await create_project(open_client)
    async with local_server(lambda path: (500, {}, b"boom")) as server:
        hook = await create_hook(open_client, project["id"], url=f"{server.url}/")
        body = (await open_client.post(hooks_url(project["id"], hook["id"], "test"), headers=ADMIN)).json()
    assert (body["success"], body["status_code"], body["reason"]) == (False, 500, "answered 500")


async def test_the_test_route_refuses_a_private_target_when_not_allowed(open_client, client):
    """Saved while private targets were allowed; tested by a server that does not allow them."""
    project = await create_project(open_client)
    async with local_server() as server:
        hook = await create_hook(open_client, project["id"], url=f"{server.url}/receive")
        response = await client.post(hooks_url(project["id"], hook["id"], "test"), headers=ADMIN)
    assert response.status_code == 200
    body = response.json()
    assert (body["success"], body["status_code"]) == (False, None)
    assert body["reason"] == "127.0.0.1 is a private, local or reserved address"
    assert server.requests == []


async def test_an_unreachable_target_is_success_false(open_client):
    project = await create_project(open_client)
    async with local_server() as server:
        port = server.port
    hook = await create_hook(open_client, project["id"], url=f"http://127.0.0.1:{port}/")  # closed now
    body = (await open_client.post(hooks_url(project["id"], hook["id"], "test"), headers=ADMIN)).json()
    assert (body["success"], body["status_code"]) == (False, None)
    assert body["reason"].startswith("the request failed")


async def test_webhooks_go_with_their_project(client, app):
    project = await create_project(client)
    await create_hook(client, project["id"])
    async with app.state.runtime.engine.begin() as conn:
        await conn.execute(text("DELETE FROM projects WHERE id = :p"), {"p": project["id"]})
        left = (await conn.execute(text("SELECT count(*) FROM webhooks WHERE project_id = :p"),
                                   {"p": project["id"]})).scalar_one()
    assert left == 0


# -- GraphQL ---------------------------------------------------------------------------------

CREATE = """mutation($p: ID!, $input: WebhookInput!) {
  createWebhook(projectId: $p, input: $input) { id url events createdAt } }"""
LIST = """query($p: ID!, $first: Int!, $after: String) {
  webhooks(projectId: $p, first: $first, after: $after) {
    total pageInfo { endCursor hasNextPage } data { id url events createdAt } } }"""
UPDATE = """mutation($p: ID!, $id: ID!, $input: WebhookUpdateInput!) {
  updateWebhook(projectId: $p, id: $id, input: $input) { id url events } }"""
DELETE = "mutation($p: ID!, $id: ID!) { deleteWebhook(projectId: $p, id: $id) }"
TEST = """mutation($p: ID!, $id: ID!) {
  testWebhook(projectId: $p, id: $id) { success statusCode responseTimeMs reason } }"""


async def test_graphql_create_list_update_delete(client):
    project = await create_project(client)
    created = (await gql(client, CREATE, {"p": project["id"], "input": {
        "url": HOOK, "events": ["traffic_spike"], "secret": SECRET}}, ADMIN))["data"]["createWebhook"]
    assert ID.match(created["id"]) and created["events"] == ["traffic_spike"]
    rest = (await client.get(hooks_url(project["id"]), headers=ADMIN)).json()["data"]
    assert [(h["id"], h["url"], h["events"]) for h in rest] == [(created["id"], HOOK, ["traffic_spike"])]

    second = (await gql(client, CREATE, {"p": project["id"], "input": {
        "url": HOOK, "events": ["daily_summary"], "secret": SECRET}}, ADMIN))["data"]["createWebhook"]
    page = (await gql(client, LIST, {"p": project["id"], "first": 1}, ADMIN))["data"]["webhooks"]
    assert page["total"] == 2 and page["pageInfo"]["hasNextPage"] is True
    assert [h["id"] for h in page["data"]] == [second["id"]]
    rest_page = (await gql(client, LIST, {"p": project["id"], "first": 1, "after": page["pageInfo"]["endCursor"]},
                           ADMIN))["data"]["webhooks"]
    assert [h["id"] for h in rest_page["data"]] == [created["id"]] and not rest_page["pageInfo"]["hasNextPage"]

    updated = (await gql(client, UPDATE, {"p": project["id"], "id": created["id"],
                                          "input": {"events": ["zero_traffic", "daily_summary"]}}, ADMIN))
    assert updated["data"]["updateWebhook"] == {"id": created["id"], "url": HOOK,
                                                "events": ["zero_traffic", "daily_summary"]}
    assert (await gql(client, DELETE, {"p": project["id"], "id": created["id"]}, ADMIN))["data"] == {
        "deleteWebhook": True}
    message, code = gql_error(await gql(client, DELETE, {"p": project["id"], "id": created["id"]}, ADMIN))
    assert (message, code) == (f"Webhook '{created['id']}' not found.", "NOT_FOUND")


async def test_graphql_validation_matches_rest(client):
    project = await create_project(client)
    for events, message in [
        (["nope"], "Invalid request body: field 'events': unknown event type 'nope' "
                   "(expected traffic_spike, zero_traffic, daily_summary)."),
        ([], "Invalid request body: field 'events': must list at least one of traffic_spike, zero_traffic, "
             "daily_summary."),
    ]:
        result = await gql(client, CREATE, {"p": project["id"], "input": {"url": HOOK, "events": events,
                                                                          "secret": SECRET}}, ADMIN)
        assert gql_error(result) == (message, "BAD_REQUEST")
    private = await gql(client, CREATE, {"p": project["id"], "input": {
        "url": "http://169.254.169.254/", "events": ["daily_summary"], "secret": SECRET}}, ADMIN)
    assert gql_error(private)[0].startswith("Invalid request body: 'url' must not point to a private")


async def test_graphql_is_scoped_to_the_project(client):
    mine, theirs = await create_project(client, "Mine"), await create_project(client, "Theirs")
    hook = await create_hook(client, theirs["id"])
    result = await gql(client, UPDATE, {"p": mine["id"], "id": hook["id"], "input": {"url": HOOK}}, ADMIN)
    assert gql_error(result) == (f"Webhook '{hook['id']}' not found.", "NOT_FOUND")
    listed = (await gql(client, LIST, {"p": mine["id"], "first": 10}, ADMIN))["data"]["webhooks"]
    assert listed["total"] == 0
    query = await create_key(client, mine["id"], "query")
    message, code = gql_error(await gql(client, LIST, {"p": mine["id"], "first": 10}, key_header(query["key"])))
    assert code == "FORBIDDEN"


async def test_graphql_test_webhook(open_client, client):
    project = await create_project(open_client)
    async with local_server() as server:
        hook = await create_hook(open_client, project["id"], url=f"{server.url}/g", secret=SECRET)
        sent = (await gql(open_client, TEST, {"p": project["id"], "id": hook["id"]}, ADMIN))["data"]["testWebhook"]
        refused = (await gql(client, TEST, {"p": project["id"], "id": hook["id"]}, ADMIN))["data"]["testWebhook"]
    assert (sent["success"], sent["statusCode"], sent["reason"]) == (True, 200, None)
    verify(SECRET, server.requests[0].headers, server.requests[0].body)
    assert (refused["success"], refused["statusCode"]) == (False, None)
    assert refused["reason"] == "127.0.0.1 is a private, local or reserved address"
    assert len(server.requests) == 1
