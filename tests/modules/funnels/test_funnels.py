"""Funnels on both faces: the reference's shapes, validation (each message names the step), 404s,
module gating and tenant isolation; and the analysis of hand-built visitor histories: ordered, strict
and unordered counts, the window, exclusions, the range bounds, time to convert, breakdowns by
country and by trait, a segment, REST and GraphQL alike."""

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
)

FUNNELS = "/api/v1/funnels"
SIGNUP = {"name": "Signup Flow", "steps": [
    {"type": "pageview", "value": "/", "label": "Homepage"},
    {"type": "pageview", "value": "/pricing", "label": "Pricing Page"},
    {"type": "pageview", "value": "/signup", "label": "Signup Page"},
    {"type": "event", "value": "signup_complete", "label": "Signup Complete"}]}
LABELS = [s["label"] for s in SIGNUP["steps"]]
DE, US = "81.169.145.105", "8.8.8.8"

# One day of traffic, D1 (three days ago, the project's days are UTC), and two visitors at its edges:
#   a1 (DE, pro)  / 10:00, /pricing 10:01, /signup 10:03, signup_complete 10:04       4 steps
#   a2 (US, pro)  / 11:00, /blog 11:01, /pricing 11:02                                 2 (/blog between 1 and 2)
#   a3 (DE, free) / 12:00, /pricing 12:05, /signup 12:06, sent last and newest first   3
#   a4 (US)       /pricing 09:00, / 09:01, /signup 09:02                               1 (wrong order)
#   a5 (US)       / 08:00, / 08:30, /pricing 08:31, /pricing 08:32, /signup 08:40      3 (repeated steps)
#   a6 (US)       / 13:00, /pricing 13:00 (the same second)                            2
#   a7 (US)       / 14:00, /pricing 16:00                                              2 (1 with window=1h)
#   a8 (US)       signup_complete 15:00                                                0 (never entered)
#   b1 (US)       / D0 23:59 (the day before), /pricing D1 00:01                       0 (entered before the range)
#   b2 (US)       / D2 23:59, /pricing D3 00:01                                        1 (step 2 after the range)
D1 = (datetime.now(UTC) - timedelta(days=3)).replace(hour=0, minute=0, second=0, microsecond=0)
D0, D2, D3 = D1 - timedelta(days=1), D1 + timedelta(days=1), D1 + timedelta(days=2)
RANGE = {"start_at": D1.date().isoformat(), "end_at": D2.date().isoformat()}


def at(day: datetime, hour: int, minute: int = 0) -> str:
    return (day + timedelta(hours=hour, minutes=minute)).isoformat()


def pv(visitor: str, path: str, when: str) -> dict:
    return {"type": "pageview", "visitor_id": visitor, "path": path, "timestamp": when}


def ev(visitor: str, name: str, when: str) -> dict:
    return {"type": "event", "visitor_id": visitor, "name": name, "timestamp": when}


def identify(visitor: str, when: str, **traits) -> dict:
    return {"type": "identify", "visitor_id": visitor, "timestamp": when, "payload": {"traits": traits}}


