"""Identity's read side on a known dataset (dataset.py): exact profiles, aliases, graph and account
numbers, REST and GraphQL alike, 404s and 400s, scope and tenant isolation."""

from __future__ import annotations

import pytest
import pytest_asyncio

from tests.helpers import gql, gql_error, sql_statements
from tests.modules.identity.dataset import D1, D2, RANGE, identity_dataset, z

PROFILES = [
    {"visitor_id": "v3", "user_id": "u2", "traits": {"plan": "free"}, "last_seen_at": z(D2, 12)},
    {"visitor_id": "v2", "user_id": "u1", "traits": {"plan": "team"}, "last_seen_at": z(D2, 9)},
    {"visitor_id": "v4", "user_id": None, "traits": {"email": "ann@example.test"}, "last_seen_at": z(D1, 11)},
    {"visitor_id": "v1", "user_id": "u1", "traits": {"plan": "pro", "name": "Ada"}, "last_seen_at": z(D1, 10)},
]
V1 = {"visitor_id": "v1", "user_id": "u1", "traits": {"plan": "pro", "name": "Ada"}, "first_seen_at": z(D1, 10),
      "last_seen_at": z(D1, 10), "accounts": [{"account_id": "acme", "role": "admin", "last_seen_at": z(D1, 10)}]}
ACME = {"account_id": "acme", "traits": {"tier": "gold"}, "members": 2, "first_seen_at": z(D1, 10),
        "last_seen_at": z(D2, 9)}
GLOBEX = {"account_id": "globex", "traits": {"tier": "silver"}, "members": 1, "first_seen_at": z(D2, 12),
          "last_seen_at": z(D2, 12)}
ACME_MEMBERS = [{"visitor_id": "v2", "user_id": "u1", "role": "member", "last_seen_at": z(D2, 9)},
                {"visitor_id": "v1", "user_id": "u1", "role": "admin", "last_seen_at": z(D1, 10)}]
ACME_ANALYTICS = {"account_id": "acme", "start_at": RANGE["start_at"], "end_at": RANGE["end_at"], "members": 2,
                  "identified_users": 1, "active_members": 2, "sessions": 2, "pageviews": 3, "events": 2,
                  "revenue": 49.99, "revenue_by_currency": [{"currency": "USD", "amount": 49.99}]}
GRAPH_V1 = {
    "nodes": [{"id": "visitor:v1", "type": "visitor", "key": "v1"}, {"id": "user:u1", "type": "user", "key": "u1"},
              {"id": "account:acme", "type": "account", "key": "acme"},
              {"id": "visitor:v2", "type": "visitor", "key": "v2"}],
    "edges": [{"type": "alias", "source": "user:u1", "target": "visitor:v1", "role": None},
              {"type": "identify", "source": "visitor:v1", "target": "user:u1", "role": None},
              {"type": "membership", "source": "visitor:v1", "target": "account:acme", "role": "admin"},
              {"type": "alias", "source": "user:u1", "target": "visitor:v2", "role": None},
              {"type": "identify", "source": "visitor:v2", "target": "user:u1", "role": None},
              {"type": "membership", "source": "visitor:v2", "target": "account:acme", "role": "member"}],
    "truncated": False}
# Every route, with a path that exists in the dataset.
ROUTES = ["/api/v1/identity/profiles", "/api/v1/identity/profiles/v1", "/api/v1/identity/users/u1/aliases",
          "/api/v1/identity/graph?visitor_id=v1", "/api/v1/identity/accounts", "/api/v1/identity/accounts/acme",
          "/api/v1/identity/accounts/acme/members", "/api/v1/identity/accounts/acme/analytics"]


@pytest_asyncio.fixture(scope="module")
async def data(settings):
    async with identity_dataset(settings) as d:
        yield d


async def rest(data, path: str, headers: dict | None = None, **params) -> dict:
    response = await data["client"].get(path, params=params or None, headers=headers or data["query"])
    assert response.status_code == 200, response.text
    return response.json()


async def status(data, path: str, headers: dict | None = None, **params) -> tuple[int, dict]:
    response = await data["client"].get(path, params=params or None, headers=headers or data["query"])
    return response.status_code, response.json()


