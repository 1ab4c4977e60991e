"""Hypothesis over POST /api/collect bodies and the /api/v1 report query strings.

Bodies: every payload type (pulse.ingest.payloads.payload_types()), flat and shaped (`payload`),
single and batched (a list, or {"batch": [...]}), starting from a valid payload and then
made hostile: any field (common or the type's own) replaced by a value of the wrong type, a
string at or over a limit (ASCII, three-byte CJK and four-byte emoji, on both sides of
pulse.limits' byte bounds), NUL characters, integers past 64 bits, NaN and Infinity literals,
far timestamps, deep nesting; and invalid UTF-8 bytes put into the encoded body.

The bar, on every request:
  * never a 5xx;
  * every 4xx is JSON `{"error": "<string>"}`;
  * a refused request (4xx) stores nothing: no shard's stream grows;
and, after each test's examples, everything that was accepted is writable: draining the
streams (as the worker would) leaves every shard's dead-letter stream empty. That is the proof
that validation bounds every value that reaches an index.
"""

from __future__ import annotations

import json
import math
import time
import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pulse.ingest.buffer import dead_key, stream_key
from pulse.ingest.payloads import payload_types
from pulse.limits import MAX_FILTER_VALUE, MAX_FILTERS, MAX_HOSTNAME, MAX_ID_BYTES, MAX_KEY_BYTES
from tests.helpers import CHROME, drain, error_envelope


def scaled(factor: int) -> int:
    """`factor` times the profile's examples: for tests whose examples are one cheap request."""
    return settings().max_examples * factor


# -- values ---------------------------------------------------------------------------------

BAD_UTF8 = "@@bad-utf8@@"  # replaced, in the encoded body, by one of INVALID_UTF8
INVALID_UTF8 = [b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf", b"\xe4\xb8"]

BIG_INTS = [2**63 - 1, 2**63, 2**64, 2**64 + 1, -(2**63), -(2**63) - 1, -(2**64), 10**30, -(10**30),
            10**400]
FLOATS = [math.nan, math.inf, -math.inf, 1e308, -1e308, -0.0, 5e-324, 0.5, -1.5]
TIMESTAMPS = [
    "0001-01-01", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999", "9999-12-31T23:59:59+00:00",
    "10000-01-01", "2024-02-30", "2024-01-01T25:00:00", "1970-01-01T00:00:00-23:59", "-0001-01-01",
    "now", "", " ", "1" * 65, 0, -1, -62135596800000, 253402300800000, 2**53, -(2**53), 2**63,
    2**64, -(2**64), 10**30, 1e300, -1e300, math.nan, math.inf, -math.inf, 1.5, True, [], {},
]
# Byte bounds: one character under, at and over each limit, in one, three and four bytes.
_BOUNDS = sorted({n for limit in (MAX_KEY_BYTES, MAX_ID_BYTES, MAX_HOSTNAME, 200, 500, 2048)
                  for n in (limit - 1, limit, limit + 1)})


def _sized(n: int, char: str) -> str:
    return char * (n // len(char.encode()) + (1 if n % len(char.encode()) else 0))


SIZED = st.builds(_sized, st.sampled_from(_BOUNDS + [4000, 4001, 16001, 70_000]),
                  st.sampled_from(["a", "路", "😀", "é"]))
CJK = st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), min_size=60, max_size=400)
NUL = st.sampled_from(["\x00", "a\x00b", "/p\x00", "\\u0000 literal"])


def _nest(depth: int, kind: str) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"a": value} if kind == "dict" else [value]
    return value


NESTED = st.builds(_nest, st.sampled_from([9, 10, 11, 12, 64, 256, 257, 900]),
                   st.sampled_from(["dict", "list"]))
MANY_KEYS = st.sampled_from([{f"k{i}": i for i in range(n)} for n in (999, 1000, 1001)])

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                    st.text(max_size=20), st.sampled_from(BIG_INTS), st.sampled_from(FLOATS))
JSON_VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
HOSTILE = st.one_of(
    JSON_VALUES, SIZED, CJK, NUL, NESTED, MANY_KEYS, st.sampled_from(BIG_INTS), st.sampled_from(TIMESTAMPS),
    # What spoils the whole body (NaN and Infinity literals, invalid UTF-8): one branch of many.
    st.sampled_from(FLOATS + [BAD_UTF8, "x" + BAD_UTF8 + "y"]),
    st.dictionaries(st.sampled_from(["a", "n", "\x00", "路" * 10]), st.sampled_from(BIG_INTS), min_size=1),
)

# -- payloads -------------------------------------------------------------------------------

COMMON = ["visitor_id", "user_id", "session_id", "timestamp", "url", "hostname", "path", "referrer",
          "title", "screen", "language", "utm_source", "utm_medium", "utm_campaign", "utm_content",
          "utm_term", "consent_mode", "consent_granted", "user_agent", "type", "payload"]


