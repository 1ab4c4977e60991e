"""UTM reports on a small known dataset: exact numbers, REST and GraphQL alike, module gating."""

from __future__ import annotations

import pytest
import pytest_asyncio

from tests.helpers import ADMIN, create_key, gql, gql_error, key_header, sql_statements
from tests.modules.utm.dataset import D0, D1, D2, RANGE, campaign_dataset, new_project

CAMPAIGNS = [
    {"campaign": "spring_sale", "visitors": 3, "pageviews": 4, "bounce_rate": 66.67, "avg_duration": 40.0},
    {"campaign": "product_launch", "visitors": 2, "pageviews": 4, "bounce_rate": 50.0, "avg_duration": 90.0},
]
SOURCES = [
    {"source": "google", "visitors": 3, "pageviews": 4},
    {"source": "twitter", "visitors": 1, "pageviews": 3},
    {"source": "newsletter", "visitors": 1, "pageviews": 1},
]
MEDIUMS = [
    {"medium": "cpc", "visitors": 3, "pageviews": 4},
    {"medium": "social", "visitors": 1, "pageviews": 3},
    {"medium": "email", "visitors": 1, "pageviews": 1},
]
# Each route with the parameters it needs besides the range.
ROUTES = [("/api/v1/campaigns", {}), ("/api/v1/campaigns/sources", {}), ("/api/v1/campaigns/mediums", {}),
          ("/api/v1/campaigns/timeseries", {"utm_source": "google"})]


@pytest_asyncio.fixture(scope="module")
async def dataset(settings):
    async with campaign_dataset(settings) as data:
        yield data


async def get(dataset, path: str, headers: dict | None = None, **params):
    return await dataset["client"].get(path, params={**RANGE, **params}, headers=headers or dataset["query"])


async def rest(dataset, path: str, **params) -> dict:
    response = await get(dataset, path, **params)
    assert response.status_code == 200, response.text
    return response.json()


async def test_campaigns(dataset):
    assert await rest(dataset, "/api/v1/campaigns") == {"data": CAMPAIGNS, "total": 2}


async def test_campaigns_page_with_limit_and_offset(dataset):
    assert await rest(dataset, "/api/v1/campaigns", limit=1, offset=1) == {"data": CAMPAIGNS[1:], "total": 2}
    assert await rest(dataset, "/api/v1/campaigns", offset=5) == {"data": [], "total": 2}
    for bad in ({"limit": 0}, {"limit": 1001}, {"offset": -1}):
        assert (await get(dataset, "/api/v1/campaigns", **bad)).status_code == 400


async def test_sources_and_mediums(dataset):
    assert await rest(dataset, "/api/v1/campaigns/sources") == {"data": SOURCES, "total": 3}
    assert await rest(dataset, "/api/v1/campaigns/mediums") == {"data": MEDIUMS, "total": 3}
    assert await rest(dataset, "/api/v1/campaigns/sources", limit=2) == {"data": SOURCES[:2], "total": 3}


async def test_one_day_counts_only_that_day(dataset):
    day = {"start_at": D2.date().isoformat(), "end_at": D2.date().isoformat()}
    assert await rest(dataset, "/api/v1/campaigns", **day) == {"data": [
        {"campaign": "product_launch", "visitors": 2, "pageviews": 4, "bounce_rate": 50.0, "avg_duration": 90.0},
    ], "total": 1}
    assert await rest(dataset, "/api/v1/campaigns/sources", **day) == {"data": [
        {"source": "twitter", "visitors": 1, "pageviews": 3}, {"source": "google", "visitors": 1, "pageviews": 1},
    ], "total": 2}  # equal visitors: more pageviews first


async def test_timeseries_of_one_source(dataset):
    body = await rest(dataset, "/api/v1/campaigns/timeseries", utm_source="google", start_at=D0.date().isoformat())
    assert body == {"data": [
        {"date": D0.date().isoformat(), "visitors": 0, "pageviews": 0},
        {"date": D1.date().isoformat(), "visitors": 2, "pageviews": 3},
        {"date": D2.date().isoformat(), "visitors": 1, "pageviews": 1},
    ]}
    # Sources are stored lowercased, so the parameter is matched the same way.
    assert await rest(dataset, "/api/v1/campaigns/timeseries", utm_source=" Google ") == {"data": body["data"][1:]}
    unknown = await rest(dataset, "/api/v1/campaigns/timeseries", utm_source="bing")
    assert [p["pageviews"] for p in unknown["data"]] == [0, 0]


async def test_timeseries_needs_a_source(dataset):
    for params in ({}, {"utm_source": ""}, {"utm_source": "  "}):
        response = await get(dataset, "/api/v1/campaigns/timeseries", **params)
        assert response.status_code == 400
        assert response.json() == {"error": "Invalid parameter: missing required field 'utm_source'."}


async def test_ranges_and_filters_are_validated_as_in_core(dataset):
    backwards = await get(dataset, "/api/v1/campaigns", start_at=D2.date().isoformat(), end_at=D1.date().isoformat())
    assert backwards.status_code == 400
    bad_filter = await get(dataset, "/api/v1/campaigns/sources", filter="nowhere:is:x")
    assert bad_filter.status_code == 400 and "unknown dimension" in bad_filter.json()["error"]


REPORTS = """query($s: String, $e: String, $src: String!) { project {
  campaigns(startAt: $s, endAt: $e) { data { campaign visitors pageviews bounceRate avgDuration } total }
  campaignSources(startAt: $s, endAt: $e) { data { source visitors pageviews } total }
  campaignMediums(startAt: $s, endAt: $e) { data { medium visitors pageviews } total }
  campaignTimeseries(utmSource: $src, startAt: $s, endAt: $e) { date visitors pageviews sessions }
  paged: campaigns(startAt: $s, endAt: $e, first: 1) { data { campaign } total pageInfo { hasNextPage } }
} }"""


