"""Saved segments on both faces: the reference's shapes, validation (a bad definition names its
condition), 404s, audit entries, module gating, scope and tenant isolation; and what a segment
answers (evaluate, breakdown, compare) on a small known dataset, REST and GraphQL alike."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import pytest_asyncio

from tests.helpers import (
    ADMIN,
    CHROME,
    IPHONE,
    answer,
    drain,
    gql,
    gql_error,
    new_project,
    rows,
)

SEGMENTS = "/api/v1/segments"
PRO = {"match": "all", "conditions": [{"source": "profile", "field": "traits.plan", "op": "eq", "value": "pro"}]}
BIG_BUYERS = {"match": "all", "conditions": [
    {"source": "event", "event": "purchase", "field": "event_data.amount", "op": "gte", "value": 100}]}
EVERYONE = {"match": "all", "conditions": []}
NOBODY = {"match": "any", "conditions": []}
PLANNED = {"match": "all", "conditions": [
    {"source": "profile", "field": "traits.plan", "op": "in", "value": ["pro", "free"]}]}
REFERENCE = {"name": "High-value pro users", "description": "Pro users with recent purchases over $100",
             "definition": {"match": "all", "conditions": [
                 {"source": "profile", "field": "traits.plan", "op": "eq", "value": "pro"},
                 {"source": "event", "event": "purchase", "field": "event_data.amount", "op": "gte", "value": 100}]}}

# Two days of traffic, three days ago (the project's days are UTC):
#   D1 10:00  v1 identify {plan: pro}; pageviews / (10:00), /pricing (10:02); purchase {amount: 150} (10:03)
#   D2 09:00  v2 identify {plan: pro}; pageviews / (09:00), /docs (09:04); purchase {amount: 50} (09:05)
#   D2 12:00  v3 identify {plan: free}; pageview / (12:00)
#   D2 13:00  v4 (no profile), on an iPhone; pageview /pricing (13:00)
D1 = (datetime.now(UTC) - timedelta(days=3)).replace(hour=0, minute=0, second=0, microsecond=0)
D2 = D1 + timedelta(days=1)
RANGE = {"start_at": D1.date().isoformat(), "end_at": D2.date().isoformat()}
BEFORE = {"start_at": (D1 - timedelta(days=5)).date().isoformat(),
          "end_at": (D1 - timedelta(days=1)).date().isoformat()}


def at(day: datetime, hour: int, minute: int = 0) -> str:
    return (day + timedelta(hours=hour, minutes=minute)).isoformat()


def identify(visitor: str, when: str, **traits) -> dict:
    return {"type": "identify", "visitor_id": visitor, "timestamp": when, "payload": {"traits": traits}}


def pageview(visitor: str, path: str, when: str) -> dict:
    return {"type": "pageview", "visitor_id": visitor, "path": path, "timestamp": when}


def purchase(visitor: str, amount: int, when: str) -> dict:
    return {"type": "event", "visitor_id": visitor, "name": "purchase", "data": {"amount": amount}, "timestamp": when}


SENDS = [
    identify("v1", at(D1, 10), plan="pro"), pageview("v1", "/", at(D1, 10)), pageview("v1", "/pricing", at(D1, 10, 2)),
    purchase("v1", 150, at(D1, 10, 3)),
    identify("v2", at(D2, 9), plan="pro"), pageview("v2", "/", at(D2, 9)), pageview("v2", "/docs", at(D2, 9, 4)),
    purchase("v2", 50, at(D2, 9, 5)),
    identify("v3", at(D2, 12), plan="free"), pageview("v3", "/", at(D2, 12)),
]
IPHONE_SENDS = [pageview("v4", "/pricing", at(D2, 13))]
# Another project with the same visitor ids: none of it may show in the first.
OTHER_SENDS = [identify("v1", at(D1, 8), plan="pro"), pageview("v1", "/other", at(D1, 8)),
               identify("v9", at(D1, 8), plan="pro"), pageview("v9", "/other", at(D1, 9))]



async def send(client, ingest: dict, sends: list[dict], agent: str = CHROME) -> None:
    for body in sends:
        response = await client.post("/api/collect", json=body, headers={**ingest, "User-Agent": agent})
        assert response.status_code == 200, response.text


@pytest_asyncio.fixture(scope="module")
async def data(app):
    """The dataset above in project "Segments", and "Others" with its own rows."""
    transport = httpx.ASGITransport(app=app, client=("8.8.8.8", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://pulse.test") as c:
        main = await new_project(c, "Segments")
        other = await new_project(c, "Others")
        await send(c, main["ingest"], SENDS)
        await send(c, main["ingest"], IPHONE_SENDS, IPHONE)
        await send(c, other["ingest"], OTHER_SENDS)
        await drain(app)
        yield {**main, "other": other, "client": c, "app": app}


async def create(client, headers: dict, **body) -> dict:
    response = await client.post(SEGMENTS, json={"name": "Pro", "definition": PRO, **body}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()



# -- CRUD on REST ------------------------------------------------------------------------------

async def test_create_answers_the_reference_shape(client):
    p = await new_project(client, "Shape")
    response = await client.post(SEGMENTS, json=REFERENCE, headers=p["query"])
    assert response.status_code == 201
    body = response.json()
    assert uuid.UUID(body["id"])
    assert body == {"id": body["id"], **REFERENCE, "is_active": True}
    inactive = await create(client, p["query"], is_active=False)
    assert inactive == {"id": inactive["id"], "name": "Pro", "description": None, "definition": PRO,
                        "is_active": False}


async def test_the_definition_is_stored_as_sent(client):
    p = await new_project(client, "AsSent")
    sent = {"conditions": [{"value": 1.5, "op": "gt", "field": "pageviews", "source": "metric"},
                           {"match": "any", "conditions": [
                               {"source": "session", "field": "country", "op": "in", "value": ["US", "CA"]}]}],
            "match": "any"}
    made = await create(client, p["query"], name="  Mixed  ", definition=sent)
    assert (made["name"], made["definition"]) == ("Mixed", sent)
    assert (await client.get(f"{SEGMENTS}/{made['id']}", headers=p["query"])).json()["definition"] == sent


async def test_list_is_newest_first_and_paged(client):
    p = await new_project(client, "Listing")
    first = await create(client, p["query"], name="First")
    second = await create(client, p["query"], name="Second")
    third = await create(client, p["query"], name="Third")
    assert (await client.get(SEGMENTS, headers=p["query"])).json() == {"data": [third, second, first], "total": 3}
    paged = await client.get(SEGMENTS, params={"limit": 1, "offset": 1}, headers=p["query"])
    assert paged.json() == {"data": [second], "total": 3}
    assert (await client.get(SEGMENTS, params={"offset": 5}, headers=p["query"])).json() == {"data": [], "total": 3}
    code, body = await answer(client, "GET", SEGMENTS, p["query"], params={"limit": 0})
    assert code == 400 and body["error"].startswith("Invalid parameter: field 'limit'")


async def test_get_update_delete(client):
    p = await new_project(client, "Lifecycle")
    made = await create(client, p["query"], description="Paying users")
    url = f"{SEGMENTS}/{made['id']}"
    assert (await client.get(url, headers=p["query"])).json() == made
    assert await answer(client, "GET", url.upper().replace("/API/V1/SEGMENTS", SEGMENTS), p["query"]) == (200, made)

    code, changed = await answer(client, "PUT", url, p["query"], json={"is_active": False})
    assert (code, changed) == (200, {**made, "is_active": False})
    code, changed = await answer(client, "PUT", url, p["query"], json={"name": "Big buyers", "definition": BIG_BUYERS,
                                                                       "description": None})
    assert (code, changed) == (200, {**made, "name": "Big buyers", "definition": BIG_BUYERS, "description": None,
                                     "is_active": False})
    assert await answer(client, "PUT", url, p["query"], json={}) == (200, changed)
    assert (await client.get(url, headers=p["query"])).json() == changed

    assert await answer(client, "DELETE", url, p["query"]) == (204, None)
    assert await answer(client, "GET", url, p["query"]) == (404, {"error": f"Segment '{made['id']}' not found."})
    assert await answer(client, "DELETE", url, p["query"]) == (404, {"error": f"Segment '{made['id']}' not found."})
    assert (await client.get(SEGMENTS, headers=p["query"])).json() == {"data": [], "total": 0}


@pytest.mark.parametrize("segment_id", [str(uuid.uuid4()), "not-a-uuid", "compare-x"])
@pytest.mark.parametrize(("method", "suffix", "kwargs"), [
    ("GET", "", {}), ("PUT", "", {"json": {"name": "x"}}), ("DELETE", "", {}),
    ("GET", "/evaluate", {}), ("GET", "/breakdown", {"params": {"property": "country"}}),
])
async def test_an_unknown_id_is_a_404_with_the_reference_message(client, segment_id, method, suffix, kwargs):
    p = await new_project(client, f"Unknown{uuid.uuid4().hex[:6]}")
    assert await answer(client, method, f"{SEGMENTS}/{segment_id}{suffix}", p["query"], **kwargs) == (
        404, {"error": f"Segment '{segment_id}' not found."})


async def test_writes_are_audited(data):
    c, query, app = data["client"], data["query"], data["app"]
    made = await create(c, query, name="Audited")
    await c.put(f"{SEGMENTS}/{made['id']}", json={"name": "Audited 2", "is_active": False}, headers=query)
    await c.delete(f"{SEGMENTS}/{made['id']}", headers=query)
    entries = await rows(app, "SELECT action, object_type, actor_type, details FROM audit_logs WHERE project_id = :p "
                              "AND object_id = :o ORDER BY created_at", p=data["project"]["id"], o=made["id"])
    assert entries == [
        {"action": "segment.create", "object_type": "segment", "actor_type": "api_key", "details": None},
        {"action": "segment.update", "object_type": "segment", "actor_type": "api_key",
         "details": {"fields": ["is_active", "name"]}},
        {"action": "segment.delete", "object_type": "segment", "actor_type": "api_key", "details": None}]


# -- validation --------------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "message"), [
    ({"definition": PRO}, "Invalid request body: missing required field 'name'."),
    ({"name": "No definition"}, "Invalid request body: missing required field 'definition'."),
    ({"description": "neither"}, "Invalid request body: missing required field 'name'."),
    ({"name": "", "definition": PRO}, "Invalid request body: field 'name': must have 1 to 200 characters, got 0."),
    ({"name": "   ", "definition": PRO}, "Invalid request body: field 'name': must have 1 to 200 characters, got 0."),
    ({"name": "x" * 201, "definition": PRO},
     "Invalid request body: field 'name': must have 1 to 200 characters, got 201."),
    ({"name": 7, "definition": PRO}, "Invalid request body: field 'name': Input should be a valid string."),
    ({"name": "a\x00b", "definition": PRO},
     "Invalid request body: field 'name': must not contain NUL characters."),
    ({"name": "x", "description": "d" * 2001, "definition": PRO},
     "Invalid request body: field 'description': must have at most 2000 characters, got 2001."),
    ({"name": "x", "definition": PRO, "is_active": "yes"},
     "Invalid request body: field 'is_active': Input should be a valid boolean."),
    ({"name": "x", "definition": PRO, "owner": "me"}, "Invalid request body: field 'owner': Extra inputs are not "
                                                       "permitted."),
    ({"name": "x", "definition": None},
     "Invalid segment definition: expected an object with match and conditions, got null."),
    ({"name": "x", "definition": [PRO]},
     "Invalid segment definition: expected an object with match and conditions, got list."),
    ({"name": "x", "definition": {"match": "every", "conditions": []}},
     "Invalid segment definition: match: expected all or any, got 'every'."),
    ({"name": "x", "definition": {"match": "all", "conditions": [
        PRO["conditions"][0], {"source": "profile", "field": "traits.plan", "op": "gtt", "value": 1}]}},
     "Invalid segment definition: conditions[1].op: unknown operator 'gtt' (expected one of exists, not_exists, eq, "
     "neq, contains, starts_with, ends_with, gt, gte, lt, lte, in)."),
    ({"name": "x", "definition": {"match": "all", "conditions": [{"match": "any", "conditions": [
        {"source": "session", "field": "path", "op": "eq", "value": "/"}]}]}},
     None),  # the condition language's own message, naming conditions[0].conditions[0].field
    ({"name": "x", "definition": {"match": "all", "conditions": [
        {"source": "profile", "field": "traits.plan", "op": "eq", "value": "a\x00b"}]}},
     "Invalid segment definition: conditions[0].value: strings may not contain NUL characters."),
])
async def test_create_validation(client, body, message):
    p = await new_project(client, f"Valid{uuid.uuid4().hex[:6]}")
    code, got = await answer(client, "POST", SEGMENTS, p["query"], json=body)
    assert code == 400
    if message is None:
        assert got["error"].startswith("Invalid segment definition: conditions[0].conditions[0].field: "
                                       "unknown session field 'path'"), got
    else:
        assert got == {"error": message}
    assert (await client.get(SEGMENTS, headers=p["query"])).json()["total"] == 0


@pytest.mark.parametrize("body", [[], "x", None])
async def test_a_body_that_is_not_an_object_is_refused(client, body):
    p = await new_project(client, f"Body{uuid.uuid4().hex[:6]}")
    assert await answer(client, "POST", SEGMENTS, p["query"], json=body) == (
        400, {"error": "Invalid request body: expected a JSON object."})


@pytest.mark.parametrize(("body", "message"), [
    ({"name": None}, "Invalid request body: field 'name': Input should be a valid string."),
    ({"is_active": None}, "Invalid request body: field 'is_active': Input should be a valid boolean."),
    ({"definition": None}, "Invalid segment definition: expected an object with match and conditions, got null."),
    ({"definition": {"match": "all"}}, "Invalid segment definition: missing 'conditions' (a list of at most 20)."),
    ({"definition": {"match": "all", "conditions": [{"source": "metric", "field": "sessions", "op": "contains",
                                                      "value": "x"}]}},
     "Invalid segment definition: conditions[0].op: metric conditions take eq, neq, gt, gte, lt or lte, "
     "not 'contains'."),
])
async def test_update_validates_what_it_is_given_and_changes_nothing_when_refused(client, body, message):
    p = await new_project(client, f"Update{uuid.uuid4().hex[:6]}")
    made = await create(client, p["query"])
    url = f"{SEGMENTS}/{made['id']}"
    assert await answer(client, "PUT", url, p["query"], json={"name": "Renamed", **body}) == (400, {"error": message})
    assert (await client.get(url, headers=p["query"])).json() == made


# -- GraphQL CRUD ------------------------------------------------------------------------------

FIELDS = "id name description definition isActive createdAt updatedAt"
CREATE = f"mutation($input: SegmentInput!) {{ createSegment(input: $input) {{ {FIELDS} }} }}"
UPDATE = f"mutation($id: ID!, $input: SegmentUpdateInput!) {{ updateSegment(id: $id, input: $input) {{ {FIELDS} }} }}"
DELETE = "mutation($id: ID!) { deleteSegment(id: $id) }"
LIST = f"query($first: Int!, $after: String) {{ project {{ segments(first: $first, after: $after) {{ total " \
       f"pageInfo {{ endCursor hasNextPage }} data {{ {FIELDS} }} }} }} }}"
ONE = f"query($id: ID!) {{ project {{ segment(id: $id) {{ {FIELDS} }} }} }}"


def shown(segment: dict) -> dict:
    """A GraphQL segment as REST shows it."""
    return {"id": segment["id"], "name": segment["name"], "description": segment["description"],
            "definition": segment["definition"], "is_active": segment["isActive"]}


async def test_graphql_create_list_update_delete_agree_with_rest(client):
    p = await new_project(client, "Graph")
    headers = p["query"]
    result = await gql(client, CREATE, {"input": {"name": "Pro", "definition": PRO, "description": "Paying"}}, headers)
    made = result["data"]["createSegment"]
    assert shown(made) == {"id": made["id"], "name": "Pro", "description": "Paying", "definition": PRO,
                           "is_active": True}
    assert (await client.get(f"{SEGMENTS}/{made['id']}", headers=headers)).json() == shown(made)
    second = (await gql(client, CREATE, {"input": {"name": "All", "definition": EVERYONE, "isActive": False}},
                        headers))["data"]["createSegment"]
    assert (second["isActive"], second["description"]) == (False, None)

    page = (await gql(client, LIST, {"first": 1}, headers))["data"]["project"]["segments"]
    assert (page["total"], page["pageInfo"]["hasNextPage"], page["data"]) == (2, True, [second])
    rest_page = (await gql(client, LIST, {"first": 1, "after": page["pageInfo"]["endCursor"]},
                           headers))["data"]["project"]["segments"]
    assert (rest_page["data"], rest_page["pageInfo"]["hasNextPage"]) == ([made], False)
    listed = (await client.get(SEGMENTS, headers=headers)).json()
    assert listed == {"data": [shown(second), shown(made)], "total": 2}
    assert (await gql(client, ONE, {"id": made["id"]}, headers))["data"]["project"]["segment"] == made

    updated = (await gql(client, UPDATE, {"id": made["id"], "input": {"definition": BIG_BUYERS}},
                         headers))["data"]["updateSegment"]
    assert shown(updated) == {**shown(made), "definition": BIG_BUYERS}
    cleared = (await gql(client, UPDATE, {"id": made["id"], "input": {"description": None, "isActive": False}},
                         headers))["data"]["updateSegment"]
    assert shown(cleared) == {**shown(updated), "description": None, "is_active": False}

    assert (await gql(client, DELETE, {"id": made["id"]}, headers))["data"] == {"deleteSegment": True}
    assert gql_error(await gql(client, DELETE, {"id": made["id"]}, headers)) == (
        f"Segment '{made['id']}' not found.", "NOT_FOUND")
    assert gql_error(await gql(client, ONE, {"id": made["id"]}, headers)) == (
        f"Segment '{made['id']}' not found.", "NOT_FOUND")
    assert (await client.get(SEGMENTS, headers=headers)).json()["total"] == 1


async def test_graphql_validation_matches_rest(client):
    p = await new_project(client, "GraphValid")
    bad = {"match": "all", "conditions": [{"source": "event", "op": "exists"}]}
    message = "Invalid segment definition: conditions[0]: missing 'event' (the event name, 1 to 200 characters)."
    assert await answer(client, "POST", SEGMENTS, p["query"], json={"name": "x", "definition": bad}) == (
        400, {"error": message})
    assert gql_error(await gql(client, CREATE, {"input": {"name": "x", "definition": bad}}, p["query"])) == (
        message, "BAD_REQUEST")
    assert gql_error(await gql(client, CREATE, {"input": {"name": " ", "definition": PRO}}, p["query"])) == (
        "Invalid request body: field 'name': must have 1 to 200 characters, got 0.", "BAD_REQUEST")
    made = await create(client, p["query"])
    assert gql_error(await gql(client, UPDATE, {"id": made["id"], "input": {"definition": None}}, p["query"])) == (
        "Invalid segment definition: expected an object with match and conditions, got null.", "BAD_REQUEST")
    assert (await client.get(SEGMENTS, headers=p["query"])).json() == {"data": [made], "total": 1}


# -- access ------------------------------------------------------------------------------------

ROUTES = [("GET", ""), ("POST", ""), ("GET", "/compare?segment_ids={id}"), ("GET", "/{id}"), ("PUT", "/{id}"),
          ("DELETE", "/{id}"), ("GET", "/{id}/evaluate"), ("GET", "/{id}/breakdown?property=country")]


def route(path: str, segment_id: str) -> str:
    return SEGMENTS + path.replace("{id}", segment_id)


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_an_ingest_key_is_refused(client, method, path):
    p = await new_project(client, f"Ingest{uuid.uuid4().hex[:6]}")
    made = await create(client, p["query"])
    body = {"json": {"name": "x", "definition": PRO}} if method in ("POST", "PUT") else {}
    assert await answer(client, method, route(path, made["id"]), p["ingest"], **body) == (
        403, {"error": "API key does not have the required 'query' scope for this endpoint."})
    assert (await client.get(f"{SEGMENTS}/{made['id']}", headers=p["query"])).json() == made


async def test_an_ingest_key_is_refused_on_graphql(client):
    p = await new_project(client, "IngestGraph")
    made = await create(client, p["query"])
    refusal = ("API key does not have the required 'query' scope for this endpoint.", "FORBIDDEN")
    assert gql_error(await gql(client, LIST, {"first": 5}, p["ingest"])) == refusal
    assert gql_error(await gql(client, CREATE, {"input": {"name": "x", "definition": PRO}}, p["ingest"])) == refusal
    assert gql_error(await gql(client, DELETE, {"id": made["id"]}, p["ingest"])) == refusal
    assert (await client.get(SEGMENTS, headers=p["query"])).json()["total"] == 1


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_the_routes_need_the_segments_module(client, method, path):
    p = await new_project(client, f"Gated{uuid.uuid4().hex[:6]}")
    made = await create(client, p["query"])
    await client.post(f"/api/admin/projects/{p['project']['id']}/modules/segments/disable", headers=ADMIN)
    body = {"json": {"name": "x", "definition": PRO}} if method in ("POST", "PUT") else {}
    assert await answer(client, method, route(path, made["id"]), p["query"], **body) == (
        403, {"error": "Module 'segments' is not enabled for this project."})
    await client.post(f"/api/admin/projects/{p['project']['id']}/modules/segments/enable", headers=ADMIN)
    assert (await client.get(f"{SEGMENTS}/{made['id']}", headers=p["query"])).json() == made


async def test_the_graphql_fields_need_the_segments_module(client):
    p = await new_project(client, "GatedGraph")
    made = await create(client, p["query"])
    await client.post(f"/api/admin/projects/{p['project']['id']}/modules/segments/disable", headers=ADMIN)
    refusal = ("Module 'segments' is not enabled for this project.", "FORBIDDEN")
    for query, variables in ((LIST, {"first": 5}), (ONE, {"id": made["id"]}),
                             ("{ project { compareSegments(ids: []) { name } } }", {}),
                             (CREATE, {"input": {"name": "x", "definition": PRO}}),
                             (UPDATE, {"id": made["id"], "input": {"name": "y"}}), (DELETE, {"id": made["id"]})):
        assert gql_error(await gql(client, query, variables, p["query"])) == refusal, query
    # The project's other modules are unaffected.
    assert "errors" not in await gql(client, "{ project { stats { current { pageviews } } } }", headers=p["query"])


async def test_read_access_refuses_writes(client):
    p = await new_project(client, "ReadOnly")
    made = await create(client, p["query"])
    access = f"/api/admin/projects/{p['project']['id']}/modules/segments/access"
    await client.put(access, json={"access": "read"}, headers=ADMIN)
    refusal = "Module 'segments' does not allow write access for this project."
    assert (await client.get(f"{SEGMENTS}/{made['id']}", headers=p["query"])).status_code == 200
    for method, kwargs in (("POST", {"json": {"name": "x", "definition": PRO}}), ("PUT", {"json": {"name": "y"}}),
                           ("DELETE", {})):
        path = SEGMENTS if method == "POST" else f"{SEGMENTS}/{made['id']}"
        assert await answer(client, method, path, p["query"], **kwargs) == (403, {"error": refusal})
    assert gql_error(await gql(client, DELETE, {"id": made["id"]}, p["query"])) == (refusal, "FORBIDDEN")
    await client.put(access, json={"access": "all"}, headers=ADMIN)
    assert (await client.get(SEGMENTS, headers=p["query"])).json() == {"data": [made], "total": 1}


async def test_the_admin_token_names_the_project(client):
    p = await new_project(client, "AdminToken")
    pid = p["project"]["id"]
    made = (await client.post(SEGMENTS, params={"project_id": pid}, json={"name": "A", "definition": PRO},
                              headers=ADMIN)).json()
    assert (await client.get(SEGMENTS, headers=p["query"])).json() == {"data": [made], "total": 1}
    assert (await client.get(SEGMENTS, headers=ADMIN)).status_code == 400
    result = await gql(client, "mutation($p: ID!, $input: SegmentInput!) { createSegment(projectId: $p, input: $input) "
                               "{ id name } }", {"p": pid, "input": {"name": "B", "definition": EVERYONE}}, ADMIN)
    assert result["data"]["createSegment"]["name"] == "B"
    assert (await client.get(SEGMENTS, headers=p["query"])).json()["total"] == 2


async def test_another_project_cannot_read_change_or_delete_a_segment(data):
    c, mine, other = data["client"], data["query"], data["other"]["query"]
    made = await create(c, mine, name="Mine")
    theirs = await create(c, other, name="Theirs")
    url = f"{SEGMENTS}/{made['id']}"
    missing = {"error": f"Segment '{made['id']}' not found."}
    assert await answer(c, "GET", url, other) == (404, missing)
    assert await answer(c, "PUT", url, other, json={"name": "Taken"}) == (404, missing)
    assert await answer(c, "DELETE", url, other) == (404, missing)
    assert await answer(c, "GET", f"{url}/evaluate", other) == (404, missing)
    assert await answer(c, "GET", f"{url}/breakdown", other, params={"property": "path"}) == (404, missing)
    assert await answer(c, "GET", f"{SEGMENTS}/compare", other, params={"segment_ids": made["id"]}) == (404, missing)
    assert made["id"] not in {s["id"] for s in (await c.get(SEGMENTS, headers=other)).json()["data"]}
    assert theirs["id"] not in {s["id"] for s in (await c.get(SEGMENTS, headers=mine)).json()["data"]}
    for query, variables in ((ONE, {"id": made["id"]}), (UPDATE, {"id": made["id"], "input": {"name": "Taken"}}),
                             (DELETE, {"id": made["id"]})):
        assert gql_error(await gql(c, query, variables, other)) == (missing["error"], "NOT_FOUND"), query
    assert (await c.get(url, headers=mine)).json() == made
    await c.delete(url, headers=mine)
    await c.delete(f"{SEGMENTS}/{theirs['id']}", headers=other)


# -- parameters --------------------------------------------------------------------------------

async def test_compare_needs_one_to_ten_known_ids(data):
    c, query = data["client"], data["query"]
    made = await create(c, query, name="Compared")
    compare = f"{SEGMENTS}/compare"
    at_least_one = {"error": "Invalid parameter: 'segment_ids' must name at least one segment."}
    assert await answer(c, "GET", compare, query) == (400, at_least_one)
    assert await answer(c, "GET", compare, query, params={"segment_ids": " , "}) == (400, at_least_one)
    eleven = ",".join(str(uuid.uuid4()) for _ in range(11))
    assert await answer(c, "GET", compare, query, params={"segment_ids": eleven}) == (
        400, {"error": "Invalid parameter: 'segment_ids' names 11 segments; at most 10 can be compared."})
    unknown = str(uuid.uuid4())
    assert await answer(c, "GET", compare, query, params={"segment_ids": f"{made['id']},{unknown}"}) == (
        404, {"error": f"Segment '{unknown}' not found."})
    assert await answer(c, "GET", compare, query, params={"segment_ids": "nope"}) == (
        404, {"error": "Segment 'nope' not found."})
    result = await gql(c, "{ project { compareSegments(ids: []) { name } } }", headers=query)
    assert gql_error(result) == (at_least_one["error"], "BAD_REQUEST")
    await c.delete(f"{SEGMENTS}/{made['id']}", headers=query)


@pytest.mark.parametrize(("suffix", "params", "message"), [
    ("/evaluate", {"limit": 0}, "Invalid parameter: 'limit' must be between 1 and 1000."),
    ("/evaluate", {"limit": 1001}, "Invalid parameter: 'limit' must be between 1 and 1000."),
    ("/evaluate", {"offset": -1}, "Invalid parameter: 'offset' must be between 0 and 1000000."),
    ("/evaluate", {"start": "2026-01-01"}, "Unknown query parameter 'start'. Did you mean 'start_at'?"),
    ("/evaluate", {"start_at": "yesterday"}, "Invalid value for 'start_at': expected an ISO-8601 date or datetime."),
    ("/evaluate", {"start_at": "2026-02-02", "end_at": "2026-02-01"},
     "Invalid parameters: 'start_at' must not be after 'end_at'."),
    ("/breakdown", {}, "Invalid parameter: missing required field 'property'."),
    ("/breakdown", {"property": "path", "limit": 0}, "Invalid parameter: 'limit' must be between 1 and 1000."),
    ("/breakdown", {"property": "path", "filter": "path:is:/"}, "Unknown query parameter 'filter'."),
])
async def test_bad_parameters_are_a_400(data, suffix, params, message):
    c, query = data["client"], data["query"]
    made = await create(c, query, name="Params")
    try:
        assert await answer(c, "GET", f"{SEGMENTS}/{made['id']}{suffix}", query, params=params) == (
            400, {"error": message})
    finally:
        await c.delete(f"{SEGMENTS}/{made['id']}", headers=query)


# -- evaluate, breakdown, compare --------------------------------------------------------------

@pytest_asyncio.fixture(scope="module")
async def saved(data):
    """The main project's segments over the dataset, by name, and one of the other project's."""
    c, query = data["client"], data["query"]
    made = {name: await create(c, query, name=name, definition=definition)
            for name, definition in (("pro", PRO), ("big buyers", BIG_BUYERS), ("everyone", EVERYONE),
                                     ("nobody", NOBODY), ("planned", PLANNED))}
    made["inactive pro"] = await create(c, query, name="inactive pro", definition=PRO, is_active=False)
    made["other pro"] = await create(c, data["other"]["query"], name="other pro", definition=PRO)
    return made


async def get(data, path: str, headers: dict | None = None, **params) -> dict:
    response = await data["client"].get(path, params=params, headers=headers or data["query"])
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(("name", "visitors"), [
    ("pro", ["v1", "v2"]), ("big buyers", ["v1"]), ("everyone", ["v1", "v2", "v3", "v4"]), ("nobody", []),
    ("planned", ["v1", "v2", "v3"]), ("inactive pro", ["v1", "v2"]),
])
async def test_evaluate_lists_the_matching_visitors_of_the_range(data, saved, name, visitors):
    segment = saved[name]
    assert await get(data, f"{SEGMENTS}/{segment['id']}/evaluate", **RANGE) == {
        "segment_id": segment["id"], "total_visitors": len(visitors), "visitors": visitors}


async def test_evaluate_pages_the_ids_and_counts_them_all(data, saved):
    everyone = f"{SEGMENTS}/{saved['everyone']['id']}/evaluate"
    assert (await get(data, everyone, limit=2, offset=1, **RANGE))["visitors"] == ["v2", "v3"]
    page = await get(data, everyone, limit=2, offset=3, **RANGE)
    assert (page["total_visitors"], page["visitors"]) == (4, ["v4"])
    assert await get(data, everyone, offset=10, **RANGE) == {"segment_id": saved["everyone"]["id"],
                                                              "total_visitors": 4, "visitors": []}


async def test_evaluate_counts_only_visitors_active_in_the_range(data, saved):
    pro = saved["pro"]["id"]
    assert (await get(data, f"{SEGMENTS}/{pro}/evaluate", **BEFORE))["total_visitors"] == 0
    day = D2.date().isoformat()
    assert (await get(data, f"{SEGMENTS}/{pro}/evaluate", start_at=day, end_at=day))["visitors"] == ["v2"]
    # The default range is the last 30 days, which hold the whole dataset.
    assert (await get(data, f"{SEGMENTS}/{pro}/evaluate"))["visitors"] == ["v1", "v2"]


async def test_the_other_project_evaluates_its_own_visitors(data, saved):
    other = saved["other pro"]["id"]
    body = await get(data, f"{SEGMENTS}/{other}/evaluate", headers=data["other"]["query"], **RANGE)
    assert (body["total_visitors"], sorted(body["visitors"])) == (2, ["v1", "v9"])


def ranked(rows: list[dict]) -> dict:
    """A breakdown's rows as {value: visitors}, checking they are most visitors first."""
    counts = [row["visitors"] for row in rows]
    assert counts == sorted(counts, reverse=True), rows
    return {row["value"]: row["visitors"] for row in rows}