def valid(kind: str) -> dict[str, Any]:
    """A payload of `kind` that is accepted as it is."""
    now_ms = int(time.time() * 1000)
    base: dict[str, Any] = {"type": kind, "visitor_id": "v_fuzz", "url": "https://fuzz.test/page?q=1",
                            "referrer": "https://search.example/?q=x", "title": "Fuzz"}
    own: dict[str, dict[str, Any]] = {
        "pageview": {"utm_source": "news", "utm_campaign": "spring"},
        "screen": {"name": "Home"},
        "event": {"name": "signup", "data": {"plan": "pro", "n": 1}, "revenue_amount": 9.5,
                  "revenue_currency": "eur"},
        "identify": {"user_id": "u_fuzz", "traits": {"plan": "pro"}, "account_id": "acct_1",
                     "account_traits": {"seats": 3}, "account_role": "owner"},
        "web_vital": {"name": "LCP", "value": 1200.5, "navigation_type": "navigate", "id": "v1-1"},
        "scroll_depth": {"max_depth": 75},
        "search_query": {"query": "shoes", "results_count": 3},
        "outlink": {"url": "https://other.test/x", "page_url": "https://fuzz.test/page", "link_type": "external"},
        "js_error": {"message": "boom", "error_type": "TypeError", "stack": "at f (a.js:1:2)",
                     "filename": "https://fuzz.test/a.js", "lineno": 1, "colno": 2, "release": "1.0",
                     "environment": "prod"},
        "log": {"level": "warn", "message": "slow", "body": {"ms": 1500}, "release": "1.0"},
        "click_event": {"x": 10, "y": 20, "element_selector": "#buy", "element_text": "Buy",
                        "viewport_width": 1280, "viewport_height": 720, "page_width": 1280, "page_height": 4000},
        "survey_response": {"survey_id": str(uuid.UUID(int=7)), "completed": True,
                            "answers": [{"question_id": "q1", "value": "yes"}, {"question_id": "q2", "value": [1, 2]}]},
        "replay": {"recording_id": "rec_1", "seq": 0, "is_complete": False,
                   "events": [{"timestamp": now_ms, "type": 2, "data": {"node": {"id": 1}}}]},
        "engagement": {"path": "/page"},
    }
    return {**base, **own[kind]}


FIELDS = {kind: sorted(set(COMMON) | set(valid(kind))) for kind in payload_types()}


@st.composite
def payloads(draw) -> dict[str, Any]:
    """One payload: valid, then up to three fields hostile, in the flat or the shaped form."""
    kind = draw(st.sampled_from(payload_types()))
    payload = valid(kind)
    for _ in range(draw(st.integers(0, 3))):
        field = draw(st.sampled_from(FIELDS[kind]))
        if field == "timestamp" and draw(st.booleans()):
            payload[field] = draw(st.sampled_from(TIMESTAMPS))
        else:
            payload[field] = draw(HOSTILE)
    if draw(st.booleans()):  # shaped: the type's fields under `payload`
        inner = {k: v for k, v in payload.items() if k not in ("type", "visitor_id")}
        payload = {k: v for k, v in payload.items() if k in ("type", "visitor_id")} | {"payload": inner}
    return payload


def encode(body: Any, bad: bytes) -> bytes:
    raw = json.dumps(body, allow_nan=True).encode()  # NaN and Infinity as bare literals
    return raw.replace(BAD_UTF8.encode(), bad)


# -- the checks -----------------------------------------------------------------------------


async def stream_lengths(app) -> list[int]:
    runtime = app.state.runtime
    redis = runtime.stream_redis
    return [await redis.xlen(stream_key(s)) for s in range(runtime.settings.ingest_shards)]


async def post_collect(app, client, project, body: bytes) -> tuple[int, bytes, str]:
    before = await stream_lengths(app)
    response = await client.post("/api/collect", content=body, headers={
        "X-Pulse-Key": project["keys"]["ingest"], "User-Agent": CHROME, "Content-Type": "application/json"})
    status, content = response.status_code, response.content
    where = f"POST /api/collect body={body[:600]!r}... -> {status} {content[:300]!r}"
    assert status < 500, where
    problem = error_envelope(status, content, response.headers.get("content-type", ""))
    assert problem is None, f"{problem}\n{where}"
    if status >= 400 or (status == 200 and json.loads(content).get("accepted") == 0):
        assert await stream_lengths(app) == before, f"a refused request stored entries: {where}"
    return status, content, where


async def drained_without_dead_letters(app) -> None:
    await drain(app)
    runtime = app.state.runtime
    redis = runtime.stream_redis
    dead = {s: await redis.xrange(dead_key(s), count=3) for s in range(runtime.settings.ingest_shards)}
    dead = {s: [(i, f.get(b"error", f.get("error"))) for i, f in letters] for s, letters in dead.items() if letters}
    assert not dead, f"accepted entries that could not be written: {dead}"


@pytest.fixture
def collect(run, app, client, project):
    def post(body: bytes) -> tuple[int, bytes, str]:
        return run(post_collect(app, client, project, body))

    yield post
    run(drained_without_dead_letters(app))


# -- the tests ------------------------------------------------------------------------------


def test_single_payloads(collect) -> None:
    @given(payloads(), st.sampled_from(INVALID_UTF8))
    @settings(max_examples=scaled(4))
    def single(payload, bad) -> None:
        collect(encode(payload, bad))

    single()