async def graphql(data, query: str, headers: dict | None = None, **variables) -> dict:
    result = await gql(data["client"], query, variables, headers=headers or data["query"])
    assert "errors" not in result, result
    return result["data"]["project"]


# -- profiles ----------------------------------------------------------------------------------

async def test_profiles_newest_first_with_total(data):
    assert await rest(data, "/api/v1/identity/profiles") == {"data": PROFILES, "total": 4}
    assert await rest(data, "/api/v1/identity/profiles", limit=2, offset=1) == {"data": PROFILES[1:3], "total": 4}
    assert await rest(data, "/api/v1/identity/profiles", offset=10) == {"data": [], "total": 4}


@pytest.mark.parametrize(("search", "visitors"), [
    ("v4", ["v4"]), ("U1", ["v2", "v1"]), ("ada", ["v1"]), ("example.test", ["v4"]), ("plan:pro", ["v1"]),
    ("plan:f", ["v3"]), ("name:team", []), ("100%", []), ("_", []),
])
async def test_profile_search_over_ids_and_trait_values(data, search, visitors):
    body = await rest(data, "/api/v1/identity/profiles", search=search)
    assert [p["visitor_id"] for p in body["data"]] == visitors and body["total"] == len(visitors)


async def test_one_profile_with_accounts(data):
    assert await rest(data, "/api/v1/identity/profiles/v1") == V1
    v4 = await rest(data, "/api/v1/identity/profiles/v4")
    assert v4["accounts"] == [] and v4["user_id"] is None


async def test_aliases_of_a_user(data):
    assert await rest(data, "/api/v1/identity/users/u1/aliases") == {"user_id": "u1", "data": [
        {"visitor_id": "v1", "created_at": z(D1, 10)}, {"visitor_id": "v2", "created_at": z(D2, 9)}], "total": 2}


@pytest.mark.parametrize(("path", "message"), [
    ("/api/v1/identity/profiles/v5", "Profile 'v5' not found."),
    ("/api/v1/identity/profiles/nobody", "Profile 'nobody' not found."),
    ("/api/v1/identity/users/u404/aliases", "User 'u404' not found."),
    ("/api/v1/identity/accounts/initech", "Account 'initech' not found."),
    ("/api/v1/identity/accounts/initech/members", "Account 'initech' not found."),
    ("/api/v1/identity/accounts/initech/analytics", "Account 'initech' not found."),
    ("/api/v1/identity/graph?user_id=u404", "User 'u404' not found."),
    ("/api/v1/identity/graph?account_id=initech", "Account 'initech' not found."),
])
async def test_unknown_ids_are_404(data, path, message):
    assert await status(data, path) == (404, {"error": message})


# -- the graph ---------------------------------------------------------------------------------

async def test_graph_from_a_visitor(data):
    assert await rest(data, "/api/v1/identity/graph", visitor_id="v1") == GRAPH_V1


async def test_graph_from_an_account_and_a_user(data):
    body = await rest(data, "/api/v1/identity/graph", account_id="globex")
    assert [n["id"] for n in body["nodes"]] == ["account:globex", "visitor:v3", "user:u2"]
    assert len(body["edges"]) == 3 and body["truncated"] is False
    both = await rest(data, "/api/v1/identity/graph?user_id=u2&visitor_id=v4")
    assert [n["id"] for n in both["nodes"]] == ["visitor:v4", "user:u2", "visitor:v3", "account:globex"]


async def test_graph_stops_at_the_limit(data):
    body = await rest(data, "/api/v1/identity/graph", visitor_id="v1", limit=2)
    assert body == {"nodes": GRAPH_V1["nodes"][:2], "edges": GRAPH_V1["edges"][:2], "truncated": True}


async def test_graph_is_one_statement_per_level(data):
    async with sql_statements(data["app"]) as statements:
        await rest(data, "/api/v1/identity/graph", visitor_id="v1")
    graph = [s for s in statements if "identity_" in s or "account_members" in s]
    assert len(graph) == 4  # start nodes exist; levels v1, {u1, acme}, {v2}


@pytest.mark.parametrize("query", ["", "?limit=5", "?visitor_id=v1&limit=0", "?visitor_id=v1&limit=1001",
                                   "?visitor_id=v1&limit=100000000"])
async def test_graph_refuses_no_start_node_and_bad_limits(data, query):
    code, body = await status(data, "/api/v1/identity/graph" + query)
    assert code == 400 and body["error"].startswith("Invalid parameter"), body