async def test_breakdown_by_path_trait_and_event(data, saved):
    pro, planned, everyone = (saved[n]["id"] for n in ("pro", "planned", "everyone"))
    by_path = (await get(data, f"{SEGMENTS}/{pro}/breakdown", property="path", **RANGE))["data"]
    assert ranked(by_path) == {"/": 2, "/pricing": 1, "/docs": 1} and by_path[0] == {"value": "/", "visitors": 2}
    assert (await get(data, f"{SEGMENTS}/{pro}/breakdown", property="path", limit=1, **RANGE)) == {
        "data": [{"value": "/", "visitors": 2}]}
    assert (await get(data, f"{SEGMENTS}/{planned}/breakdown", property="trait:plan", **RANGE)) == {
        "data": [{"value": "pro", "visitors": 2}, {"value": "free", "visitors": 1}]}
    assert (await get(data, f"{SEGMENTS}/{everyone}/breakdown", property="event", **RANGE)) == {
        "data": [{"value": "purchase", "visitors": 2}]}
    assert ranked((await get(data, f"{SEGMENTS}/{everyone}/breakdown", property="path", **RANGE))["data"]) == {
        "/": 3, "/pricing": 2, "/docs": 1}
    assert (await get(data, f"{SEGMENTS}/{saved['nobody']['id']}/breakdown", property="path", **RANGE)) == {
        "data": []}


