"""CSV exports: the reports' numbers as CSV, with the reference's headers, and module gating."""

from __future__ import annotations

import csv
import io

import pytest
import pytest_asyncio

from pulse.modules.exports import service
from tests.helpers import ADMIN, create_key, key_header
from tests.modules.utm.dataset import D1, D2, RANGE, campaign_dataset, new_project

TYPES = ("stats", "pages", "referrers", "events", "devices", "geo", "campaigns")
EXPECTED = {
    "stats": [["pageviews", "visitors", "sessions", "bounce_rate", "avg_duration", "events"],
              ["9", "5", "6", "66.67", "50.0", "2"]],
    "pages": [["path", "views", "unique_views", "avg_duration"],
              ["/", "4", "4", "90.0"], ["/docs", "2", "2", "0.0"], ["/pricing", "2", "2", "120.0"],
              ["/landing", "1", "1", "0.0"]],
    "referrers": [["source", "visitors", "pageviews"],
                  ["google", "3", "4"], ["twitter", "1", "3"], ["(direct)", "1", "1"], ["newsletter", "1", "1"]],
    # A name that a spreadsheet would run as a formula gets an apostrophe; commas and quotes are quoted.
    "events": [["name", "count", "unique"], ["'=1+2", "1", "1"], ['signup, "beta"', "1", "1"]],
    "devices": [["group", "name", "visitors", "percentage"], ["browsers", "Chrome", "5", "100.0"],
                ["operating_systems", "Windows", "5", "100.0"], ["device_types", "Desktop", "5", "100.0"]],
    "geo": [["country", "visitors", "percentage"], ["US", "5", "100.0"]],
    "campaigns": [["campaign", "visitors", "pageviews", "bounce_rate", "avg_duration"],
                  ["spring_sale", "3", "4", "66.67", "40.0"], ["product_launch", "2", "4", "50.0", "90.0"]],
}


@pytest_asyncio.fixture(scope="module")
async def dataset(settings):
    async with campaign_dataset(settings) as data:
        yield data


async def export(dataset, kind: str, headers: dict | None = None, **params):
    return await dataset["client"].get(f"/api/v1/exports/{kind}", params={**RANGE, **params},
                                       headers=headers or dataset["query"])