# -- accounts ----------------------------------------------------------------------------------

async def test_accounts(data):
    assert await rest(data, "/api/v1/identity/accounts") == {"data": [GLOBEX, ACME], "total": 2}
    assert await rest(data, "/api/v1/identity/accounts", limit=1, offset=1) == {"data": [ACME], "total": 2}
    assert await rest(data, "/api/v1/identity/accounts/acme") == ACME
    assert await rest(data, "/api/v1/identity/accounts/acme/members") == {"data": ACME_MEMBERS, "total": 2}


async def test_account_analytics(data):
    assert await rest(data, "/api/v1/identity/accounts/acme/analytics", **RANGE) == ACME_ANALYTICS
    day = D2.date().isoformat()
    assert await rest(data, "/api/v1/identity/accounts/acme/analytics", start_at=day, end_at=day) == {
        **ACME_ANALYTICS, "start_at": day, "active_members": 1, "sessions": 1, "pageviews": 1, "events": 1,
        "revenue": 0.0, "revenue_by_currency": []}
    globex = await rest(data, "/api/v1/identity/accounts/globex/analytics", **RANGE)
    assert (globex["sessions"], globex["pageviews"], globex["events"], globex["revenue_by_currency"]) == (
        1, 1, 1, [{"currency": "EUR", "amount": 10.0}])


async def test_account_analytics_counts_only_the_range_within_a_session(data):
    """A range ending inside v1's session counts only the pageviews before its end (raw rows for
    sessions crossing a bound)."""
    # The project's days are UTC: D1 alone holds the whole of v1's session, D0 none of it.
    before = (D1.date().fromordinal(D1.date().toordinal() - 1)).isoformat()
    body = await rest(data, "/api/v1/identity/accounts/acme/analytics", start_at=before, end_at=before)
    assert (body["active_members"], body["sessions"], body["pageviews"], body["events"]) == (0, 0, 0, 0)


# -- GraphQL: the same numbers -----------------------------------------------------------------

PROJECT = """query($s: String, $e: String) { project {
  profiles(first: 10) { total data { visitorId userId traits lastSeenAt } }
  profile(visitorId: "v1") { visitorId userId traits firstSeenAt lastSeenAt accounts { accountId role lastSeenAt }
    aliases { visitorId } timeline { pageviews events activity { kind path name } } }
  aliases(userId: "u1") { total data { visitorId createdAt } }
  identityGraph(visitorIds: ["v1"]) { nodes { id type key } edges { type source target role } truncated }
  accounts { total data { accountId traits memberCount firstSeenAt lastSeenAt } }
  account(id: "acme") { accountId memberCount members { total data { visitorId userId role lastSeenAt } }
    analytics(startAt: $s, endAt: $e) { accountId startAt endAt members identifiedUsers activeMembers sessions
      pageviews events revenue revenueByCurrency { currency amount } } }
} }"""


def camel(value):
    """The GraphQL form of a REST body: camelCase names, DateTime as ISO-8601 with an offset."""
    if isinstance(value, str) and len(value) == 20 and value.endswith("Z") and value[10] == "T":
        return value[:-1] + "+00:00"
    if isinstance(value, dict):
        return {"".join(w.title() if i else w for i, w in enumerate(k.split("_"))): camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camel(v) for v in value]
    return value


async def test_graphql_agrees_with_rest(data):
    p = await graphql(data, PROJECT, s=RANGE["start_at"], e=RANGE["end_at"])
    assert p["profiles"] == {"total": 4, "data": camel(PROFILES)}
    profile = p["profile"]
    assert {k: v for k, v in profile.items() if k not in ("aliases", "timeline")} == camel(V1)
    assert profile["aliases"] == [{"visitorId": "v1"}, {"visitorId": "v2"}]
    assert profile["timeline"] == [{"pageviews": 2, "events": 1, "activity": [
        {"kind": "event", "path": None, "name": "purchase"}, {"kind": "pageview", "path": "/pricing", "name": None},
        {"kind": "pageview", "path": "/", "name": None}]}]
    assert p["aliases"] == {"total": 2, "data": camel([{"visitorId": "v1", "createdAt": z(D1, 10)},
                                                       {"visitorId": "v2", "createdAt": z(D2, 9)}])}
    assert p["identityGraph"] == GRAPH_V1
    accounts = [{**camel(a), "memberCount": a["members"]} for a in (GLOBEX, ACME)]
    for a in accounts:
        del a["members"]
    assert p["accounts"] == {"total": 2, "data": accounts}
    assert p["account"]["members"] == {"total": 2, "data": camel(ACME_MEMBERS)}
    assert p["account"]["analytics"] == camel(ACME_ANALYTICS)