async def test_breakdown_refuses_an_unknown_property(data, saved):
    code, body = await answer(data["client"], "GET", f"{SEGMENTS}/{saved['pro']['id']}/breakdown", data["query"],
                              params={"property": "planet", **RANGE})
    assert code == 400 and "planet" in body["error"], body


async def test_compare_gives_each_segments_traffic(data, saved):
    pro, everyone = saved["pro"], saved["everyone"]
    body = await get(data, f"{SEGMENTS}/compare", segment_ids=f"{pro['id']},{everyone['id']}", **RANGE)
    first, second = body["data"]
    # v1 (/, /pricing; 180 s) and v2 (/, /docs; 300 s): two sessions, no bounce.
    assert first == {"segment_id": pro["id"], "name": "pro", "visitors": 2, "sessions": 2, "pageviews": 4,
                     "events": 2, "bounce_rate": 0.0, "avg_duration": 240.0}
    # Everyone's numbers are the unfiltered report's.
    stats = (await get(data, "/api/v1/stats", **RANGE))["current"]
    assert second == {"segment_id": everyone["id"], "name": "everyone",
                      **{k: stats[k] for k in ("visitors", "sessions", "pageviews", "events", "bounce_rate",
                                               "avg_duration")}}
    assert (second["visitors"], second["sessions"], second["pageviews"], second["events"]) == (4, 4, 6, 2)
    # An id given twice is answered once; the order is the order given.
    again = await get(data, f"{SEGMENTS}/compare", segment_ids=f"{everyone['id']},{pro['id']},{pro['id']}", **RANGE)
    assert again == {"data": [second, first]}
    nobody = await get(data, f"{SEGMENTS}/compare", segment_ids=saved["nobody"]["id"], **RANGE)
    assert nobody["data"][0]["visitors"] == 0 and nobody["data"][0]["sessions"] == 0


