"""Goals on both faces: the reference's shapes, validation (each message says what is wrong), 404s,
audit entries, module gating and tenant isolation; and each goal type's conversions, converting
visitors, revenue and conversion rate on a small known dataset, REST and GraphQL alike."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import pytest_asyncio

from tests.helpers import (
    ADMIN,
    CHROME,
    answer,
    drain,
    gql,
    gql_error,
    new_project,
    rows,
)

GOALS = "/api/v1/goals"
PURCHASE = {"name": "Completed Purchase", "goal_type": "event", "config": {"event_name": "purchase"}}
PRICING = {"name": "Visited Pricing", "goal_type": "pageview", "config": {"path": "/pricing"}}
ENGAGED = {"name": "Engaged Session (>2min)", "goal_type": "duration", "config": {"threshold_seconds": 120}}
DEEP = {"name": "Three pages", "goal_type": "pages_per_session", "config": {"threshold": 3}}

# Two days of traffic, three days ago (the project's days are UTC). Sessions (pageviews, duration):
#   D1 10:00  v1  / (10:00), /pricing (10:01), purchase {plan: pro} 50 USD (10:02), /blog/a (10:04)   3, 240 s
#   D1 12:00  v2  /pricing (12:00), purchase {plan: free} 19.99 USD (12:00:30)                           1, 30 s
#   D2 08:00  v1  purchase {plan: pro} 25.5 USD (no pageview: not a visit)                              0, 0 s
#   D2 09:00  v2  /pricing (09:00), /blog/b (09:03)                                                      2, 180 s
#   D2 10:00  v3  /blog, /blogroll, /blog/a (10:00-10:02), /blog/b (10:10), purchase {plan: pro}
#                 40 EUR (10:11)                                                                        4, 660 s
#   D2 14:00  v4  / (14:00)                                                                              1, 0 s
#   D2 15:00  v5  purchase {plan: pro}, no revenue (no pageview)                                       0, 0 s
# The range's visitors: v1 to v5, five.
D1 = (datetime.now(UTC) - timedelta(days=3)).replace(hour=0, minute=0, second=0, microsecond=0)
D2 = D1 + timedelta(days=1)
RANGE = {"start_at": D1.date().isoformat(), "end_at": D2.date().isoformat()}
ONLY_D2 = {"start_at": D2.date().isoformat(), "end_at": D2.date().isoformat()}
BEFORE = {"start_at": (D1 - timedelta(days=5)).date().isoformat(),
          "end_at": (D1 - timedelta(days=1)).date().isoformat()}


def at(day: datetime, hour: int, minute: int = 0, second: int = 0) -> str:
    return (day + timedelta(hours=hour, minutes=minute, seconds=second)).isoformat()


def pageview(visitor: str, path: str, when: str) -> dict:
    return {"type": "pageview", "visitor_id": visitor, "path": path, "timestamp": when}


def purchase(visitor: str, plan: str, when: str, amount: float | None = None, currency: str | None = None) -> dict:
    body = {"type": "event", "visitor_id": visitor, "name": "purchase", "data": {"plan": plan}, "timestamp": when}
    if amount is not None:
        body["revenue_amount"] = amount
    if currency is not None:
        body["revenue_currency"] = currency
    return body


SENDS = [
    pageview("v1", "/", at(D1, 10)), pageview("v1", "/pricing", at(D1, 10, 1)),
    purchase("v1", "pro", at(D1, 10, 2), 50, "USD"), pageview("v1", "/blog/a", at(D1, 10, 4)),
    pageview("v2", "/pricing", at(D1, 12)), purchase("v2", "free", at(D1, 12, 0, 30), 19.99),
    purchase("v1", "pro", at(D2, 8), 25.5, "USD"),
    pageview("v2", "/pricing", at(D2, 9)), pageview("v2", "/blog/b", at(D2, 9, 3)),
    pageview("v3", "/blog", at(D2, 10)), pageview("v3", "/blogroll", at(D2, 10, 1)),
    pageview("v3", "/blog/a", at(D2, 10, 2)), pageview("v3", "/blog/b", at(D2, 10, 10)),
    purchase("v3", "pro", at(D2, 10, 11), 40, "EUR"),
    pageview("v4", "/", at(D2, 14)),
    purchase("v5", "pro", at(D2, 15)),
]
# Another project with the same visitor ids and paths: none of it may count in the first.
OTHER_SENDS = [
    pageview("v1", "/pricing", at(D1, 8)), pageview("v1", "/blog/a", at(D1, 8, 10)),
    pageview("v1", "/x", at(D1, 8, 20)),
    purchase("v1", "pro", at(D1, 8, 21), 999, "USD"), pageview("v9", "/pricing", at(D2, 8)),
]



async def send(client, ingest: dict, sends: list[dict]) -> None:
    for body in sends:
        response = await client.post("/api/collect", json=body, headers={**ingest, "User-Agent": CHROME})
        assert response.status_code == 200, response.text


@pytest_asyncio.fixture(scope="module")
async def data(app):
    """The dataset above in project "Goals", and "Others" with its own rows."""
    transport = httpx.ASGITransport(app=app, client=("8.8.4.4", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://pulse.test") as c:
        main = await new_project(c, "Goals")
        other = await new_project(c, "Others")
        await send(c, main["ingest"], SENDS)
        await send(c, other["ingest"], OTHER_SENDS)
        await drain(app)
        yield {**main, "other": other, "client": c, "app": app}


async def create(client, headers: dict, body: dict | None = None, **fields) -> dict:
    response = await client.post(GOALS, json={**(body or PURCHASE), **fields}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()



# -- CRUD on REST ------------------------------------------------------------------------------

async def test_create_answers_the_reference_shape(client):
    p = await new_project(client, "Shape")
    for body in (PURCHASE, PRICING, ENGAGED, DEEP):
        response = await client.post(GOALS, json=body, headers=p["query"])
        assert response.status_code == 201, response.text
        made = response.json()
        assert uuid.UUID(made["id"])
        assert made == {"id": made["id"], **body, "created_at": made["created_at"]}
        created = datetime.fromisoformat(made["created_at"].replace("Z", "+00:00"))
        assert made["created_at"].endswith("Z") and abs(datetime.now(UTC) - created) < timedelta(minutes=5)


async def test_the_config_is_stored_as_sent(client):
    p = await new_project(client, "AsSent")
    config = {"condition": {"value": 40, "op": "gte", "field": "revenue_amount"}, "event_name": "purchase"}
    made = await create(client, p["query"], name="  Big purchase  ", config=config)
    assert (made["name"], made["config"]) == ("Big purchase", config)
    assert (await client.get(f"{GOALS}/{made['id']}", headers=p["query"])).json() == made


async def test_list_is_newest_first_and_paged(client):
    p = await new_project(client, "Listing")
    first = await create(client, p["query"], PRICING)
    second = await create(client, p["query"], ENGAGED)
    third = await create(client, p["query"])
    assert (await client.get(GOALS, headers=p["query"])).json() == {"data": [third, second, first], "total": 3}
    paged = await client.get(GOALS, params={"limit": 1, "offset": 1}, headers=p["query"])
    assert paged.json() == {"data": [second], "total": 3}


async def test_get_update_delete(client):
    p = await new_project(client, "Lifecycle")
    made = await create(client, p["query"])
    url = f"{GOALS}/{made['id']}"
    assert await answer(client, "GET", url, p["query"]) == (200, made)

    code, changed = await answer(client, "PUT", url, p["query"], json={"name": "Bought"})
    assert (code, changed) == (200, {**made, "name": "Bought"})
    # A config alone is checked against the stored type.
    condition = {"event_name": "purchase", "condition": {"field": "event_data.plan", "op": "eq", "value": "pro"}}
    code, changed = await answer(client, "PUT", url, p["query"], json={"config": condition})
    assert (code, changed) == (200, {**made, "name": "Bought", "config": condition})
    # A new type with a config that fits it.
    code, changed = await answer(client, "PUT", url, p["query"], json={"goal_type": "duration",
                                                                       "config": {"threshold_seconds": 60}})
    assert (code, changed) == (200, {**made, "name": "Bought", "goal_type": "duration",
                                     "config": {"threshold_seconds": 60}})
    assert await answer(client, "PUT", url, p["query"], json={}) == (200, changed)
    assert (await client.get(url, headers=p["query"])).json() == changed

    assert await answer(client, "DELETE", url, p["query"]) == (204, None)
    missing = {"error": f"Goal '{made['id']}' not found."}
    assert await answer(client, "GET", url, p["query"]) == (404, missing)
    assert await answer(client, "DELETE", url, p["query"]) == (404, missing)
    assert (await client.get(GOALS, headers=p["query"])).json() == {"data": [], "total": 0}


@pytest.mark.parametrize("goal_id", [str(uuid.uuid4()), "not-a-uuid"])
@pytest.mark.parametrize(("method", "suffix", "kwargs"), [
    ("GET", "", {}), ("PUT", "", {"json": {"name": "x"}}), ("PUT", "", {"json": {"config": {"path": "/"}}}),
    ("DELETE", "", {}), ("GET", "/stats", {}),
])
async def test_an_unknown_id_is_a_404_with_the_reference_message(client, goal_id, method, suffix, kwargs):
    p = await new_project(client, f"Unknown{uuid.uuid4().hex[:6]}")
    assert await answer(client, method, f"{GOALS}/{goal_id}{suffix}", p["query"], **kwargs) == (
        404, {"error": f"Goal '{goal_id}' not found."})


async def test_writes_are_audited(data):
    c, query, app = data["client"], data["query"], data["app"]
    made = await create(c, query, name="Audited")
    await c.put(f"{GOALS}/{made['id']}", json={"name": "Audited 2", "config": {"event_name": "signup"}}, headers=query)
    await c.delete(f"{GOALS}/{made['id']}", headers=query)
    entries = await rows(app, "SELECT action, object_type, actor_type, details FROM audit_logs WHERE project_id = :p "
                              "AND object_id = :o ORDER BY created_at", p=data["project"]["id"], o=made["id"])
    assert entries == [
        {"action": "goal.create", "object_type": "goal", "actor_type": "api_key", "details": None},
        {"action": "goal.update", "object_type": "goal", "actor_type": "api_key",
         "details": {"fields": ["config", "name"]}},
        {"action": "goal.delete", "object_type": "goal", "actor_type": "api_key", "details": None}]


# -- validation --------------------------------------------------------------------------------

TYPES = "pageview, event, duration, pages_per_session"


def goal(goal_type, config) -> dict:
    return {"name": "x", "goal_type": goal_type, "config": config}


def on_purchase(**condition) -> dict:
    return goal("event", {"event_name": "purchase", "condition": condition})


@pytest.mark.parametrize(("body", "message"), [
    ({"goal_type": "event", "config": {}}, "Invalid request body: missing required field 'name'."),
    ({"name": "x", "config": {}}, "Invalid request body: missing required field 'goal_type'."),
    ({"name": "x", "goal_type": "nope"}, "Invalid request body: missing required field 'config'."),
    ({"goal_type": "nope", "config": 5}, "Invalid request body: missing required field 'name'."),
    ({**PURCHASE, "name": " "}, "Invalid request body: field 'name': must have 1 to 200 characters, got 0."),
    ({**PURCHASE, "name": 7}, "Invalid request body: field 'name': Input should be a valid string."),
    ({**PURCHASE, "owner": "me"}, "Invalid request body: field 'owner': Extra inputs are not permitted."),
    (goal("x", {}), f"Invalid goal: goal_type 'x' is not one of {TYPES}."),
    (goal(3, {}), f"Invalid goal: goal_type 3 is not one of {TYPES}."),
    (goal(None, {}), f"Invalid goal: goal_type null is not one of {TYPES}."),
    (goal("pageview", ["/pricing"]), "Invalid goal: config must be an object, got a list."),
    (goal("pageview", {}), "Invalid goal: a pageview goal needs config.path."),
    (goal("pageview", {"event_name": "purchase"}), "Invalid goal: a pageview goal needs config.path."),
    (goal("pageview", {"path": "pricing"}), "Invalid goal: config.path must start with '/', got 'pricing'."),
    (goal("pageview", {"path": 5}), "Invalid goal: config.path must be a string, got a number."),
    (goal("pageview", {"path": "/a*/b"}),
     "Invalid goal: config.path may have '*' only at its end (a prefix match), got '/a*/b'."),
    (goal("pageview", {"path": "/" + "p" * 1024}), "Invalid goal: config.path may have at most 1024 bytes, got 1025."),
    (goal("pageview", {"path": "/", "exact": True}),
     "Invalid goal: config.exact is not a setting of a pageview goal (expected path)."),
    (goal("pageview", {"path": "/a\x00"}), "Invalid request body: text may not contain NUL characters."),
    (goal("event", {}), "Invalid goal: an event goal needs config.event_name."),
    (goal("event", {"event_name": ""}), "Invalid goal: config.event_name must have 1 to 200 characters, got 0."),
    (goal("event", {"event_name": ["purchase"]}), "Invalid goal: config.event_name must be a string, got a list."),
    (goal("event", {"event_name": "purchase", "path": "/"}),
     "Invalid goal: config.path is not a setting of an event goal (expected event_name, condition)."),
    (goal("duration", {}), "Invalid goal: a duration goal needs config.threshold_seconds."),
    (goal("duration", {"threshold_seconds": 0}),
     "Invalid goal: config.threshold_seconds must be an integer from 1 to 2147483647, got 0."),
    (goal("duration", {"threshold_seconds": -5}),
     "Invalid goal: config.threshold_seconds must be an integer from 1 to 2147483647, got -5."),
    (goal("duration", {"threshold_seconds": 2**31}),
     "Invalid goal: config.threshold_seconds must be an integer from 1 to 2147483647, got 2147483648."),
    (goal("duration", {"threshold_seconds": "120"}),
     "Invalid goal: config.threshold_seconds must be an integer, got '120'."),
    (goal("duration", {"threshold_seconds": 1.5}),
     "Invalid goal: config.threshold_seconds must be an integer, got 1.5."),
    (goal("duration", {"threshold_seconds": True}),
     "Invalid goal: config.threshold_seconds must be an integer, got a boolean."),
    (goal("duration", {"threshold": 120}), "Invalid goal: a duration goal needs config.threshold_seconds."),
    (goal("duration", {"threshold_seconds": 120, "threshold": 3}),
     "Invalid goal: config.threshold is not a setting of a duration goal (expected threshold_seconds)."),
    (goal("pages_per_session", {"threshold": 0}),
     "Invalid goal: config.threshold must be an integer from 1 to 2147483647, got 0."),
    (goal("pages_per_session", {}), "Invalid goal: a pages_per_session goal needs config.threshold."),
    (goal("event", {"event_name": "purchase", "condition": ["x"]}),
     "Invalid goal: config.condition must be an object (one condition: field, op, value), got a list."),
    (on_purchase(field="event_data.plan", op="is", value="pro"),
     "Invalid goal: config.condition.op: unknown operator 'is' (expected one of exists, not_exists, eq, neq, "
     "contains, starts_with, ends_with, gt, gte, lt, lte, in)."),
    (on_purchase(field="plan", op="eq", value="pro"),
     "Invalid goal: config.condition.field: unknown event field 'plan' (expected event_data.<key>, revenue_amount "
     "or revenue_currency)."),
    (on_purchase(field="revenue_amount", op="gte"),
     "Invalid goal: config.condition: field 'revenue_amount' needs a value for 'gte'."),
    (on_purchase(field="revenue_amount", op="gte", value="forty"),
     "Invalid goal: config.condition.value: 'gte' needs a number, got string."),
    (on_purchase(op="exists"),
     "Invalid goal: config.condition: missing 'field' (expected event_data.<key>, revenue_amount or "
     "revenue_currency)."),
    (on_purchase(source="session", field="country", op="eq", value="DE"),
     "Invalid goal: config.condition: unknown key 'source' (expected field, op, value)."),
])
async def test_create_validation(client, body, message):
    p = await new_project(client, f"Valid{uuid.uuid4().hex[:6]}")
    assert await answer(client, "POST", GOALS, p["query"], json=body) == (400, {"error": message})
    assert (await client.get(GOALS, headers=p["query"])).json()["total"] == 0


@pytest.mark.parametrize("body", [[], "x", None])
async def test_a_body_that_is_not_an_object_is_refused(client, body):
    p = await new_project(client, f"Body{uuid.uuid4().hex[:6]}")
    assert await answer(client, "POST", GOALS, p["query"], json=body) == (
        400, {"error": "Invalid request body: expected a JSON object."})


@pytest.mark.parametrize(("body", "message"), [
    ({"name": None}, "Invalid request body: field 'name': Input should be a valid string."),
    ({"goal_type": "duration"}, "Invalid goal: a duration goal needs config.threshold_seconds."),
    ({"goal_type": "pageview", "config": {"event_name": "purchase"}},
     "Invalid goal: a pageview goal needs config.path."),
    ({"config": {"path": "/pricing"}}, "Invalid goal: an event goal needs config.event_name."),
    ({"config": None}, "Invalid goal: config must be an object, got null."),
    ({"goal_type": "visit"}, f"Invalid goal: goal_type 'visit' is not one of {TYPES}."),
    ({"config": {"event_name": "purchase", "condition": {"field": "event_data.plan", "op": "gt", "value": "pro"}}},
     "Invalid goal: config.condition.value: 'gt' needs a number, got string."),
])
async def test_update_validates_the_merged_goal_and_changes_nothing_when_refused(client, body, message):
    p = await new_project(client, f"Update{uuid.uuid4().hex[:6]}")
    made = await create(client, p["query"])
    url = f"{GOALS}/{made['id']}"
    assert await answer(client, "PUT", url, p["query"], json={"name": "Renamed", **body}) == (400, {"error": message})
    assert (await client.get(url, headers=p["query"])).json() == made


# -- GraphQL CRUD ------------------------------------------------------------------------------

FIELDS = "id name goalType config createdAt updatedAt"
CREATE = f"mutation($input: GoalInput!) {{ createGoal(input: $input) {{ {FIELDS} }} }}"
UPDATE = f"mutation($id: ID!, $input: GoalUpdateInput!) {{ updateGoal(id: $id, input: $input) {{ {FIELDS} }} }}"
DELETE = "mutation($id: ID!) { deleteGoal(id: $id) }"
LIST = f"query($first: Int!, $after: String) {{ project {{ goals(first: $first, after: $after) {{ total " \
       f"pageInfo {{ endCursor hasNextPage }} data {{ {FIELDS} }} }} }} }}"
ONE = f"query($id: ID!) {{ project {{ goal(id: $id) {{ {FIELDS} }} }} }}"


def shown(made: dict) -> dict:
    """A GraphQL goal as REST shows it."""
    return {"id": made["id"], "name": made["name"], "goal_type": made["goalType"], "config": made["config"]}


def without_created(goal_json: dict) -> dict:
    return {k: v for k, v in goal_json.items() if k != "created_at"}


def as_input(body: dict) -> dict:
    return {"name": body["name"], "goalType": body["goal_type"], "config": body["config"]}


async def test_graphql_create_list_update_delete_agree_with_rest(client):
    p = await new_project(client, "Graph")
    headers = p["query"]
    made = (await gql(client, CREATE, {"input": as_input(PURCHASE)}, headers))["data"]["createGoal"]
    assert shown(made) == {"id": made["id"], **PURCHASE}
    assert without_created((await client.get(f"{GOALS}/{made['id']}", headers=headers)).json()) == shown(made)
    second = (await gql(client, CREATE, {"input": as_input(PRICING)}, headers))["data"]["createGoal"]

    page = (await gql(client, LIST, {"first": 1}, headers))["data"]["project"]["goals"]
    assert (page["total"], page["pageInfo"]["hasNextPage"], page["data"]) == (2, True, [second])
    rest = (await gql(client, LIST, {"first": 1, "after": page["pageInfo"]["endCursor"]},
                      headers))["data"]["project"]["goals"]
    assert (rest["data"], rest["pageInfo"]["hasNextPage"]) == ([made], False)
    assert (await gql(client, ONE, {"id": made["id"]}, headers))["data"]["project"]["goal"] == made

    updated = (await gql(client, UPDATE, {"id": made["id"], "input": {"goalType": "pages_per_session",
                                                                      "config": {"threshold": 2}}},
                         headers))["data"]["updateGoal"]
    assert shown(updated) == {**shown(made), "goal_type": "pages_per_session", "config": {"threshold": 2}}
    assert without_created((await client.get(f"{GOALS}/{made['id']}", headers=headers)).json()) == shown(updated)

    assert (await gql(client, DELETE, {"id": made["id"]}, headers))["data"] == {"deleteGoal": True}
    assert gql_error(await gql(client, DELETE, {"id": made["id"]}, headers)) == (
        f"Goal '{made['id']}' not found.", "NOT_FOUND")
    assert gql_error(await gql(client, ONE, {"id": made["id"]}, headers)) == (
        f"Goal '{made['id']}' not found.", "NOT_FOUND")


async def test_graphql_validation_matches_rest(client):
    p = await new_project(client, "GraphValid")
    bad = goal("duration", {"threshold_seconds": 0})
    message = "Invalid goal: config.threshold_seconds must be an integer from 1 to 2147483647, got 0."
    assert await answer(client, "POST", GOALS, p["query"], json=bad) == (400, {"error": message})
    assert gql_error(await gql(client, CREATE, {"input": as_input(bad)}, p["query"])) == (message, "BAD_REQUEST")
    made = await create(client, p["query"])
    assert gql_error(await gql(client, UPDATE, {"id": made["id"], "input": {"goalType": "pageview"}}, p["query"])) == (
        "Invalid goal: a pageview goal needs config.path.", "BAD_REQUEST")
    assert (await client.get(GOALS, headers=p["query"])).json() == {"data": [made], "total": 1}


# -- access ------------------------------------------------------------------------------------

ROUTES = [("GET", ""), ("POST", ""), ("GET", "/{id}"), ("PUT", "/{id}"), ("DELETE", "/{id}"), ("GET", "/{id}/stats")]


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_the_routes_need_the_goals_module(client, method, path):
    p = await new_project(client, f"Gated{uuid.uuid4().hex[:6]}")
    made = await create(client, p["query"])
    await client.post(f"/api/admin/projects/{p['project']['id']}/modules/goals/disable", headers=ADMIN)
    body = {"json": PRICING} if method in ("POST", "PUT") else {}
    assert await answer(client, method, GOALS + path.replace("{id}", made["id"]), p["query"], **body) == (
        403, {"error": "Module 'goals' is not enabled for this project."})
    await client.post(f"/api/admin/projects/{p['project']['id']}/modules/goals/enable", headers=ADMIN)
    assert (await client.get(f"{GOALS}/{made['id']}", headers=p["query"])).json() == made


async def test_the_graphql_fields_need_the_goals_module(client):
    p = await new_project(client, "GatedGraph")
    made = await create(client, p["query"])
    await client.post(f"/api/admin/projects/{p['project']['id']}/modules/goals/disable", headers=ADMIN)
    refusal = ("Module 'goals' is not enabled for this project.", "FORBIDDEN")
    for query, variables in ((LIST, {"first": 5}), (ONE, {"id": made["id"]}),
                             (CREATE, {"input": as_input(PRICING)}),
                             (UPDATE, {"id": made["id"], "input": {"name": "y"}}), (DELETE, {"id": made["id"]})):
        assert gql_error(await gql(client, query, variables, p["query"])) == refusal, query
    assert "errors" not in await gql(client, "{ project { stats { current { pageviews } } } }", headers=p["query"])


async def test_an_ingest_key_is_refused(client):
    p = await new_project(client, "Ingest")
    made = await create(client, p["query"])
    refusal = "API key does not have the required 'query' scope for this endpoint."
    for method, path in ROUTES:
        body = {"json": PRICING} if method in ("POST", "PUT") else {}
        assert await answer(client, method, GOALS + path.replace("{id}", made["id"]), p["ingest"], **body) == (
            403, {"error": refusal})
    assert gql_error(await gql(client, CREATE, {"input": as_input(PRICING)}, p["ingest"])) == (refusal, "FORBIDDEN")
    assert (await client.get(GOALS, headers=p["query"])).json() == {"data": [made], "total": 1}


async def test_read_access_refuses_writes(client):
    p = await new_project(client, "ReadOnly")
    made = await create(client, p["query"])
    access = f"/api/admin/projects/{p['project']['id']}/modules/goals/access"
    await client.put(access, json={"access": "read"}, headers=ADMIN)
    refusal = "Module 'goals' does not allow write access for this project."
    assert (await client.get(f"{GOALS}/{made['id']}/stats", headers=p["query"])).status_code == 200
    for method, kwargs in (("POST", {"json": PRICING}), ("PUT", {"json": {"name": "y"}}), ("DELETE", {})):
        path = GOALS if method == "POST" else f"{GOALS}/{made['id']}"
        assert await answer(client, method, path, p["query"], **kwargs) == (403, {"error": refusal})
    assert gql_error(await gql(client, DELETE, {"id": made["id"]}, p["query"])) == (refusal, "FORBIDDEN")


async def test_the_admin_token_names_the_project(client):
    p = await new_project(client, "AdminToken")
    pid = p["project"]["id"]
    made = (await client.post(GOALS, params={"project_id": pid}, json=PRICING, headers=ADMIN)).json()
    assert (await client.get(GOALS, headers=p["query"])).json() == {"data": [made], "total": 1}
    result = await gql(client, "mutation($p: ID!, $input: GoalInput!) { createGoal(projectId: $p, input: $input) "
                               "{ id name } }", {"p": pid, "input": as_input(ENGAGED)}, ADMIN)
    assert result["data"]["createGoal"]["name"] == ENGAGED["name"]
    assert (await client.get(GOALS, headers=p["query"])).json()["total"] == 2


async def test_another_project_cannot_read_change_or_delete_a_goal(data):
    c, mine, other = data["client"], data["query"], data["other"]["query"]
    made = await create(c, mine, name="Mine")
    url = f"{GOALS}/{made['id']}"
    missing = {"error": f"Goal '{made['id']}' not found."}
    assert await answer(c, "GET", url, other) == (404, missing)
    assert await answer(c, "PUT", url, other, json={"name": "Taken"}) == (404, missing)
    assert await answer(c, "DELETE", url, other) == (404, missing)
    assert await answer(c, "GET", f"{url}/stats", other) == (404, missing)
    assert made["id"] not in {g["id"] for g in (await c.get(GOALS, headers=other)).json()["data"]}
    for query, variables in ((ONE, {"id": made["id"]}), (UPDATE, {"id": made["id"], "input": {"name": "Taken"}}),
                             (DELETE, {"id": made["id"]})):
        assert gql_error(await gql(c, query, variables, other)) == (missing["error"], "NOT_FOUND"), query
    assert (await c.get(url, headers=mine)).json() == made
    await c.delete(url, headers=mine)


# -- stats -------------------------------------------------------------------------------------

def event_goal(condition: dict | None = None) -> dict:
    config = {"event_name": "purchase", **({"condition": condition} if condition else {})}
    return {"name": "purchase", "goal_type": "event", "config": config}


SAVED = {
    "pricing": PRICING,
    "home": {"name": "home", "goal_type": "pageview", "config": {"path": "/"}},
    "blog posts": {"name": "blog posts", "goal_type": "pageview", "config": {"path": "/blog/*"}},
    "blog prefix": {"name": "blog prefix", "goal_type": "pageview", "config": {"path": "/blog*"}},
    "nowhere": {"name": "nowhere", "goal_type": "pageview", "config": {"path": "/nowhere"}},
    "purchase": event_goal(),
    "pro purchase": event_goal({"field": "event_data.plan", "op": "eq", "value": "pro"}),
    "free purchase": event_goal({"field": "event_data.plan", "op": "eq", "value": "free"}),
    "big purchase": event_goal({"field": "revenue_amount", "op": "gte", "value": 40}),
    "small purchase": event_goal({"field": "revenue_amount", "op": "lt", "value": 40}),
    "unpaid purchase": event_goal({"field": "revenue_amount", "op": "not_exists"}),
    "signup": {"name": "signup", "goal_type": "event", "config": {"event_name": "signup"}},
    "30 s": {"name": "30 s", "goal_type": "duration", "config": {"threshold_seconds": 30}},
    "180 s": {"name": "180 s", "goal_type": "duration", "config": {"threshold_seconds": 180}},
    "181 s": {"name": "181 s", "goal_type": "duration", "config": {"threshold_seconds": 181}},
    "2 pages": {"name": "2 pages", "goal_type": "pages_per_session", "config": {"threshold": 2}},
    "4 pages": {"name": "4 pages", "goal_type": "pages_per_session", "config": {"threshold": 4}},
}


@pytest_asyncio.fixture(scope="module")
async def saved(data):
    """The main project's goals over the dataset, by name, and the other project's pricing goal."""
    c, query = data["client"], data["query"]
    made = {name: await create(c, query, {**body, "name": name}) for name, body in SAVED.items()}
    made["other pricing"] = await create(c, data["other"]["query"], PRICING)
    made["other purchase"] = await create(c, data["other"]["query"], PURCHASE)
    return made


async def get(data, path: str, headers: dict | None = None, **params) -> dict:
    response = await data["client"].get(path, params=params, headers=headers or data["query"])
    assert response.status_code == 200, response.text
    return response.json()


# name: (conversions, unique_visitors, total_revenue, conversion_rate, revenue_by_currency or None)
EXPECTED = {
    "pricing": (3, 2, 0.0, 40.0, None),  # v1 once, v2 on both days
    "home": (2, 2, 0.0, 40.0, None),  # v1, v4
    "blog posts": (4, 3, 0.0, 60.0, None),  # /blog/a (v1, v3), /blog/b (v2, v3); not /blog or /blogroll
    "blog prefix": (6, 3, 0.0, 60.0, None),  # and /blog and /blogroll (v3)
    "nowhere": (0, 0, 0.0, 0.0, None),
    "purchase": (5, 4, 135.49, 80.0, {"EUR": 40.0, "USD": 95.49}),  # v1 twice, v2, v3, v5 (no revenue)
    "pro purchase": (4, 3, 115.5, 60.0, {"EUR": 40.0, "USD": 75.5}),  # v1 twice, v3, v5
    "free purchase": (1, 1, 19.99, 20.0, None),  # v2, in dollars only
    "big purchase": (2, 2, 90.0, 40.0, {"EUR": 40.0, "USD": 50.0}),  # v1's 50, v3's 40
    "small purchase": (2, 2, 45.49, 40.0, None),  # v2's 19.99, v1's 25.5
    "unpaid purchase": (1, 1, 0.0, 20.0, None),  # v5
    "signup": (0, 0, 0.0, 0.0, None),
    "30 s": (4, 3, 0.0, 60.0, None),  # v1 240 s, v2 30 s and 180 s, v3 660 s (not v4's 0 s)
    "180 s": (3, 3, 0.0, 60.0, None),
    "181 s": (2, 2, 0.0, 40.0, None),  # v1, v3
    "2 pages": (3, 3, 0.0, 60.0, None),  # v1 3, v2 2, v3 4
    "4 pages": (1, 1, 0.0, 20.0, None),  # v3
}


def expected(made: dict, numbers: tuple) -> dict:
    conversions, visitors, revenue, rate, by_currency = numbers
    body = {"goal_id": made["id"], "name": made["name"], "conversions": conversions, "unique_visitors": visitors,
            "total_revenue": revenue, "conversion_rate": rate}
    return {**body, "revenue_by_currency": by_currency} if by_currency else body


@pytest.mark.parametrize("name", list(EXPECTED))
async def test_stats_count_each_goal_types_conversions(data, saved, name):
    assert await get(data, f"{GOALS}/{saved[name]['id']}/stats", **RANGE) == expected(saved[name], EXPECTED[name])


@pytest.mark.parametrize(("name", "numbers"), [
    # D2's visitors: v1 (an event), v2, v3, v4, v5.
    ("pricing", (1, 1, 0.0, 20.0, None)),
    ("purchase", (3, 3, 65.5, 60.0, {"EUR": 40.0, "USD": 25.5})),
    ("pro purchase", (3, 3, 65.5, 60.0, {"EUR": 40.0, "USD": 25.5})),
    ("small purchase", (1, 1, 25.5, 20.0, None)),
    ("30 s", (2, 2, 0.0, 40.0, None)),
])
async def test_stats_count_only_the_range(data, saved, name, numbers):
    assert await get(data, f"{GOALS}/{saved[name]['id']}/stats", **ONLY_D2) == expected(saved[name], numbers)


@pytest.mark.parametrize("name", ["pricing", "purchase", "pro purchase", "30 s", "2 pages"])
async def test_a_range_without_visitors_is_all_zeros(data, saved, name):
    assert await get(data, f"{GOALS}/{saved[name]['id']}/stats", **BEFORE) == expected(
        saved[name], (0, 0, 0.0, 0.0, None))


async def test_the_default_range_is_the_last_30_days(data, saved):
    assert await get(data, f"{GOALS}/{saved['purchase']['id']}/stats") == expected(
        saved["purchase"], EXPECTED["purchase"])


async def test_another_projects_data_never_counts(data, saved):
    other = data["other"]["query"]
    assert await get(data, f"{GOALS}/{saved['other pricing']['id']}/stats", headers=other, **RANGE) == expected(
        saved["other pricing"], (2, 2, 0.0, 100.0, None))
    assert await get(data, f"{GOALS}/{saved['other purchase']['id']}/stats", headers=other, **RANGE) == expected(
        saved["other purchase"], (1, 1, 999.0, 50.0, None))


async def test_the_conversion_rate_is_over_the_ranges_visitors(data, saved):
    """v1 to v5, as the site's stats count them."""
    assert (await get(data, "/api/v1/stats", **RANGE))["current"]["visitors"] == 5


