"""GraphiQL at /graphql and Swagger UI at /api/docs: served from the package's own built assets under
the dashboard's strict CSP, and working in Chromium with every other origin unreachable; `/`
redirects to the dashboard."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest
import pytest_asyncio
from playwright.async_api import Error as PlaywrightError

from pulse.web import ide
from pulse.web.dashboard import HTML_HEADERS
from tests.browser import browser, live_server, poll  # noqa: F401
from tests.helpers import assert_assets_built_from_sources, create_key, create_project, needs_esbuild

ROOT = Path(ide.__file__).parent / "ide"
PAGES = {"/graphql": "graphiql", "/api/docs": "docs"}
HTML = {"Accept": "text/html"}
# src= / href= / url(...) / @import targets in the HTML and CSS
REFERENCES = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)|url\(\s*["']?([^"')]+)|@import\s+["']([^"']+)""")


def _references(text: str) -> list[str]:
    return [next(g for g in match.groups() if g) for match in REFERENCES.finditer(text)]


@pytest_asyncio.fixture(scope="module")
async def site(live_server):  # noqa: F811
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as client:
        project = await create_project(client, "Explorer", "explorer.test")
        key = (await create_key(client, project["id"], "query"))["key"]
        yield {"url": live_server.url, "project": project, "key": key, "client": client}


@pytest.fixture
def client(site):
    """This module's one server, over real HTTP: the browser tests' own (a second app in-process
    beside it would share its database and Redis)."""
    return site["client"]


@needs_esbuild(ROOT)
def test_the_checked_in_assets_are_built_from_the_current_sources(tmp_path):
    assert_assets_built_from_sources(ROOT, tmp_path)


@pytest.mark.parametrize("path", PAGES)
async def test_the_pages_load_only_same_origin_files_under_the_strict_csp(client, path):
    page = await client.get(path, headers=HTML)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"] == HTML_HEADERS["Content-Security-Policy"]
    assert "script-src 'self';" in page.headers["content-security-policy"]
    assert "unsafe" not in page.headers["content-security-policy"]
    assert "http://" not in page.text and "https://" not in page.text
    # no inline script: the only <script> with a body is the JSON boot data
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page.text, re.S)
    assert [attrs for attrs, body in scripts if body.strip()] == [' type="application/json" id="pulse-boot"']
    json.loads(scripts[-1][1])
    assert "style=" not in page.text and "<style" not in page.text
    references = _references(page.text)
    name = PAGES[path]
    assert {urlparse(r).path for r in references if not r.startswith("data:")} == {
        f"{ide.PAGES[name]}/{name}.css", f"{ide.PAGES[name]}/{name}.js"}
    for reference in references:
        if reference.startswith("data:"):
            continue
        asset = await client.get(reference, headers={"Accept-Encoding": "gzip"})
        assert asset.status_code == 200, reference
        assert asset.headers["content-encoding"] == "gzip" and "immutable" in asset.headers["cache-control"]
        assert asset.headers["etag"] and asset.headers["x-content-type-options"] == "nosniff"
        again = await client.get(reference, headers={"If-None-Match": asset.headers["etag"]})
        assert again.status_code == 304
        if reference.split("?")[0].endswith(".css"):  # no stylesheet, font or image from another origin
            assert [r for r in _references(asset.text) if not r.startswith("data:")] == [], reference


async def test_graphiql_still_appears_under_its_old_test_and_graphql_posts_are_unchanged(client):
    page = await client.get("/graphql", headers=HTML)
    assert "graphiql" in page.text.lower()
    response = await client.post("/graphql", json={"query": "{ __schema { queryType { name } } }"})
    assert response.status_code == 200 and response.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


async def test_an_asset_is_served_only_under_its_own_page(client):
    assert (await client.get("/graphql/assets/docs.js")).status_code == 404
    assert (await client.get("/api/docs/assets/graphiql.js")).status_code == 404
    assert (await client.get("/graphql/assets/nothing.js")).status_code == 404
    assert (await client.get("/api/docs/assets/../openapi.json")).status_code == 404
    response = await client.get("/api/docs/assets/docs.js")
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.content == (ROOT / "assets" / "docs.js").read_bytes()


@pytest.mark.parametrize("method", ["GET", "HEAD"])
async def test_the_root_redirects_to_the_dashboard(client, method):
    response = await client.request(method, "/", follow_redirects=False)
    assert response.status_code == 307 and response.headers["location"] == "/dashboard"