FIRST = [
    (DE, [pv("a1", "/", at(D1, 10)), pv("a1", "/pricing", at(D1, 10, 1)), pv("a1", "/signup", at(D1, 10, 3)),
          ev("a1", "signup_complete", at(D1, 10, 4)), identify("a1", at(D1, 10, 5), plan="pro")]),
    (US, [pv("a2", "/", at(D1, 11)), pv("a2", "/blog", at(D1, 11, 1)), pv("a2", "/pricing", at(D1, 11, 2)),
          identify("a2", at(D1, 11, 3), plan="pro"),
          pv("a4", "/pricing", at(D1, 9)), pv("a4", "/", at(D1, 9, 1)), pv("a4", "/signup", at(D1, 9, 2)),
          pv("a5", "/", at(D1, 8)), pv("a5", "/", at(D1, 8, 30)), pv("a5", "/pricing", at(D1, 8, 31)),
          pv("a5", "/pricing", at(D1, 8, 32)), pv("a5", "/signup", at(D1, 8, 40)),
          pv("a6", "/", at(D1, 13)), pv("a6", "/pricing", at(D1, 13)),
          pv("a7", "/", at(D1, 14)), pv("a7", "/pricing", at(D1, 16)),
          ev("a8", "signup_complete", at(D1, 15)),
          pv("b1", "/", at(D0, 23, 59)), pv("b1", "/pricing", at(D1, 0, 1)),
          pv("b2", "/", at(D2, 23, 59)), pv("b2", "/pricing", at(D3, 0, 1))]),
]
LATE = (DE, [pv("a3", "/signup", at(D1, 12, 6)), pv("a3", "/pricing", at(D1, 12, 5)), pv("a3", "/", at(D1, 12)),
             identify("a3", at(D1, 12, 7), plan="free")])