@pytest.mark.parametrize(("params", "message"), [
    ({"start": "2026-01-01"}, "Unknown query parameter 'start'. Did you mean 'start_at'?"),
    ({"start_at": "yesterday"}, "Invalid value for 'start_at': expected an ISO-8601 date or datetime."),
    ({"start_at": "2026-02-02", "end_at": "2026-02-01"}, "Invalid parameters: 'start_at' must not be after 'end_at'."),
])
async def test_bad_range_parameters_are_a_400(data, saved, params, message):
    assert await answer(data["client"], "GET", f"{GOALS}/{saved['pricing']['id']}/stats", data["query"],
                        params=params) == (400, {"error": message})


# -- the same answers on GraphQL ---------------------------------------------------------------

STATS = """query($id: ID!, $s: String, $e: String) { project { goal(id: $id) { id name goalType config
  stats(startAt: $s, endAt: $e) { goalId name conversions uniqueVisitors totalRevenue conversionRate
    revenueByCurrency } } } }"""


@pytest.mark.parametrize("name", ["pricing", "blog prefix", "purchase", "pro purchase", "free purchase", "180 s",
                                  "2 pages"])
async def test_graphql_stats_agree_with_rest(data, saved, name):
    made = saved[name]
    result = await gql(data["client"], STATS, {"id": made["id"], "s": RANGE["start_at"], "e": RANGE["end_at"]},
                       data["query"])
    assert "errors" not in result, result
    found = result["data"]["project"]["goal"]
    assert (found["id"], found["goalType"], found["config"]) == (made["id"], made["goal_type"], made["config"])
    rest = await get(data, f"{GOALS}/{made['id']}/stats", **RANGE)
    assert found["stats"] == {"goalId": rest["goal_id"], "name": rest["name"], "conversions": rest["conversions"],
                              "uniqueVisitors": rest["unique_visitors"], "totalRevenue": rest["total_revenue"],
                              "conversionRate": rest["conversion_rate"],
                              "revenueByCurrency": rest.get("revenue_by_currency")}