# -- the same answers on GraphQL ---------------------------------------------------------------

ANSWERS = """query($id: ID!, $ids: [ID!]!, $s: String, $e: String) { project {
  segment(id: $id) { name
    evaluate(startAt: $s, endAt: $e, limit: 1, offset: 1) { segmentId totalVisitors visitors }
    breakdown(property: "path", startAt: $s, endAt: $e, limit: 1) { value visitors } }
  compareSegments(ids: $ids, startAt: $s, endAt: $e) { segmentId name visitors sessions pageviews events bounceRate
    avgDuration }
} }"""


def camel(row: dict) -> dict:
    return {"".join(w.title() if i else w for i, w in enumerate(k.split("_"))): v for k, v in row.items()}


async def test_graphql_agrees_with_rest(data, saved):
    pro, everyone = saved["pro"]["id"], saved["everyone"]["id"]
    variables = {"id": pro, "ids": [pro, everyone], "s": RANGE["start_at"], "e": RANGE["end_at"]}
    result = await gql(data["client"], ANSWERS, variables, data["query"])
    assert "errors" not in result, result
    p = result["data"]["project"]
    evaluated = await get(data, f"{SEGMENTS}/{pro}/evaluate", limit=1, offset=1, **RANGE)
    assert p["segment"]["evaluate"] == camel(evaluated) == {"segmentId": pro, "totalVisitors": 2, "visitors": ["v2"]}
    assert p["segment"]["breakdown"] == [{"value": "/", "visitors": 2}]
    compared = await get(data, f"{SEGMENTS}/compare", segment_ids=f"{pro},{everyone}", **RANGE)
    assert p["compareSegments"] == [camel(row) for row in compared["data"]]