@pytest.mark.parametrize(("field", "message"), [
    ('profile(visitorId: "v5") { visitorId }', "Profile 'v5' not found."),
    ('account(id: "initech") { accountId }', "Account 'initech' not found."),
    ('aliases(userId: "u9") { total }', "User 'u9' not found."),
    ("identityGraph { truncated }", None),
    ('identityGraph(visitorIds: ["v1"], limit: 5000) { truncated }', None),
])
async def test_graphql_errors(data, field, message):
    result = await gql(data["client"], "{ project { " + field + " } }", headers=data["query"])
    got, code = gql_error(result)
    if message is None:
        assert code == "BAD_REQUEST" and got.startswith("Invalid parameter"), got
    else:
        assert (got, code) == (message, "NOT_FOUND")


# -- access ------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ROUTES)
async def test_an_ingest_key_cannot_read(data, path):
    code, _ = await status(data, path, headers=data["ingest"])
    assert code == 403


async def test_an_ingest_key_cannot_read_graphql(data):
    result = await gql(data["client"], "{ project { profiles { total } } }", headers=data["ingest"])
    assert gql_error(result)[1] == "FORBIDDEN"


async def test_another_project_sees_only_its_own_rows(data):
    other = data["other"]["query"]
    body = await rest(data, "/api/v1/identity/profiles", headers=other)
    assert {p["visitor_id"]: p["traits"] for p in body["data"]} == {"v1": {"plan": "other"}, "v9": {}}
    assert (await rest(data, "/api/v1/identity/profiles/v1", headers=other))["traits"] == {"plan": "other"}
    assert (await rest(data, "/api/v1/identity/users/u1/aliases", headers=other))["total"] == 1
    assert await status(data, "/api/v1/identity/profiles/v2", headers=other) == (
        404, {"error": "Profile 'v2' not found."})
    assert await status(data, "/api/v1/identity/accounts/globex", headers=other) == (
        404, {"error": "Account 'globex' not found."})
    graph = await rest(data, "/api/v1/identity/graph", headers=other, visitor_id="v1")
    assert [n["id"] for n in graph["nodes"]] == ["visitor:v1", "user:u1", "account:acme"]
    assert (await rest(data, "/api/v1/identity/accounts", headers=other))["total"] == 2
    assert (await rest(data, "/api/v1/identity/accounts/acme", headers=other))["members"] == 1
    assert (await rest(data, "/api/v1/identity/accounts/acme/members", headers=other))["data"][0]["visitor_id"] == "v1"
    analytics = await rest(data, "/api/v1/identity/accounts/acme/analytics", headers=other, **RANGE)
    assert (analytics["members"], analytics["sessions"], analytics["pageviews"], analytics["revenue"]) == (
        1, 1, 1, 0.0)
    # And the main project's numbers are untouched by the other's rows.
    assert await rest(data, "/api/v1/identity/accounts/acme/analytics", **RANGE) == ACME_ANALYTICS


async def test_another_project_sees_only_its_own_rows_in_graphql(data):
    other = data["other"]["query"]
    p = await graphql(data, PROJECT, headers=other, s=RANGE["start_at"], e=RANGE["end_at"])
    assert p["profiles"]["total"] == 2 and p["profile"]["traits"] == {"plan": "other"}
    assert p["profile"]["timeline"][0]["activity"] == [{"kind": "pageview", "path": "/other", "name": None}]
    assert p["aliases"]["total"] == 1 and len(p["identityGraph"]["nodes"]) == 3
    assert p["account"]["memberCount"] == 1 and p["account"]["analytics"]["pageviews"] == 1
    result = await gql(data["client"], '{ project { account(id: "globex") { accountId } } }', headers=other)
    assert gql_error(result) == ("Account 'globex' not found.", "NOT_FOUND")