async def test_graphql_refuses_what_rest_refuses(data, saved):
    late = await gql(data["client"], STATS, {"id": saved["pricing"]["id"], "s": "x"}, data["query"])
    assert gql_error(late) == ("Invalid value for 'start_at': expected an ISO-8601 date or datetime.", "BAD_REQUEST")
    other = await gql(data["client"], STATS, {"id": saved["other pricing"]["id"]}, data["query"])
    assert gql_error(other) == (f"Goal '{saved['other pricing']['id']}' not found.", "NOT_FOUND")


@pytest.mark.parametrize("name", ["30 s", "180 s", "181 s", "2 pages", "4 pages"])
async def test_session_goals_from_raw_rows_equal_those_from_session_rollups(data, saved, name):
    """A project's days before its session rollups began (pulse.query.sessionsets) are counted from
    the sessions table: the same numbers."""
    from sqlalchemy import text

    engine = data["app"].state.runtime.engine
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO session_rollups_since (project_id, since) VALUES (:p, :d)"),
                           {"p": data["project"]["id"], "d": datetime.now(UTC).date() + timedelta(days=1)})
    try:
        assert await get(data, f"{GOALS}/{saved[name]['id']}/stats", **RANGE) == expected(saved[name], EXPECTED[name])
    finally:
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM session_rollups_since WHERE project_id = :p"),
                               {"p": data["project"]["id"]})