def parse(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize("kind", TYPES)
async def test_each_export_is_its_report_as_csv(dataset, kind):
    response = await export(dataset, kind)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == "text/csv"
    first, last = D1.date().isoformat(), D2.date().isoformat()
    assert response.headers["content-disposition"] == f'attachment; filename="{kind}_{first}_{last}.csv"'
    assert parse(response.text) == EXPECTED[kind]


async def test_the_csv_text_is_rfc_4180(dataset):
    events = (await export(dataset, "events")).text
    assert events == 'name,count,unique\r\n\'=1+2,1,1\r\n"signup, ""beta""",1,1\r\n'
    pages = (await export(dataset, "pages")).text
    assert pages.startswith("path,views,unique_views,avg_duration\r\n/,4,4,90.0\r\n")


async def test_the_numbers_are_the_json_reports(dataset):
    c, query = dataset["client"], dataset["query"]
    pages = (await c.get("/api/v1/pages", params=RANGE, headers=query)).json()["data"]
    assert parse((await export(dataset, "pages")).text)[1:] == [
        [p["path"], str(p["views"]), str(p["unique_views"]), str(p["avg_duration"])] for p in pages]
    campaigns = (await c.get("/api/v1/campaigns", params=RANGE, headers=query)).json()["data"]
    assert parse((await export(dataset, "campaigns")).text)[1:] == [[str(v) for v in row.values()]
                                                                    for row in campaigns]


async def test_the_default_range_names_the_file_by_its_days(dataset):
    response = await dataset["client"].get("/api/v1/exports/pages", headers=dataset["query"])
    assert response.status_code == 200
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="pages_') and disposition.endswith('.csv"')
    first, last = disposition.split('"')[1].removesuffix(".csv").split("_")[1:]
    assert first <= D1.date().isoformat() and D2.date().isoformat() <= last
    assert len(parse(response.text)) == 5


async def test_limit(dataset):
    assert parse((await export(dataset, "pages", limit=2)).text) == EXPECTED["pages"][:3]
    assert parse((await export(dataset, "referrers", limit=100_000)).text) == EXPECTED["referrers"]
    assert parse((await export(dataset, "stats", limit=1)).text) == EXPECTED["stats"]  # not a list
    for bad in (0, 100_001):
        response = await export(dataset, "pages", limit=bad)
        assert response.status_code == 400
        assert response.headers["content-type"] == "application/json"


async def test_an_unknown_type_is_404(dataset):
    response = await export(dataset, "visitors")
    assert response.status_code == 404
    assert response.json()["error"].startswith("Export type 'visitors' not found.")


async def test_errors_are_json_not_csv(dataset):
    backwards = await export(dataset, "pages", start_at=D2.date().isoformat(), end_at=D1.date().isoformat())
    assert backwards.status_code == 400 and "start_at" in backwards.json()["error"]
    bad_filter = await export(dataset, "campaigns", filter="nowhere:is:x")
    assert bad_filter.status_code == 400 and "unknown dimension" in bad_filter.json()["error"]
    assert (await dataset["client"].get("/api/v1/exports/pages")).status_code == 401


async def test_the_admin_token_names_the_project(dataset):
    response = await export(dataset, "campaigns", headers=ADMIN, project_id=dataset["project"]["id"])
    assert parse(response.text) == EXPECTED["campaigns"]
    assert (await export(dataset, "campaigns", headers=ADMIN)).status_code == 400


@pytest.mark.parametrize("kind", TYPES)
async def test_exports_need_the_exports_module(dataset, kind):
    c = dataset["client"]
    project, query = await new_project(c, "NoExports")
    await c.post(f"/api/admin/projects/{project['id']}/modules/exports/disable", headers=ADMIN)
    refused = await c.get(f"/api/v1/exports/{kind}", headers=query)
    assert refused.status_code == 403
    assert refused.json() == {"error": "Module 'exports' is not enabled for this project."}
    # Checked before the type: a caller without exports learns nothing of the types.
    assert (await c.get("/api/v1/exports/nothing", headers=query)).status_code == 403


async def test_exporting_campaigns_needs_the_utm_module_too(dataset):
    c = dataset["client"]
    project, query = await new_project(c, "NoUtm")
    await c.post(f"/api/admin/projects/{project['id']}/modules/utm/disable", headers=ADMIN)
    refused = await c.get("/api/v1/exports/campaigns", headers=query)
    assert refused.status_code == 403
    assert refused.json() == {"error": "Module 'utm' is not enabled for this project."}
    assert (await c.get("/api/v1/exports/pages", headers=query)).status_code == 200
    await c.post(f"/api/admin/projects/{project['id']}/modules/utm/enable", headers=ADMIN)
    assert (await c.get("/api/v1/exports/campaigns", headers=query)).status_code == 200


async def test_a_key_exports_only_the_modules_it_may_read(dataset):
    c, project_id = dataset["client"], dataset["project"]["id"]
    exports_only = key_header((await create_key(c, project_id, "query", allowed_modules=["exports"]))["key"])
    refused = await export(dataset, "pages", headers=exports_only)
    assert refused.status_code == 403
    assert refused.json() == {"error": "API key is not allowed to access module 'core'."}
    with_core = key_header((await create_key(c, project_id, "query",
                                             allowed_modules=["exports", "core"]))["key"])
    assert parse((await export(dataset, "pages", headers=with_core)).text) == EXPECTED["pages"]
    refused = await export(dataset, "campaigns", headers=with_core)
    assert refused.json() == {"error": "API key is not allowed to access module 'utm'."}
    ingest = key_header((await create_key(c, project_id, "ingest"))["key"])
    assert (await export(dataset, "pages", headers=ingest)).status_code == 403


@pytest.mark.parametrize("kind", TYPES)
async def test_another_projects_key_sees_nothing_of_this_one(dataset, kind):
    c = dataset["client"]
    _, other = await new_project(c, "Elsewhere")
    response = await export(dataset, kind, headers=other)
    assert response.status_code == 200
    rows = parse(response.text)
    assert rows[0] == EXPECTED[kind][0]
    if kind == "stats":
        assert rows[1:] == [["0", "0", "0", "0.0", "0.0", "0"]]
    else:
        assert rows[1:] == []
    named = await export(dataset, kind, headers=other, project_id=dataset["project"]["id"])
    assert named.status_code == 404


async def test_rows_are_sent_in_chunks_as_they_are_written():
    rows = [(f"/page/{i}", i, i, 1.5) for i in range(1000)]
    chunks = [chunk async for chunk in service.csv_chunks(("path", "views", "unique_views", "avg_duration"), rows,
                                                           chunk_chars=1024)]
    assert len(chunks) > 10
    assert all(chunk.endswith("\r\n") for chunk in chunks)  # whole rows only
    assert all(len(chunk) < 1024 + 64 for chunk in chunks)
    assert parse("".join(chunks)) == [["path", "views", "unique_views", "avg_duration"]] + [
        [p, str(v), str(u), str(d)] for p, v, u, d in rows]


async def test_only_text_cells_are_defused():
    rows = [("-x", -1, "@y"), ("+z", 0.5, "\tq")]
    text = "".join([chunk async for chunk in service.csv_chunks(("a", "b", "c"), rows)])
    assert parse(text) == [["a", "b", "c"], ["'-x", "-1", "'@y"], ["'+z", "0.5", "'\tq"]]
