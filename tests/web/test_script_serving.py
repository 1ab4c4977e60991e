"""GET /api/script.js and the feature files: caching headers, ETag / 304, gzip, CORS."""

from __future__ import annotations

import gzip

import pytest

from pulse.web.script import FEATURES, STATIC

PATHS = ["/api/script.js", *(f"/api/script/{name}.js" for name in FEATURES)]


def _file(path: str) -> bytes:
    return (STATIC / path.removeprefix("/api/")).read_bytes()


@pytest.mark.parametrize("path", PATHS)
async def test_script_files_are_served_cacheable_with_an_etag(client, path):
    response = await client.get(path, headers={"Accept-Encoding": "identity"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.content == _file(path)
    assert "max-age=86400" in response.headers["cache-control"]
    assert "public" in response.headers["cache-control"]
    etag = response.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')

    again = await client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag

    for other in ('"0.0.0-deadbeef"', f"W/{etag}, *"):
        answer = await client.get(path, headers={"If-None-Match": other})
        assert answer.status_code == (304 if "*" in other else 200)


async def test_etags_differ_per_file_and_name_the_version(client):
    from pulse import __version__

    etags = {(await client.get(path)).headers["etag"] for path in PATHS}
    assert len(etags) == len(PATHS)
    assert all(etag.startswith(f'"{__version__}-') for etag in etags)


async def test_script_is_sent_gzipped_when_accepted(client):
    response = await client.get("/api/script.js", headers={"Accept-Encoding": "gzip, br"})
    assert response.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["vary"]
    body = _file("/api/script.js")
    assert response.content == body  # httpx decodes it
    assert response.num_bytes_downloaded == len(gzip.compress(body, compresslevel=9, mtime=0)) < len(body)


async def test_head_and_unknown_feature(client):
    head = await client.head("/api/script.js")
    assert head.status_code == 200 and head.headers["etag"]
    missing = await client.get("/api/script/nope.js")
    assert missing.status_code == 404


@pytest.mark.parametrize("path", ["/api/script.js", "/api/script/replay.js"])
async def test_any_site_may_load_the_script(client, path):
    response = await client.get(path, headers={"Origin": "https://customer.example"})
    assert response.headers["access-control-allow-origin"] == "*"
