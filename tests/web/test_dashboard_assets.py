"""The dashboard's built assets: current with their sources, and served compressed and cacheable."""

from __future__ import annotations

from pathlib import Path

from pulse.web import dashboard
from tests.helpers import assert_assets_built_from_sources, needs_esbuild

ROOT = Path(dashboard.__file__).parent / "dashboard"


@needs_esbuild(ROOT)
def test_the_checked_in_assets_are_built_from_the_current_sources(tmp_path):
    assert_assets_built_from_sources(ROOT, tmp_path)


async def test_assets_are_served_gzipped_with_a_versioned_url(client):
    page = await client.get("/dashboard")
    assert f"/dashboard/assets/dashboard.js?v={dashboard.version()}" in page.text
    response = await client.get("/dashboard/assets/dashboard.js", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200 and response.headers["content-encoding"] == "gzip"
    assert response.headers["content-type"].startswith("text/javascript")
    assert "immutable" in response.headers["cache-control"]
    assert response.content == (ROOT / "assets" / "dashboard.js").read_bytes()  # httpx decodes the gzip
    again = await client.get("/dashboard/assets/dashboard.js", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304


async def test_an_unknown_asset_is_not_found(client):
    assert (await client.get("/dashboard/assets/../dashboard.py")).status_code == 404
    assert (await client.get("/dashboard/assets/nothing.js")).status_code == 404


async def test_the_login_page_needs_no_script_and_asks_for_a_query_key(client):
    page = await client.get("/dashboard")
    assert page.status_code == 200 and "<script" not in page.text
    assert '<form method="post" action="/dashboard/login"' in page.text and 'type="password"' in page.text