async def test_graphql_refuses_what_rest_refuses(data, saved):
    pro = saved["pro"]["id"]
    query = data["query"]
    bad = await gql(data["client"], "query($id: ID!) { project { segment(id: $id) { evaluate(limit: 0) "
                                    "{ totalVisitors } } } }", {"id": pro}, query)
    assert gql_error(bad) == ("Invalid parameter: 'limit' must be between 1 and 1000.", "BAD_REQUEST")
    late = await gql(data["client"], "query($id: ID!) { project { segment(id: $id) { evaluate(startAt: \"x\") "
                                     "{ totalVisitors } } } }", {"id": pro}, query)
    assert gql_error(late) == ("Invalid value for 'start_at': expected an ISO-8601 date or datetime.", "BAD_REQUEST")
    other = await gql(data["client"], "query($ids: [ID!]!) { project { compareSegments(ids: $ids) { name } } }",
                      {"ids": [saved["other pro"]["id"]]}, query)
    assert gql_error(other) == (f"Segment '{saved['other pro']['id']}' not found.", "NOT_FOUND")


async def test_an_unsaved_definition_previews_as_a_saved_one_evaluates(data, saved):
    """The segment builder's live count: the same engine, no segment stored."""
    query = ('query($d: JSON!, $s: String, $e: String) { project { previewSegment(definition: $d, startAt: $s, '
             'endAt: $e, limit: 1) { totalVisitors visitors } } }')
    variables = {"d": PRO, "s": RANGE["start_at"], "e": RANGE["end_at"]}
    result = await gql(data["client"], query, variables, headers=data["query"])
    assert result["data"]["project"]["previewSegment"] == {"totalVisitors": 2, "visitors": ["v1"]}
    bad = await gql(data["client"], query, {**variables, "d": {"match": "most"}}, headers=data["query"])
    message, code = gql_error(bad)
    assert code == "BAD_REQUEST" and message.startswith("Invalid segment definition: match")