async def send(app, ingest: dict, batches) -> None:
    for ip, bodies in batches:
        transport = httpx.ASGITransport(app=app, client=(ip, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://pulse.test") as c:
            for body in bodies:
                response = await c.post("/api/collect", json=body, headers={**ingest, "User-Agent": CHROME})
                assert response.status_code == 200, response.text


async def create(client, headers: dict, body: dict | None = None, **fields) -> dict:
    response = await client.post(FUNNELS, json={**(body or SIGNUP), **fields}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()



@pytest_asyncio.fixture(scope="module")
async def data(app, client):
    """The histories above in project "Funnels" (a3 sent after the rest was written), the same visitor
    ids and paths in "Elsewhere" (two visitors converting fully), and the signup funnel in both."""
    main = await new_project(client, "Funnels")
    other = await new_project(client, "Elsewhere")
    await send(app, main["ingest"], FIRST)
    await send(app, other["ingest"], [(US, [pv(v, p, at(D1, 10, i)) for v in ("a1", "zz")
                                            for i, p in enumerate(("/", "/pricing", "/signup"))])])
    await drain(app)
    await send(app, main["ingest"], [LATE])
    await drain(app)
    funnel = await create(client, main["query"])
    other_funnel = await create(client, other["query"])
    yield {**main, "other": other, "funnel": funnel, "other_funnel": other_funnel}


async def analyze(client, data: dict, **params) -> dict:
    response = await client.get(f"{FUNNELS}/{data['funnel']['id']}/analyze", params={**RANGE, **params},
                                headers=data["query"])
    assert response.status_code == 200, response.text
    return response.json()


def counts(result: dict) -> list[int]:
    return [step["visitors"] for step in result["steps"]]


# -- CRUD --------------------------------------------------------------------------------------

async def test_create_answers_the_reference_shape(client):
    p = await new_project(client, "Shape")
    made = await create(client, p["query"])
    assert uuid.UUID(made["id"])
    assert made == {"id": made["id"], **SIGNUP, "created_at": made["created_at"]}
    assert made["created_at"].endswith("Z")


async def test_a_label_defaults_to_the_value(client):
    p = await new_project(client, "Labels")
    made = await create(client, p["query"], steps=[{"type": "pageview", "value": "/docs/*"},
                                                   {"type": "event", "value": "download", "label": "Got it"}])
    assert made["steps"] == [{"type": "pageview", "value": "/docs/*", "label": "/docs/*"},
                             {"type": "event", "value": "download", "label": "Got it"}]


async def test_the_list_shows_the_number_of_steps(client):
    p = await new_project(client, "Listing")
    first = await create(client, p["query"])
    second = await create(client, p["query"], name="Short", steps=SIGNUP["steps"][:2])
    listed = (await client.get(FUNNELS, headers=p["query"])).json()
    assert listed == {"data": [{**second, "steps": 2}, {**first, "steps": 4}], "total": 2}


async def test_get_update_delete(client):
    p = await new_project(client, "Lifecycle")
    made = await create(client, p["query"])
    url = f"{FUNNELS}/{made['id']}"
    assert await answer(client, "GET", url, p["query"]) == (200, made)
    code, changed = await answer(client, "PUT", url, p["query"], json={"name": "Signup Flow v2"})
    assert (code, changed) == (200, {**made, "name": "Signup Flow v2"})
    steps = [SIGNUP["steps"][0], SIGNUP["steps"][2], SIGNUP["steps"][3]]
    code, changed = await answer(client, "PUT", url, p["query"], json={"steps": steps})
    assert (code, changed) == (200, {**made, "name": "Signup Flow v2", "steps": steps})
    assert (await client.get(url, headers=p["query"])).json() == changed
    assert await answer(client, "DELETE", url, p["query"]) == (204, None)
    missing = {"error": f"Funnel '{made['id']}' not found."}
    assert await answer(client, "GET", url, p["query"]) == (404, missing)
    assert await answer(client, "PUT", url, p["query"], json={"name": "x"}) == (404, missing)
    assert await answer(client, "DELETE", url, p["query"]) == (404, missing)
    assert await answer(client, "GET", f"{url}/analyze", p["query"]) == (404, missing)
    assert await answer(client, "GET", f"{FUNNELS}/nope", p["query"]) == (404, {"error": "Funnel 'nope' not found."})


STEP = {"type": "pageview", "value": "/"}


@pytest.mark.parametrize(("body", "message"), [
    ({"steps": [STEP, STEP]}, "Invalid request body: missing required field 'name'."),
    ({"name": "x"}, "Invalid request body: missing required field 'steps'."),
    ({"name": "x", "steps": [STEP]}, "Invalid funnel: a funnel needs 2 to 20 steps, got 1."),
    ({"name": "x", "steps": [STEP] * 21}, "Invalid funnel: a funnel needs 2 to 20 steps, got 21."),
    ({"name": "x", "steps": [STEP, STEP, {"type": "click", "value": "a"}]},
     "Invalid funnel: steps[2].type 'click' is not one of pageview, event."),
    # A missing field comes before every other complaint, whichever step it is in.
    ({"name": "x", "steps": [{"type": "click", "value": "a"}, {"type": "event"}]},
     "Invalid funnel: steps[1] is missing required field 'value'."),
    ({"name": "x", "steps": [{"value": "/"}]}, "Invalid funnel: steps[0] is missing required field 'type'."),
    ({"name": "x", "steps": [STEP, {"type": "event", "value": ""}]},
     "Invalid funnel: steps[1].value must be a non-empty string without NUL characters."),
    ({"name": "x", "steps": [STEP, {"type": "pageview", "value": "pricing"}]},
     "Invalid funnel: steps[1].value must be a path starting with '/', got 'pricing'."),
    ({"name": "x", "steps": [STEP, {"type": "pageview", "value": "/a*b"}]},
     "Invalid funnel: steps[1].value may have '*' only at its end (a prefix match), got '/a*b'."),
    ({"name": "x", "steps": [STEP, {**STEP, "color": "red"}]},
     "Invalid funnel: steps[1].color is not a field of a step (expected type, value, label)."),
    ({"name": "x", "steps": [STEP, {**STEP, "label": 3}]}, "Invalid funnel: steps[1].label must be a string, "
                                                           "got a number."),
    ({"name": "x", "steps": [STEP, "/"]}, "Invalid funnel: steps[1] must be an object ({type, value, label}), "
                                          "got a string."),
    ({"name": "x", "steps": "/"}, "Invalid funnel: steps must be a list of steps, got a string."),
    ({"name": "x", "steps": [STEP, STEP], "order": "strict"},
     "Invalid request body: field 'order': Extra inputs are not permitted."),
])
async def test_create_validation(client, body, message):
    p = await new_project(client, f"Valid{uuid.uuid4().hex[:6]}")
    assert await answer(client, "POST", FUNNELS, p["query"], json=body) == (400, {"error": message})


async def test_an_update_is_validated_and_changes_nothing_when_refused(client):
    p = await new_project(client, "BadUpdate")
    made = await create(client, p["query"])
    url = f"{FUNNELS}/{made['id']}"
    assert await answer(client, "PUT", url, p["query"], json={"steps": [STEP]}) == (
        400, {"error": "Invalid funnel: a funnel needs 2 to 20 steps, got 1."})
    assert (await client.get(url, headers=p["query"])).json() == made


# -- analysis ------------------------------------------------------------------------------------

async def test_the_reference_shape_and_ordered_counts(client, data):
    result = await analyze(client, data)
    assert result == {"funnel_id": data["funnel"]["id"], "name": "Signup Flow", "overall_conversion": 12.5,
                      "steps": [
                          {"label": "Homepage", "visitors": 8, "drop_off": 0, "conversion_rate": 100.0,
                           "median_seconds": None, "p90_seconds": None},
                          # a1 60 s, a2 120, a3 300, a5 1860 (from its first /), a6 0, a7 7200
                          {"label": "Pricing Page", "visitors": 6, "drop_off": 2, "conversion_rate": 75.0,
                           "median_seconds": 210.0, "p90_seconds": 7200.0},
                          # a1 120, a3 60, a5 540
                          {"label": "Signup Page", "visitors": 3, "drop_off": 3, "conversion_rate": 50.0,
                           "median_seconds": 120.0, "p90_seconds": 540.0},
                          {"label": "Signup Complete", "visitors": 1, "drop_off": 2, "conversion_rate": 33.3,
                           "median_seconds": 60.0, "p90_seconds": 60.0}]}


async def test_strict_order_breaks_on_any_other_step_between(client, data):
    # a4 views /signup right after /; a5's first / is followed by another / (its second start
    # reaches /pricing, then /pricing again instead of /signup).
    result = await analyze(client, data, order="strict")
    assert counts(result) == [8, 6, 2, 1]
    # a1 60 s, a2 120, a3 300, a5 60 (from its second /), a6 0, a7 7200
    assert (result["steps"][1]["median_seconds"], result["steps"][1]["p90_seconds"]) == (90.0, 7200.0)


async def test_unordered_counts_distinct_steps_within_the_window(client, data):
    # Anyone with any step enters: a8 (signup only) and b1 (/pricing in the range) too; a4 has 3 steps.
    assert counts(await analyze(client, data, order="unordered")) == [10, 7, 4, 1]


async def test_a_step_outside_the_window_does_not_count(client, data):
    assert counts(await analyze(client, data, window="1h")) == [8, 5, 3, 1]  # a7's /pricing is 2 h later
    assert counts(await analyze(client, data, window="2h")) == [8, 6, 3, 1]
    # a5's second / (08:30) is a start of its own: /signup 08:40 is exactly 10 min later (the window's end counts).
    assert counts(await analyze(client, data, window="10m")) == [8, 5, 3, 1]
    assert counts(await analyze(client, data, window="9m")) == [8, 5, 2, 1]


async def test_an_exclusion_removes_the_visitor(client, data):
    result = await analyze(client, data, exclude="pageview:/blog")
    assert counts(result) == [7, 5, 3, 1]  # a2 viewed /blog between / and /pricing
    # Between steps 2 and 3 only: a2 never reached step 3, its /blog is before step 2.
    assert counts(await analyze(client, data, exclude="pageview:/blog@2-3")) == [8, 6, 3, 1]
    assert counts(await analyze(client, data, exclude=["event:nothing", "pageview:/blog@1-2"])) == [7, 5, 3, 1]


async def test_the_range_bounds(client, data):
    # D0 alone: b1 enters, its /pricing is the next day, after the range.
    only_d0 = {"start_at": D0.date().isoformat(), "end_at": D0.date().isoformat()}
    assert counts(await analyze(client, data, **only_d0)) == [1, 0, 0, 0]
    # D2 and D3: only b2, whose /pricing is now inside.
    later = {"start_at": D2.date().isoformat(), "end_at": D3.date().isoformat()}
    assert counts(await analyze(client, data, **later)) == [1, 1, 0, 0]
    before = {"start_at": (D0 - timedelta(days=9)).date().isoformat(), "end_at": (D0 - timedelta(days=1)).date()
              .isoformat()}
    nobody = await analyze(client, data, **before)
    assert counts(nobody) == [0, 0, 0, 0] and nobody["overall_conversion"] == 0.0
    assert [s["conversion_rate"] for s in nobody["steps"]] == [100.0, 0.0, 0.0, 0.0]


async def test_breakdown_by_country_of_the_entering_session(client, data):
    result = await analyze(client, data, breakdown="country")
    shown = [(g["value"], [s["visitors"] for s in g["steps"]], g["overall_conversion"]) for g in result["breakdown"]]
    assert shown == [("US", [6, 4, 1, 0], 0.0), ("DE", [2, 2, 2, 1], 50.0)]
    assert counts(result) == [8, 6, 3, 1]


async def test_breakdown_by_trait(client, data):
    result = await analyze(client, data, breakdown="trait:plan")
    shown = [(g["value"], [s["visitors"] for s in g["steps"]]) for g in result["breakdown"]]
    assert shown == [("(none)", [5, 3, 1, 0]), ("pro", [2, 2, 1, 1]), ("free", [1, 1, 1, 0])]


async def test_a_segment_keeps_its_visitors(client, data):
    response = await client.post("/api/v1/segments", headers=data["query"], json={
        "name": "Pro", "definition": {"match": "all", "conditions": [
            {"source": "profile", "field": "traits.plan", "op": "eq", "value": "pro"}]}})
    assert response.status_code == 201, response.text
    segment = response.json()["id"]
    assert counts(await analyze(client, data, segment=segment)) == [2, 2, 1, 1]  # a1 and a2
    assert counts(await analyze(client, data, filter=f"segment:is_not:{segment}")) == [6, 4, 2, 0]


@pytest.mark.parametrize(("params", "message"), [
    ({"window": "0d"}, "Invalid parameter: window must be a positive whole number with a unit (m, h, d or w), "
                       "for example 7d, 2h or 30m, got '0d'."),
    ({"window": "-3d"}, "Invalid parameter: window must be a positive whole number with a unit (m, h, d or w), "
                        "for example 7d, 2h or 30m, got '-3d'."),
    ({"window": "soon"}, "Invalid parameter: window must be a positive whole number with a unit (m, h, d or w), "
                         "for example 7d, 2h or 30m, got 'soon'."),
    ({"window": "400d"}, "Invalid parameter: window may be at most 365 days, got '400d'."),
    ({"order": "random"}, "Invalid parameter: order must be one of ordered, strict, unordered, got 'random'."),
    ({"breakdown": "path"}, "Invalid parameter: breakdown must be one of country, device, browser, os, source, "
                            "channel, utm_source, utm_medium, utm_campaign or trait:NAME, got 'path'."),
    ({"exclude": "click:x"}, "Invalid parameter: exclude 'click:x' must be pageview:/path or event:name, "
                             "optionally followed by @A-B (between steps A and B, 1 to 4, A < B)."),
    ({"exclude": "event:x@3-2"}, "Invalid parameter: exclude 'event:x@3-2' must be pageview:/path or event:name, "
                                 "optionally followed by @A-B (between steps A and B, 1 to 4, A < B)."),
    ({"filter": "country:is:DE"}, "Invalid filter: funnels take only segment filters for now "
                                  "(segment=<id> or filter=segment:is:<id>), not 'country'."),
    ({"start_at": "x"}, "Invalid value for 'start_at': expected an ISO-8601 date or datetime."),
])
async def test_bad_parameters_are_a_400(client, data, params, message):
    response = await client.get(f"{FUNNELS}/{data['funnel']['id']}/analyze", params=params, headers=data["query"])
    assert (response.status_code, response.json()) == (400, {"error": message})


# -- GraphQL -----------------------------------------------------------------------------------

FIELDS = "id name steps { type value label } createdAt"
CREATE = f"mutation($input: FunnelInput!) {{ createFunnel(input: $input) {{ {FIELDS} }} }}"
UPDATE = f"mutation($id: ID!, $input: FunnelUpdateInput!) {{ updateFunnel(id: $id, input: $input) {{ {FIELDS} }} }}"
DELETE = "mutation($id: ID!) { deleteFunnel(id: $id) }"
LIST = f"query($first: Int) {{ project {{ funnels(first: $first) {{ total data {{ {FIELDS} }} }} }} }}"
ONE = f"query($id: ID!) {{ project {{ funnel(id: $id) {{ {FIELDS} }} }} }}"
STEPS = "steps { label visitors dropOff conversionRate medianSeconds p90Seconds }"
ANALYZE = ("query($id: ID!, $s: String, $e: String, $w: String, $o: String, $b: String, $x: [String!]) "
           "{ project { funnel(id: $id) { analyze(startAt: $s, endAt: $e, window: $w, order: $o, breakdown: $b, "
           f"exclude: $x) {{ funnelId name {STEPS} overallConversion breakdown {{ value {STEPS} overallConversion }} "
           "} } } }")


def camel(step: dict) -> dict:
    return {"label": step["label"], "visitors": step["visitors"], "dropOff": step["drop_off"],
            "conversionRate": step["conversion_rate"], "medianSeconds": step["median_seconds"],
            "p90Seconds": step["p90_seconds"]}


def as_graphql(result: dict) -> dict:
    shown = {"funnelId": result["funnel_id"], "name": result["name"], "steps": [camel(s) for s in result["steps"]],
             "overallConversion": result["overall_conversion"], "breakdown": None}
    if "breakdown" in result:
        shown["breakdown"] = [{"value": g["value"], "steps": [camel(s) for s in g["steps"]],
                               "overallConversion": g["overall_conversion"]} for g in result["breakdown"]]
    return shown


@pytest.mark.parametrize("params", [{}, {"order": "strict"}, {"order": "unordered", "window": "1h"},
                                    {"breakdown": "country"}, {"exclude": "pageview:/blog"}])
async def test_graphql_analyze_agrees_with_rest(client, data, params):
    rest = await analyze(client, data, **params)
    variables = {"id": data["funnel"]["id"], "s": RANGE["start_at"], "e": RANGE["end_at"], "w": params.get("window"),
                 "o": params.get("order"), "b": params.get("breakdown"),
                 "x": [params["exclude"]] if "exclude" in params else None}
    result = await gql(client, ANALYZE, variables, data["query"])
    assert "errors" not in result, result
    assert result["data"]["project"]["funnel"]["analyze"] == as_graphql(rest)


async def test_graphql_crud_agrees_with_rest(client):
    p = await new_project(client, "Graph")
    made = (await gql(client, CREATE, {"input": SIGNUP}, p["query"]))["data"]["createFunnel"]
    rest = (await client.get(f"{FUNNELS}/{made['id']}", headers=p["query"])).json()
    assert {**made, "createdAt": None} == {"id": rest["id"], "name": rest["name"], "steps": rest["steps"],
                                           "createdAt": None}
    listed = (await gql(client, LIST, {"first": 5}, p["query"]))["data"]["project"]["funnels"]
    assert listed == {"total": 1, "data": [made]}
    assert (await gql(client, ONE, {"id": made["id"]}, p["query"]))["data"]["project"]["funnel"] == made
    changed = (await gql(client, UPDATE, {"id": made["id"], "input": {"name": "v2"}}, p["query"]))["data"]
    assert changed["updateFunnel"] == {**made, "name": "v2"}
    bad = await gql(client, UPDATE, {"id": made["id"], "input": {"steps": [STEP]}}, p["query"])
    assert gql_error(bad) == ("Invalid funnel: a funnel needs 2 to 20 steps, got 1.", "BAD_REQUEST")
    bad = await gql(client, CREATE, {"input": {"name": "x", "steps": [STEP, {"type": "click", "value": "a"}]}},
                    p["query"])
    assert gql_error(bad) == ("Invalid funnel: steps[1].type 'click' is not one of pageview, event.", "BAD_REQUEST")
    assert (await gql(client, DELETE, {"id": made["id"]}, p["query"]))["data"] == {"deleteFunnel": True}
    assert gql_error(await gql(client, ONE, {"id": made["id"]}, p["query"])) == (
        f"Funnel '{made['id']}' not found.", "NOT_FOUND")


# -- access ------------------------------------------------------------------------------------

ROUTES = [("GET", ""), ("POST", ""), ("GET", "/{id}"), ("PUT", "/{id}"), ("DELETE", "/{id}"),
          ("GET", "/{id}/analyze")]


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_the_routes_need_the_funnels_module(client, method, path):
    p = await new_project(client, f"Gated{uuid.uuid4().hex[:6]}")
    made = await create(client, p["query"])
    await client.post(f"/api/admin/projects/{p['project']['id']}/modules/funnels/disable", headers=ADMIN)
    body = {"json": SIGNUP} if method in ("POST", "PUT") else {}
    assert await answer(client, method, FUNNELS + path.replace("{id}", made["id"]), p["query"], **body) == (
        403, {"error": "Module 'funnels' is not enabled for this project."})
    for query, variables in ((LIST, {"first": 5}), (ONE, {"id": made["id"]}), (CREATE, {"input": SIGNUP}),
                             (DELETE, {"id": made["id"]})):
        assert gql_error(await gql(client, query, variables, p["query"])) == (
            "Module 'funnels' is not enabled for this project.", "FORBIDDEN"), query
    await client.post(f"/api/admin/projects/{p['project']['id']}/modules/funnels/enable", headers=ADMIN)
    assert (await client.get(f"{FUNNELS}/{made['id']}", headers=p["query"])).json() == made


async def test_another_project_sees_neither_the_funnel_nor_the_data(client, data):
    other, theirs = data["other"]["query"], data["other_funnel"]
    mine = data["funnel"]["id"]
    missing = {"error": f"Funnel '{mine}' not found."}
    for method, suffix in (("GET", ""), ("PUT", ""), ("DELETE", ""), ("GET", "/analyze")):
        kwargs = {"json": {"name": "x"}} if method == "PUT" else {}
        assert await answer(client, method, f"{FUNNELS}/{mine}{suffix}", other, **kwargs) == (404, missing)
    assert gql_error(await gql(client, ONE, {"id": mine}, other)) == (missing["error"], "NOT_FOUND")
    response = await client.get(f"{FUNNELS}/{theirs['id']}/analyze", params=RANGE, headers=other)
    assert counts(response.json()) == [2, 2, 2, 0]  # their own a1 and zz only
    assert (await client.get(FUNNELS, headers=data["query"])).json()["total"] == 1


async def test_one_occurrence_fills_one_step_only(client, data):
    # `/*` matches /pricing too: a4's and b1's lone /pricing views enter, but cannot also be step 2.
    made = await create(client, data["query"], name="Overlap", steps=[{"type": "pageview", "value": "/*"},
                                                                      {"type": "pageview", "value": "/pricing"}])
    response = await client.get(f"{FUNNELS}/{made['id']}/analyze", params=RANGE, headers=data["query"])
    assert counts(response.json()) == [9, 6]
    await client.delete(f"{FUNNELS}/{made['id']}", headers=data["query"])
