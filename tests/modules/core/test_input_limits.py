"""Report inputs that used to be 500s are 400s, on REST and GraphQL alike: dates outside the
supported years, cursors and offsets out of range, regular expressions PostgreSQL refuses, too
many filters."""

from __future__ import annotations

import base64

import pytest

from pulse.limits import MAX_FILTERS, MAX_OFFSET
from tests.helpers import gql, gql_error

FAR_DATES = ["0001-01-01", "9999-12-31", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00",
             "1969-12-31", "9999-01-01"]
PAGES = ("query($f: [FilterInput!], $s: String, $a: String) "
         "{ project { pages(filters: $f, startAt: $s, after: $a) { total } } }")


async def rest_error(dataset, path: str, **params) -> str:
    response = await dataset["client"].get(path, params=params, headers=dataset["query"])
    assert response.status_code == 400, response.text
    return response.json()["error"]


async def graphql_error(dataset, variables: dict, query: str = PAGES) -> str:
    message, code = gql_error(await gql(dataset["client"], query, variables, headers=dataset["query"]))
    assert code == "BAD_REQUEST", message
    return message


@pytest.mark.parametrize("value", FAR_DATES)
@pytest.mark.parametrize("path", ["/api/v1/stats", "/api/v1/pages", "/api/v1/stats/timeseries", "/api/v1/campaigns"])
async def test_dates_outside_the_supported_years_are_400(dataset, path, value):
    for field in ("start_at", "end_at"):
        message = await rest_error(dataset, path, **{field: value})
        assert message.startswith(f"Invalid value for '{field}': dates from 1970 through 9998"), message


@pytest.mark.parametrize("value", FAR_DATES)
async def test_graphql_dates_outside_the_supported_years_are_bad_requests(dataset, value):
    query = "query($s: String) { project { stats(startAt: $s, endAt: $s) { current { pageviews } } } }"
    assert "dates from 1970 through 9998" in await graphql_error(dataset, {"s": value}, query)


async def test_the_supported_range_ends_still_work(dataset):
    for params in ({"start_at": "1970-01-01", "end_at": "1979-12-01"},
                   {"start_at": "9998-12-31T10:00:00-12:00", "end_at": "9998-12-31"}):
        response = await dataset["client"].get("/api/v1/stats", params=params, headers=dataset["query"])
        assert response.status_code == 200, response.text


def encoded(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize("after", ["pos:²", "pos:" + "9" * 4300, f"pos:{MAX_OFFSET + 1}", "pos:-1", "pos:١٢"])
async def test_bad_cursors_are_bad_requests(dataset, after):
    message = await graphql_error(dataset, {"a": encoded(after)})
    assert message == "Invalid parameter: 'after' must be a cursor this list returned."


async def test_a_cursor_at_the_largest_offset_is_an_empty_page(dataset):
    result = await gql(dataset["client"], PAGES, {"a": encoded(f"pos:{MAX_OFFSET}")}, headers=dataset["query"])
    assert "errors" not in result, result


@pytest.mark.parametrize("params", [{"limit": -1}, {"limit": 0}, {"limit": 10**30}, {"offset": -1},
                                    {"offset": MAX_OFFSET + 1}, {"offset": 10**30}, {"offset": "9" * 4300}])
@pytest.mark.parametrize("path", ["/api/v1/pages", "/api/v1/referrers", "/api/v1/campaigns", "/api/v1/events"])
async def test_limit_and_offset_out_of_range_are_400(dataset, path, params):
    assert (await rest_error(dataset, path, **params)).startswith("Invalid parameter: field '")


@pytest.mark.parametrize("pattern", ["a{256}", "(?P<x>a)", "x{1,300}"])
async def test_regular_expressions_postgresql_refuses_are_400(dataset, pattern):
    for path in ("/api/v1/pages", "/api/v1/stats", "/api/v1/campaigns"):
        message = await rest_error(dataset, path, filter=f"path:matches:{pattern}")
        assert message.startswith("Invalid filter: not a regular expression PostgreSQL accepts ("), message
    hourly = await rest_error(dataset, "/api/v1/stats/timeseries", interval="hour", filter=f"path:matches:{pattern}")
    assert hourly.startswith("Invalid filter: not a regular expression PostgreSQL accepts (")
    message = await graphql_error(dataset, {"f": [{"dimension": "path", "operator": "MATCHES", "value": pattern}]})
    assert message.startswith("Invalid filter: not a regular expression PostgreSQL accepts (")


async def test_a_regular_expression_postgresql_accepts_still_filters(dataset):
    response = await dataset["client"].get("/api/v1/pages", params={"filter": "path:matches:^/(docs|pricing)$"},
                                           headers=dataset["query"])
    assert response.status_code == 200, response.text


async def test_graphql_has_the_rest_filter_cap(dataset):
    one = {"dimension": "path", "operator": "MATCHES", "value": "^/"}
    message = await graphql_error(dataset, {"f": [one] * (MAX_FILTERS + 1)})
    assert message == f"Invalid filter: at most {MAX_FILTERS} filters."
    many = await graphql_error(dataset, {"f": [one] * 5_000})
    assert many == message
    assert await rest_error(dataset, "/api/v1/pages", filter=["path:matches:^/"] * (MAX_FILTERS + 1)) == message
    result = await gql(dataset["client"], PAGES, {"f": [one] * MAX_FILTERS}, headers=dataset["query"])
    assert "errors" not in result, result