async def test_the_openapi_document_stays_and_the_docs_are_not_in_it(client):
    spec = (await client.get("/api/openapi.json")).json()
    assert not {"/", "/api/docs", "/api/docs/assets/{name}", "/graphql/assets/{name}"} & set(spec["paths"])


# --- in Chromium, with every origin but the live server's unreachable ---------------------------

# Every Content-Security-Policy violation on the page, read back by the test.
WATCH_CSP = """window.__violations = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));"""


async def offline_page(browser, site):  # noqa: F811
    """A page on which any request to another origin is refused (and recorded)."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    origin = urlparse(site["url"]).netloc
    elsewhere: list[str] = []

    async def route(request_route):
        url = request_route.request.url
        if urlparse(url).scheme in ("http", "https", "ws", "wss") and urlparse(url).netloc != origin:
            elsewhere.append(url)
            await request_route.abort("internetdisconnected")
        else:
            await request_route.continue_()

    await context.route("**/*", route)
    await context.add_init_script(WATCH_CSP)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    return context, page, elsewhere, errors


async def _run(page, query: str, headers: str | None = None) -> dict:
    """Type `query` (and `headers`) into GraphiQL's editors, run it and return the result pane's JSON."""
    await page.evaluate("""([query, headers]) => {
      // the variables and headers editors share the tools pane; the open tab's is not hidden
      const visibleTool = () => document.querySelector(
        '.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror');
      document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(query);
      if (headers !== null) {
        visibleTool().CodeMirror.setValue(headers);
      }
    }""", [query, headers])
    before = await page.evaluate("document.querySelector('.result-window')?.innerText || ''")
    await page.click(".graphiql-execute-button")

    async def result():
        text = await page.evaluate("document.querySelector('.result-window .CodeMirror')?.CodeMirror.getValue()")
        return text and text != before and json.loads(text)

    return await poll(result)


async def test_graphiql_works_offline_under_the_csp_with_a_key_or_the_session(browser, site):  # noqa: F811
    context, page, elsewhere, errors = await offline_page(browser, site)
    try:
        await page.goto(site["url"] + "/graphql", wait_until="networkidle")
        await page.wait_for_selector(".graphiql-execute-button")
        # introspection needs no credential
        body = await _run(page, "{ __schema { queryType { name } } }")
        assert body == {"data": {"__schema": {"queryType": {"name": "Query"}}}}

        # a key typed into the headers editor (shown by its tab)
        await page.click("button:text-is('Headers')")
        body = await _run(page, "{ project { name domain } }", json.dumps({"X-Pulse-Key": site["key"]}))
        assert body == {"data": {"project": {"name": "Explorer", "domain": "explorer.test"}}}

        # the schema's docs came through introspection (the docs explorer lists Query's fields)
        await page.click("button[aria-label='Show Documentation Explorer']")
        await page.wait_for_selector(".graphiql-doc-explorer >> text=Query")

        # a dashboard session's cookie works without any header
        await page.goto(site["url"] + "/dashboard")
        await page.fill("#key", site["key"])
        await page.click("button[type=submit]")
        await page.wait_for_url("**/dashboard")
        await page.goto(site["url"] + "/graphql", wait_until="networkidle")
        await page.wait_for_selector(".graphiql-execute-button")
        body = await _run(page, "{ project { domain } }", "{}")
        assert body == {"data": {"project": {"domain": "explorer.test"}}}

        assert elsewhere == [] and errors == []
        assert await page.evaluate("window.__violations") == []
        # the blocking is real: a request elsewhere is refused and recorded
        probe = await context.new_page()
        with pytest.raises(PlaywrightError, match="ERR_INTERNET_DISCONNECTED"):
            await probe.goto("https://cdn.example.com/graphiql.js")
        assert elsewhere == ["https://cdn.example.com/graphiql.js"]
    finally:
        await context.close()


async def test_the_rest_docs_list_the_operations_offline_under_the_csp(browser, site):  # noqa: F811
    context, page, elsewhere, errors = await offline_page(browser, site)
    try:
        await page.goto(site["url"] + "/api/docs", wait_until="networkidle")
        await page.wait_for_selector(".opblock-summary-path")
        paths = await page.eval_on_selector_all(".opblock-summary-path", "els => els.map(e => e.dataset.path)")
        spec = (await site["client"].get("/api/openapi.json")).json()
        assert "/api/v1/stats" in paths and len(paths) == sum(
            1 for item in spec["paths"].values() for method in item if method in ("get", "post", "put", "patch",
                                                                                  "delete"))
        assert await page.inner_text(".info .title") != ""
        assert elsewhere == [] and errors == []
        assert await page.evaluate("window.__violations") == []
    finally:
        await context.close()
