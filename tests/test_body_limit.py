"""One body limit for every route (pulse.web.bodylimit): 413 before a large body is buffered."""

from __future__ import annotations

import pytest

from pulse.limits import MAX_BODY_BYTES
from pulse.web.bodylimit import BodyLimit
from tests.helpers import ADMIN, create_key, create_project, drain, gql, key_header

TOO_LARGE = {"error": "Request body exceeds 1048576 bytes."}
CHUNK = 64 * 1024
TOTAL = 8 * 1024 * 1024  # a multi-megabyte upload

ROUTES = [
    ("/dashboard/login", {"Content-Type": "application/x-www-form-urlencoded", "Origin": "http://pulse.test"}),
    ("/graphql", {"Content-Type": "application/json"}),
    ("/api/admin/projects", {**ADMIN, "Content-Type": "application/json"}),
]


class Upload:
    """A chunked body without Content-Length that records how much of it was read."""

    def __init__(self, total: int = TOTAL) -> None:
        self.total, self.sent = total, 0

    async def __aiter__(self):
        while self.sent < self.total:
            self.sent += CHUNK
            yield b"x" * CHUNK


def test_the_limit_is_the_one_in_limits():
    assert MAX_BODY_BYTES == 1_048_576 and TOO_LARGE["error"].endswith(f"{MAX_BODY_BYTES} bytes.")


@pytest.mark.parametrize(("path", "headers"), [*ROUTES, ("/api/collect", {"Content-Type": "application/json"})])
async def test_a_declared_large_body_is_refused_before_it_is_read(client, path, headers):
    upload = Upload()
    response = await client.post(path, content=upload,
                                 headers={**headers, "Content-Length": str(TOTAL)})
    assert response.status_code == 413 and response.json() == TOO_LARGE
    assert upload.sent == 0


@pytest.mark.parametrize(("path", "headers"), ROUTES)
async def test_a_streamed_large_body_is_refused_once_it_passes_the_limit(client, path, headers):
    upload = Upload()
    response = await client.post(path, content=upload, headers=headers)
    assert response.status_code == 413 and response.json() == TOO_LARGE
    assert response.headers["content-type"] == "application/json"
    # Read up to the chunk that passed the limit, and no further.
    assert MAX_BODY_BYTES < upload.sent <= MAX_BODY_BYTES + CHUNK


async def test_a_large_collect_body_stores_nothing_and_carries_cors_headers(client, app):
    # /api/collect checks the key before it reads the body; a streamed body then passes the limit.
    project = await create_project(client, "Limits", "limits.test")
    headers = {**key_header((await create_key(client, project["id"], "ingest"))["key"]),
               "Origin": "https://shop.example"}
    body = b'{"type": "pageview", "title": "' + b"x" * 1_100_000 + b'"}'
    declared = await client.post("/api/collect", content=body, headers=headers)
    upload = Upload()
    streamed = await client.post("/api/collect", content=upload, headers=headers)
    assert [declared.status_code, streamed.status_code] == [413, 413]
    assert declared.json() == streamed.json() == TOO_LARGE
    assert MAX_BODY_BYTES < upload.sent <= MAX_BODY_BYTES + CHUNK
    assert streamed.headers["access-control-allow-origin"] == "*"
    assert await drain(app) == 0


async def test_bodies_within_the_limit_are_unaffected(client):
    project = await create_project(client, "Within", "within.test")
    assert project["name"] == "Within"
    # A streamed body under the limit reaches the route whole.
    async def small():
        yield b'{"name": "Streamed", '
        yield b'"domain": "streamed.test"}'
    response = await client.post("/api/admin/projects", content=small(),
                                 headers={**ADMIN, "Content-Type": "application/json"})
    assert response.status_code == 201 and response.json()["name"] == "Streamed"
    # Exactly at the limit is allowed (the route then judges the content).
    at_limit = b'{"query": "{ __typename }"}'.ljust(MAX_BODY_BYTES)
    response = await client.post("/graphql", content=at_limit, headers=ADMIN | {"Content-Type": "application/json"})
    assert response.status_code != 413
    key = await create_key(client, project["id"], "query")
    result = await gql(client, "{ __typename }", headers=key_header(key["key"]))
    assert result == {"data": {"__typename": "Query"}}


async def _run(app, messages: list[dict], headers: list[tuple[bytes, bytes]] = ()) -> list[dict]:
    sent: list[dict] = []
    queue = list(messages)

    async def receive():
        return queue.pop(0) if queue else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/", "headers": list(headers)}
    await BodyLimit(app, limit=10)(scope, receive, send)
    return sent


async def test_an_app_that_answers_the_overflow_itself_still_gives_the_413():
    async def swallowing(scope, receive, send):
        try:
            while (await receive()).get("more_body"):
                pass
        except Exception:  # an app (say a GraphQL server) that turns any read error into its own 400
            await send({"type": "http.response.start", "status": 400, "headers": []})
            await send({"type": "http.response.body", "body": b"bad"})

    sent = await _run(swallowing, [{"type": "http.request", "body": b"12345678", "more_body": True},
                                   {"type": "http.request", "body": b"12345678", "more_body": True}])
    assert sent[0]["status"] == 413 and b"exceeds" in sent[1]["body"] and len(sent) == 2


async def test_a_body_at_the_limit_passes_whole():
    got = []

    async def echo(scope, receive, send):
        while True:
            message = await receive()
            got.append(message["body"])
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    sent = await _run(echo, [{"type": "http.request", "body": b"12345", "more_body": True},
                             {"type": "http.request", "body": b"67890"}], [(b"content-length", b"10")])
    assert b"".join(got) == b"1234567890" and sent[0]["status"] == 200


async def test_a_content_length_too_long_to_convert_is_a_413():
    async def unreachable(scope, receive, send):
        raise AssertionError("the app must not run")

    # 5,000 digits: int() refuses strings over 4,300 digits, which was a 500.
    sent = await _run(unreachable, [], [(b"content-length", b"9" * 5000)])
    assert sent[0]["status"] == 413 and b"exceeds" in sent[1]["body"]