def camel(row: dict) -> dict:
    return {"".join(w.capitalize() if i else w for i, w in enumerate(k.split("_"))): v for k, v in row.items()}


async def test_graphql_has_the_rest_numbers(dataset):
    variables = {"s": RANGE["start_at"], "e": RANGE["end_at"], "src": "google"}
    result = await gql(dataset["client"], REPORTS, variables, headers=dataset["query"])
    assert "errors" not in result, result
    project = result["data"]["project"]
    for field, path in (("campaigns", "/api/v1/campaigns"), ("campaignSources", "/api/v1/campaigns/sources"),
                        ("campaignMediums", "/api/v1/campaigns/mediums")):
        body = await rest(dataset, path)
        assert project[field] == {"data": [camel(row) for row in body["data"]], "total": body["total"]}
    first = (await rest(dataset, "/api/v1/campaigns", limit=1))["data"][0]["campaign"]
    assert project["paged"] == {"data": [{"campaign": first}], "total": 2, "pageInfo": {"hasNextPage": True}}
    series = (await rest(dataset, "/api/v1/campaigns/timeseries", utm_source="google"))["data"]
    assert [{k: p[k] for k in ("date", "visitors", "pageviews")} for p in project["campaignTimeseries"]] == series
    assert [p["sessions"] for p in project["campaignTimeseries"]] == [2, 1]


async def test_graphql_reports_share_one_rollup_query(dataset):
    variables = {"s": RANGE["start_at"], "e": RANGE["end_at"], "src": "google"}
    await gql(dataset["client"], REPORTS, variables, headers=dataset["query"])  # the key is now cached
    async with sql_statements(dataset["app"]) as statements:
        result = await gql(dataset["client"], REPORTS, variables, headers=dataset["query"])
    assert "errors" not in result
    assert len(statements) == 2, statements  # the project row, then every report's rollups at once


async def test_graphql_validates_like_rest(dataset):
    result = await gql(dataset["client"], '{ project { campaigns(first: 0) { total } } }', headers=dataset["query"])
    assert gql_error(result) == ("Invalid parameter: 'first' must be between 1 and 1000.", "BAD_REQUEST")
    result = await gql(dataset["client"], '{ project { campaignTimeseries(utmSource: " ") { date } } }',
                       headers=dataset["query"])
    assert gql_error(result) == ("Invalid parameter: missing required field 'utm_source'.", "BAD_REQUEST")


async def test_the_admin_token_names_the_project(dataset):
    response = await get(dataset, "/api/v1/campaigns", headers=ADMIN, project_id=dataset["project"]["id"])
    assert response.json() == {"data": CAMPAIGNS, "total": 2}
    assert (await get(dataset, "/api/v1/campaigns", headers=ADMIN)).status_code == 400


@pytest.mark.parametrize(("path", "params"), ROUTES)
async def test_the_routes_need_the_utm_module(dataset, path, params):
    c = dataset["client"]
    params = {**RANGE, **params}
    project, query = await new_project(c, "Gated")
    assert (await c.get(path, params=params, headers=query)).status_code == 200
    await c.post(f"/api/admin/projects/{project['id']}/modules/utm/disable", headers=ADMIN)
    refused = await c.get(path, params=params, headers=query)
    assert refused.status_code == 403
    assert refused.json() == {"error": "Module 'utm' is not enabled for this project."}
    await c.post(f"/api/admin/projects/{project['id']}/modules/utm/enable", headers=ADMIN)
    assert (await c.get(path, params=params, headers=query)).status_code == 200


async def test_the_graphql_fields_need_the_utm_module(dataset):
    c = dataset["client"]
    project, query = await new_project(c, "GatedGraph")
    await c.post(f"/api/admin/projects/{project['id']}/modules/utm/disable", headers=ADMIN)
    for field in ("campaigns { total }", "campaignSources { total }", "campaignMediums { total }",
                  'campaignTimeseries(utmSource: "google") { date }'):
        result = await gql(c, "{ project { " + field + " } }", headers=query)
        assert gql_error(result) == ("Module 'utm' is not enabled for this project.", "FORBIDDEN")
    # Core reports of the same project are unaffected.
    result = await gql(c, "{ project { stats { current { pageviews } } } }", headers=query)
    assert "errors" not in result, result


async def test_a_key_outside_allowed_modules_is_refused(dataset):
    c = dataset["client"]
    core_only = key_header((await create_key(c, dataset["project"]["id"], "query", allowed_modules=["core"]))["key"])
    refused = await get(dataset, "/api/v1/campaigns", headers=core_only)
    assert refused.status_code == 403
    assert refused.json() == {"error": "API key is not allowed to access module 'utm'."}


@pytest.mark.parametrize(("path", "params"), ROUTES)
async def test_another_projects_key_sees_nothing_of_this_one(dataset, path, params):
    c = dataset["client"]
    params = {**RANGE, **params}
    _, other = await new_project(c, "Other")
    body = (await c.get(path, params=params, headers=other)).json()
    assert "data" in body
    assert all(row.get("visitors", 0) == 0 for row in body["data"]), body
    assert "spring_sale" not in str(body) and "google" not in str(body) and "twitter" not in str(body)
    named = await c.get(path, params={**params, "project_id": dataset["project"]["id"]}, headers=other)
    assert named.status_code == 404