def test_batches(collect) -> None:
    @given(st.lists(payloads(), min_size=1, max_size=6), st.booleans(), st.sampled_from(INVALID_UTF8))
    @settings(max_examples=scaled(4))
    def batch(items, wrapped, bad) -> None:
        status, content, where = collect(encode({"batch": items} if wrapped else items, bad))
        if status == 200:
            assert json.loads(content).get("ok") is True, where

    batch()


def test_every_type_accepted_as_valid(collect) -> None:
    """The starting points are valid: each type, flat and shaped, is accepted (so the hostile
    examples above start from payloads that get stored)."""
    for kind in payload_types():
        flat = valid(kind)
        shaped = {"type": kind, "visitor_id": "v_fuzz",
                  "payload": {k: v for k, v in flat.items() if k not in ("type", "visitor_id")}}
        for body in (flat, shaped):
            status, content, where = collect(json.dumps(body).encode())
            assert status == 200 and json.loads(content) == {"ok": True}, where


HOSTILE_BODIES = st.one_of(
    st.sampled_from([b"", b"null", b"1", b'"s"', b"[]", b"{}", b"NaN", b"Infinity", b"[NaN]", b"{", b"\xff",
                     b'{"type": "pageview", "visitor_id": "v", "path": "/\xff"}', b'{"batch": {}}',
                     b'{"batch": []}', b'{"type": null}', b'{"type": "nope"}', b"\x00", b'{"a":1}' * 3]),
    st.builds(lambda d: b"[" * d + b"]" * d, st.sampled_from([64, 1000, 100_000])),
    st.builds(lambda d: b'{"a":' * d + b"1" + b"}" * d, st.sampled_from([64, 1000, 100_000])),
    st.builds(lambda n: json.dumps([{"type": "pageview", "visitor_id": "v", "path": "/"}] * n).encode(),
              st.sampled_from([500, 501])),
    st.builds(lambda n: json.dumps({"type": "pageview", "visitor_id": "v", "title": "x" * n}).encode(),
              st.sampled_from([1_048_000, 1_048_577])),
    st.binary(max_size=64),
)


def test_hostile_bodies(collect) -> None:
    @given(HOSTILE_BODIES)
    def body(raw) -> None:
        collect(raw)

    body()


# -- report query strings -------------------------------------------------------------------

REPORTS = ["/api/v1/stats", "/api/v1/stats/timeseries", "/api/v1/pages", "/api/v1/pages/entry",
           "/api/v1/channels", "/api/v1/referrers", "/api/v1/events", "/api/v1/devices", "/api/v1/geo",
           "/api/v1/campaigns", "/api/v1/exports/pages"]
NUMBERS = st.one_of(st.sampled_from(["-1", "0", "1", "1000", "1001", str(2**63), str(2**64), "-" + str(2**63),
                                     "1" * 400, "1e3", "NaN", "Infinity", "", " 5", "0x10", "½", "٣"]),
                    st.integers().map(str))
DATES = st.one_of(st.sampled_from(TIMESTAMPS[:10] + ["2024-01-01", "2024-01-01T00:00:00Z", "today", "7d",
                                                     "2024-01-01T00:00:00+99:00", "1" * 30, "²"]),
                  st.text(max_size=12))
FILTER_VALUES = st.one_of(st.text(max_size=12), st.sampled_from(
    ["a{256}", "(?P<x>a)", "(a", "[", "\\", "a" * MAX_FILTER_VALUE, "a" * (MAX_FILTER_VALUE + 1), "路" * 400,
     "\x00", "%00", "'; select 1; --"]))
FILTERS = st.builds("{}:{}:{}".format,
                    st.sampled_from(["path", "hostname", "referrer_domain", "country", "browser", "utm_source",
                                     "event", "nope", ""]),
                    st.sampled_from(["eq", "neq", "contains", "matches", "not_matches", "in", "gt", ""]),
                    FILTER_VALUES)


@st.composite
def report_queries(draw) -> tuple[str, list[tuple[str, str]]]:
    path = draw(st.sampled_from(REPORTS))
    params: list[tuple[str, str]] = []
    for name, values in (("limit", NUMBERS), ("offset", NUMBERS), ("start_at", DATES), ("end_at", DATES),
                         ("interval", st.sampled_from(["hour", "day", "week", "month", "year", "", "x"]))):
        if draw(st.booleans()):
            params.append((name, draw(values)))
    params += [("filter", f) for f in draw(st.lists(FILTERS, max_size=MAX_FILTERS + 2))]
    return path, params


def test_report_query_strings(run, client, project) -> None:
    headers = {"X-Pulse-Key": project["keys"]["query"]}

    @given(report_queries())
    @settings(max_examples=scaled(4))
    def report(query) -> None:
        path, params = query
        response = run(client.get(path, params=params, headers=headers))
        where = f"GET {path} params={params!r} -> {response.status_code} {response.content[:300]!r}"
        assert response.status_code < 500, where
        problem = error_envelope(response.status_code, response.content, response.headers.get("content-type", ""))
        assert problem is None, f"{problem}\n{where}"

    report()
