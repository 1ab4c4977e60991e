"""Parsing and validation of `POST /api/collect` bodies (pulse.ingest.payloads). Pure, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import msgspec
import pytest

from pulse.errors import BadRequest, PayloadTooLarge
from pulse.ingest.payloads import (
    MAX_BATCH_ITEMS,
    MAX_BODY_BYTES,
    Item,
    ItemError,
    parse_collect,
    payload_modules,
    payload_types,
)
from pulse.modules.core.payloads import EventData, ScreenData
from pulse.modules.error_tracking.payloads import JsErrorData
from pulse.modules.heatmaps.payloads import ClickData
from pulse.modules.identity.payloads import IdentifyData
from pulse.modules.logs.payloads import LogData
from pulse.modules.outlinks.payloads import OutlinkData
from pulse.modules.registry import MODULES
from pulse.modules.scroll.payloads import ScrollDepthData
from pulse.modules.search.payloads import SearchQueryData
from pulse.modules.session_replay.payloads import ReplayData
from pulse.modules.surveys.payloads import SurveyAnswer, SurveyResponseData
from pulse.modules.webvitals.payloads import WebVitalData

NOW = datetime(2026, 5, 9, 18, 0, 0, tzinfo=UTC)
SURVEY_ID = "c7f3e8a2-91b4-4d6e-b2f1-8a3c9d4e5f6a"


def enc(doc: Any) -> bytes:
    return msgspec.json.encode(doc)


def one(doc: dict[str, Any], now: datetime = NOW) -> Item:
    parsed = parse_collect(enc(doc), now=now)
    assert parsed.batch is False and len(parsed.items) == 1
    item = parsed.items[0]
    assert isinstance(item, Item)
    return item


def error(doc: Any) -> str:
    body = doc if isinstance(doc, bytes) else enc(doc)
    with pytest.raises(BadRequest) as info:
        parse_collect(body, now=NOW)
    assert info.value.status == 400
    return info.value.message


def shaped(type_: str, fields: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"type": type_, **top, "payload": fields}


# --------------------------------------------------------------------------------------------
# Every type, flat and shaped

CASES: list[tuple[str, dict[str, Any], Any]] = [
    ("pageview", {"path": "/pricing", "title": "Pricing - Acme Corp"}, None),
    ("engagement", {"path": "/pricing"}, None),
    ("screen", {"name": "Home"}, ScreenData("Home")),
    ("event", {"name": "add_to_cart", "data": {"quantity": 2}, "revenue_amount": 59.98, "revenue_currency": "USD"},
     EventData("add_to_cart", {"quantity": 2}, Decimal("59.98"), "USD")),
    ("identify", {"user_id": "user_123", "traits": {"plan": "pro"}}, IdentifyData({"plan": "pro"})),
    ("web_vital", {"name": "LCP", "value": 1842.5, "rating": "good"}, WebVitalData("LCP", 1842.5, "good")),
    ("scroll_depth", {"max_depth": 87}, ScrollDepthData(87)),
    ("search_query", {"query": "pricing plans", "results_count": 7}, SearchQueryData("pricing plans", 7)),
    ("outlink", {"url": "https://github.com/acme/widget", "link_type": "external"},
     OutlinkData("https://github.com/acme/widget", "github.com", "external")),
    ("js_error", {"message": "TypeError: x is null", "lineno": 142, "colno": 18},
     JsErrorData("TypeError: x is null", lineno=142, colno=18)),
    ("log", {"level": "warn", "message": "Checkout retry", "body": {"order_id": "ord_123"}},
     LogData("warn", "Checkout retry", {"order_id": "ord_123"})),
    ("click_event", {"x": 482, "y": 1203, "element_selector": "button.cta-primary"},
     ClickData(482.0, 1203.0, "button.cta-primary")),
    ("survey_response", {"survey_id": SURVEY_ID, "answers": [{"question_id": "q1", "value": "Yes"}], "completed": True},
     SurveyResponseData(SURVEY_ID, [SurveyAnswer("q1", "Yes")], True)),
    ("replay", {"recording_id": "rec-f4a7c2", "seq": 3, "events": [{"type": 2, "timestamp": 1778349600000}]},
     ReplayData("rec-f4a7c2", [{"type": 2, "timestamp": 1778349600000}], 3)),
]


def test_cases_cover_every_type() -> None:
    assert sorted(t for t, _, _ in CASES) == sorted(payload_types())


@pytest.mark.parametrize(("type_", "fields", "data"), CASES, ids=[c[0] for c in CASES])
def test_every_type_flat_and_shaped(type_: str, fields: dict[str, Any], data: Any) -> None:
    flat = one({"type": type_, "visitor_id": "v_7fz9k2", **fields})
    nested = one(shaped(type_, fields, visitor_id="v_7fz9k2"))
    assert flat == nested
    assert flat.type == type_
    assert flat.visitor_id == "v_7fz9k2"
    assert flat.ts == NOW
    assert flat.data == data


def test_reference_pageview_example() -> None:
    item = one({
        "type": "pageview", "path": "/pricing", "title": "Pricing - Acme Corp", "referrer": "https://google.com",
        "screen": "1920x1080", "language": "en-US", "utm_source": "google", "utm_medium": "cpc",
        "utm_campaign": "spring_sale", "utm_content": "banner_a", "utm_term": "analytics tool",
    })
    assert item.path == "/pricing"
    assert item.title == "Pricing - Acme Corp"
    assert item.referrer == "https://google.com"
    assert item.screen == "1920x1080"
    assert item.language == "en-US"
    assert item.utm == {"source": "google", "medium": "cpc", "campaign": "spring_sale", "content": "banner_a",
                        "term": "analytics tool"}
    assert item.url is None and item.hostname is None and item.data is None
    assert item.visitor_id is None and item.user_id is None and item.session_id is None
    assert item.consent_mode is None and item.consent_granted is None


def test_utm_only_keys_present_and_empty_strings_dropped() -> None:
    item = one({"type": "pageview", "path": "/", "utm_source": "news", "utm_medium": ""})
    assert item.utm == {"source": "news"}
    assert one({"type": "pageview", "path": "/"}).utm == {}


def test_common_fields_at_either_level() -> None:
    item = one(shaped("event", {"name": "x", "session_id": "s1", "url": "https://a.example/p"},
                      user_id="u1", title="T", utm_source="g", timestamp="2026-05-09T17:00:00Z"))
    assert (item.user_id, item.session_id, item.title, item.utm) == ("u1", "s1", "T", {"source": "g"})
    assert (item.hostname, item.path) == ("a.example", "/p")
    assert item.ts == datetime(2026, 5, 9, 17, 0, tzinfo=UTC)


def test_payload_overrides_top_level() -> None:
    item = one(shaped("pageview", {"path": "/inner", "visitor_id": "v_inner"}, path="/outer", visitor_id="v_outer"))
    assert (item.path, item.visitor_id) == ("/inner", "v_inner")


def test_type_inside_payload() -> None:
    # Top-level type wins: a `type` key inside payload can't re-type the payload.
    item = one(shaped("js_error", {"message": "boom", "type": "TypeError"}))
    assert item.type == "js_error"
    # Without a top-level type the payload's is used (visitor_id at the top still applies).
    item = one({"visitor_id": "v1", "payload": {"type": "scroll_depth", "max_depth": 50}})
    assert (item.type, item.visitor_id, item.data) == ("scroll_depth", "v1", ScrollDepthData(50))


def test_null_payload_is_absent_and_non_object_payload_is_an_error() -> None:
    assert one({"type": "pageview", "path": "/", "payload": None}).path == "/"
    assert error({"type": "pageview", "payload": [1]}) == "Invalid request body: field 'payload' must be an object."


def test_unknown_fields_are_ignored() -> None:
    item = one({"type": "scroll_depth", "max_depth": 10, "sdk_version": "9.9", "payload": {"future": {"x": 1}}})
    assert item.data == ScrollDepthData(10)


# --------------------------------------------------------------------------------------------
# URL, hostname and path


@pytest.mark.parametrize(("url", "hostname", "path"), [
    ("https://acme.com/pricing?plan=pro#top", "acme.com", "/pricing"),
    ("https://ACME.com", "acme.com", "/"),
    ("https://user:pw@Shop.Acme.com:8443/a/b%20c/", "shop.acme.com", "/a/b%20c/"),
    ("http://[2001:db8::1]:8080/x", "2001:db8::1", "/x"),
    ("/relative/page?q=1", None, "/relative/page"),
])
def test_hostname_and_path_derived_from_url(url: str, hostname: str | None, path: str) -> None:
    item = one({"type": "pageview", "url": url})
    assert (item.url, item.hostname, item.path) == (url, hostname, path)


def test_explicit_hostname_and_path_win() -> None:
    item = one({"type": "pageview", "url": "https://acme.com/a", "hostname": "WWW.Acme.com", "path": "/b?x=1"})
    assert (item.hostname, item.path) == ("www.acme.com", "/b?x=1")
    item = one({"type": "pageview", "url": "https://acme.com/a", "hostname": ""})
    assert item.hostname == "acme.com"


def test_invalid_url() -> None:
    assert error({"type": "pageview", "url": "http://[::1/x"}) == (
        "Invalid request body: field 'url' must be a valid URL.")


def test_derived_path_too_long() -> None:
    url = "https://acme.com/" + "a" * 1100
    assert error({"type": "pageview", "url": url}) == (
        "Invalid request body: field 'url' has a path longer than 1024 characters.")


def test_a_pageview_needs_a_page() -> None:
    """Else it would count in pageviews and show on no page."""
    message = "Invalid request body: missing required field 'path' or 'url'."
    assert error({"type": "pageview"}) == message
    assert error({"type": "pageview", "path": "", "url": "", "hostname": "acme.com"}) == message
    assert error({"type": "pageview", "url": "?utm_source=x"}) == (
        "Invalid request body: field 'url' must be a URL with a path.")
    batch = parse_collect(enc([{"type": "pageview"}, {"type": "pageview", "url": "https://acme.com"}]), now=NOW)
    assert batch.items[0] == ItemError(0, message) and batch.items[1].path == "/"


def test_other_types_need_no_page() -> None:
    item = one({"type": "event", "name": "signup"})
    assert (item.url, item.hostname, item.path) == (None, None, None)


# --------------------------------------------------------------------------------------------
# Per-type rules


def test_screen_is_a_pageview_of_the_name() -> None:
    item = one(shaped("screen", {"name": "Home"}, visitor_id="device_1"))
    assert (item.path, item.title, item.data) == ("Home", "Home", ScreenData("Home"))
    item = one({"type": "screen", "name": "Checkout", "title": "Checkout step 2", "path": "/ignored"})
    assert (item.path, item.title) == ("Checkout", "Checkout step 2")
    assert error({"type": "screen"}) == "Invalid request body: missing required field 'name'."
    assert error({"type": "screen", "name": "  "}) == "Invalid request body: field 'name' must be a non-empty string."


def test_event_reference_example() -> None:
    item = one({
        "type": "event", "name": "add_to_cart", "path": "/products/widget-pro",
        "data": {"product_id": "prod_8x92k", "product_name": "Widget Pro", "quantity": 2},
        "revenue_amount": 59.98, "revenue_currency": "USD",
    })
    assert item.path == "/products/widget-pro"
    assert item.data == EventData("add_to_cart", {"product_id": "prod_8x92k", "product_name": "Widget Pro",
                                                  "quantity": 2}, Decimal("59.98"), "USD")


def test_event_revenue_rules() -> None:
    assert one({"type": "event", "name": "p", "revenue_amount": 49.99}).data == EventData(
        "p", {}, Decimal("49.99"), "USD")
    assert one({"type": "event", "name": "p", "revenue_amount": 10, "revenue_currency": "eur"}).data == EventData(
        "p", {}, Decimal("10"), "EUR")
    assert one({"type": "event", "name": "p", "revenue_currency": "EUR"}).data == EventData("p", {})
    assert one({"type": "event", "name": "p", "revenue_amount": 0}).data.revenue_amount == Decimal("0")
    assert error({"type": "event", "name": "p", "revenue_amount": -1}) == (
        "Invalid request body: field 'revenue_amount' must be between 0 and 1000000000000.")
    assert error({"type": "event", "name": "p", "revenue_amount": "49.99"}) == (
        "Invalid request body: field 'revenue_amount' must be a number.")
    for bad in ("US", "dollars", "U$D", 840):
        assert error({"type": "event", "name": "p", "revenue_amount": 1, "revenue_currency": bad}) == (
            "Invalid request body: field 'revenue_currency' must be a three-letter ISO 4217 currency code.")


def test_event_errors() -> None:
    assert error({"type": "event"}) == "Invalid request body: missing required field 'name'."
    assert error({"type": "event", "name": 5}) == "Invalid request body: field 'name' must be a string."
    assert error({"type": "event", "name": "n" * 201}) == (
        "Invalid request body: field 'name' must be at most 200 characters.")
    assert error({"type": "event", "name": "x", "data": [1]}) == "Invalid request body: field 'data' must be an object."


def test_event_name_is_trimmed() -> None:
    assert one({"type": "event", "name": " signup "}).data.name == "signup"


def test_freeform_size_and_depth_caps() -> None:
    big = {"blob": "x" * 65_600}
    assert error({"type": "event", "name": "x", "data": big}) == (
        "Invalid request body: field 'data' must be at most 65536 bytes as JSON.")
    deep: Any = 1
    for _ in range(11):
        deep = {"k": deep}
    assert error({"type": "event", "name": "x", "data": deep}) == (
        "Invalid request body: field 'data' must be nested at most 10 levels deep.")
    ok: Any = [1]
    for _ in range(9):
        ok = {"k": ok}
    assert one({"type": "event", "name": "x", "data": ok}).data.data == ok
    # Many brackets but shallow: fine.
    wide = {f"k{i}": {"a": [1]} for i in range(50)}
    assert one({"type": "event", "name": "x", "data": wide}).data.data == wide


def test_identify_reference_example() -> None:
    item = one(shaped("identify", {"user_id": "user_123", "traits": {
        "plan": "pro", "company": "Acme Corp", "role": "admin", "signed_up": "2025-08-14"}}, visitor_id="v_7fz9k2"))
    assert (item.visitor_id, item.user_id) == ("v_7fz9k2", "user_123")
    assert item.data == IdentifyData({"plan": "pro", "company": "Acme Corp", "role": "admin",
                                      "signed_up": "2025-08-14"})


def test_identify_accounts() -> None:
    flat = one({"type": "identify", "user_id": 123, "account_id": 42, "account_traits": {"plan": "enterprise"},
                "account_role": "admin"})
    assert flat.user_id == "123"
    assert flat.data == IdentifyData({}, "42", {"plan": "enterprise"}, "admin")
    nested = one({"type": "identify", "user_id": "123",
                  "account": {"id": "42", "traits": {"plan": "enterprise"}, "role": "admin"}})
    assert nested.data == flat.data
    assert one({"type": "identify", "traits": {"a": 1}}).data == IdentifyData({"a": 1})  # anonymous
    assert error({"type": "identify", "account": {"id": "1"}, "account_id": "1"}) == (
        "Invalid request body: send the account either as 'account' or as 'account_id'/'account_traits', not both.")
    assert error({"type": "identify", "account": {"traits": {"a": 1}}}) == (
        "Invalid request body: missing required field 'account.id'.")
    assert error({"type": "identify", "account_traits": {"a": 1}}) == (
        "Invalid request body: missing required field 'account_id'.")
    assert error({"type": "identify", "account": "acme"}) == "Invalid request body: field 'account' must be an object."
    assert error({"type": "identify", "account": {"id": "1", "role": 3}}) == (
        "Invalid request body: field 'account.role' must be a string.")
    assert error({"type": "identify", "traits": "pro"}) == "Invalid request body: field 'traits' must be an object."


def test_web_vital_reference_example() -> None:
    item = one({"type": "web_vital", "name": "LCP", "value": 1842.5, "rating": "good", "path": "/home"})
    assert item.path == "/home"
    assert item.data == WebVitalData("LCP", 1842.5, "good")


@pytest.mark.parametrize(("name", "value", "rating"), [
    ("LCP", 2500, "good"), ("LCP", 2501, "needs-improvement"), ("LCP", 4000.1, "poor"),
    ("fcp", 1800, "good"), ("FCP", 3000, "needs-improvement"), ("FCP", 3001, "poor"),
    ("cls", 0.1, "good"), ("CLS", 0.2, "needs-improvement"), ("CLS", 0.26, "poor"),
    ("Inp", 150, "good"), ("INP", 500, "needs-improvement"), ("INP", 501, "poor"),
    ("ttfb", 0, "good"), ("TTFB", 1000, "needs-improvement"), ("TTFB", 1801, "poor"),
])
def test_web_vital_rating_computed(name: str, value: float, rating: str) -> None:
    data = one({"type": "web_vital", "name": name, "value": value}).data
    assert (data.name, data.value, data.rating) == (name.upper(), float(value), rating)


def test_web_vital_fields_and_errors() -> None:
    data = one({"type": "web_vital", "name": "INP", "value": 80, "rating": "Needs-Improvement",
                "navigation_type": "back-forward", "id": "v4-1715-42"}).data
    assert data == WebVitalData("INP", 80.0, "needs-improvement", "back-forward", "v4-1715-42")
    for bad in ("FID", "lcpx", 3):
        assert error({"type": "web_vital", "name": bad, "value": 1}) == (
            "Invalid request body: field 'name' must be one of LCP, FCP, CLS, INP, TTFB.")
    assert error({"type": "web_vital", "value": 1}) == "Invalid request body: missing required field 'name'."
    assert error({"type": "web_vital", "name": "LCP"}) == "Invalid request body: missing required field 'value'."
    assert error({"type": "web_vital", "name": "LCP", "value": -1}) == (
        "Invalid request body: field 'value' must be between 0 and 1000000000.")
    assert error({"type": "web_vital", "name": "LCP", "value": "fast"}) == (
        "Invalid request body: field 'value' must be a number.")
    assert error({"type": "web_vital", "name": "LCP", "value": 1, "rating": "ok"}) == (
        "Invalid request body: field 'rating' must be one of good, needs-improvement, poor.")


def test_scroll_depth() -> None:
    item = one({"type": "scroll_depth", "path": "/blog/getting-started", "max_depth": 87})
    assert (item.path, item.data) == ("/blog/getting-started", ScrollDepthData(87))
    assert one({"type": "scroll_depth", "max_depth": 87.6}).data == ScrollDepthData(88)
    assert one({"type": "scroll_depth", "max_depth": 0}).data == ScrollDepthData(0)
    assert one({"type": "scroll_depth", "max_depth": 100}).data == ScrollDepthData(100)
    for bad in (101, -1, 100.5):
        assert error({"type": "scroll_depth", "max_depth": bad}) == (
            "Invalid request body: field 'max_depth' must be between 0 and 100.")
    assert error({"type": "scroll_depth"}) == "Invalid request body: missing required field 'max_depth'."
    for bad in ("87", True):
        assert error({"type": "scroll_depth", "max_depth": bad}) == (
            "Invalid request body: field 'max_depth' must be a number.")


def test_search_query() -> None:
    item = one({"type": "search_query", "query": "pricing plans", "results_count": 7, "path": "/search"})
    assert (item.path, item.data) == ("/search", SearchQueryData("pricing plans", 7))
    assert one({"type": "search_query", "query": " deployment guide "}).data == SearchQueryData("deployment guide")
    assert error({"type": "search_query"}) == "Invalid request body: missing required field 'query'."
    assert error({"type": "search_query", "query": "   "}) == (
        "Invalid request body: field 'query' must be a non-empty string.")
    assert error({"type": "search_query", "query": "q" * 501}) == (
        "Invalid request body: field 'query' must be at most 500 characters.")
    assert error({"type": "search_query", "query": "q", "results_count": -1}) == (
        "Invalid request body: field 'results_count' must be between 0 and 2147483647.")
    assert error({"type": "search_query", "query": "q", "results_count": 1.5}) == (
        "Invalid request body: field 'results_count' must be an integer.")


def test_outlink() -> None:
    item = one({"type": "outlink", "url": "https://github.com/acme/widget", "link_type": "external", "path": "/docs"})
    assert (item.url, item.hostname, item.path) == (None, None, "/docs")
    assert item.data == OutlinkData("https://github.com/acme/widget", "github.com", "external")
    # The page the link was on comes as page_url.
    item = one({"type": "outlink", "url": "HTTP://Files.Example.org/a.pdf", "link_type": "download",
                "page_url": "https://acme.com/docs/install"})
    assert (item.url, item.hostname, item.path) == ("https://acme.com/docs/install", "acme.com", "/docs/install")
    assert item.data == OutlinkData("HTTP://Files.Example.org/a.pdf", "files.example.org", "download")
    assert one({"type": "outlink", "url": "https://x.org", "link_type": "outbound"}).data.link_type == "external"
    assert one({"type": "outlink", "url": "https://x.org"}).data.link_type == "external"


def test_outlink_errors() -> None:
    assert error({"type": "outlink"}) == "Invalid request body: missing required field 'url'."
    for bad in ("ftp://x.org/f", "mailto:a@b.c", "/relative", "https://"):
        assert error({"type": "outlink", "url": bad}) == (
            "Invalid request body: field 'url' must be an absolute http or https URL.")
    assert error({"type": "outlink", "url": "https://x.org", "link_type": "internal"}) == (
        "Invalid request body: field 'link_type' must be one of external, download.")
    assert error({"type": "outlink", "url": "https://x.org", "page_url": 5}) == (
        "Invalid request body: field 'page_url' must be a string.")


def test_js_error_reference_example() -> None:
    item = one(shaped("js_error", {
        "message": "TypeError: Cannot read properties of null (reading 'id')",
        "stack": "TypeError: Cannot read properties of null\n at handleClick (app.js:142:18)",
        "filename": "https://acme.com/assets/app.js", "lineno": 142, "colno": 18, "path": "/dashboard",
        "release": "2026.05.09", "environment": "production",
    }, visitor_id="v_7fz9k2"))
    assert item.path == "/dashboard"
    assert item.data == JsErrorData(
        "TypeError: Cannot read properties of null (reading 'id')", None,
        "TypeError: Cannot read properties of null\n at handleClick (app.js:142:18)",
        "https://acme.com/assets/app.js", 142, 18, "2026.05.09", "production")


def test_js_error_fields_and_errors() -> None:
    assert one({"type": "js_error", "message": "m", "name": "RangeError"}).data.error_type == "RangeError"
    assert one({"type": "js_error", "message": "m", "error_type": "E", "name": "N"}).data.error_type == "E"
    assert error({"type": "js_error"}) == "Invalid request body: missing required field 'message'."
    assert error({"type": "js_error", "message": "m" * 4001}) == (
        "Invalid request body: field 'message' must be at most 4000 characters.")
    assert error({"type": "js_error", "message": "m", "stack": "s" * 16001}) == (
        "Invalid request body: field 'stack' must be at most 16000 characters.")
    assert one({"type": "js_error", "message": "m", "stack": "s" * 16000}).data.stack == "s" * 16000
    assert error({"type": "js_error", "message": "m", "lineno": -1}) == (
        "Invalid request body: field 'lineno' must be between 0 and 2147483647.")
    assert error({"type": "js_error", "message": "m", "colno": "18"}) == (
        "Invalid request body: field 'colno' must be an integer.")


def test_log() -> None:
    item = one(shaped("log", {"level": "warn", "message": "Checkout retry",
                              "body": {"order_id": "ord_123", "retry_count": 2}, "path": "/checkout",
                              "release": "2026.05.09", "environment": "production"}, visitor_id="v_7fz9k2"))
    assert item.data == LogData("warn", "Checkout retry", {"order_id": "ord_123", "retry_count": 2},
                                "2026.05.09", "production")
    assert one({"type": "log", "level": "WARNING", "message": "m"}).data.level == "warn"
    assert one({"type": "log", "level": "Fatal", "message": "m"}).data.level == "fatal"
    assert one({"type": "log", "message": "m"}).data.level == "info"
    assert one({"type": "log", "message": "m", "data": {"a": 1}}).data.body == {"a": 1}
    assert one({"type": "log", "message": "m", "body": {"b": 1}, "data": {"a": 1}}).data.body == {"b": 1}
    assert one({"type": "log", "message": "m"}).data.body == {}
    assert error({"type": "log", "level": "critical", "message": "m"}) == (
        "Invalid request body: field 'level' must be one of debug, info, warn, warning, error, fatal.")
    assert error({"type": "log", "level": "info"}) == "Invalid request body: missing required field 'message'."
    assert error({"type": "log", "message": "m", "body": "text"}) == (
        "Invalid request body: field 'body' must be an object.")


def test_click_event() -> None:
    item = one({"type": "click_event", "path": "/pricing", "x": 482, "y": 1203,
                "element_selector": "button.cta-primary", "viewport_width": 1440, "viewport_height": 900})
    assert item.path == "/pricing"
    assert item.data == ClickData(482.0, 1203.0, "button.cta-primary", None, 1440, 900)
    data = one({"type": "click_event", "x": 1.5, "y": 0, "element_text": "Buy now", "page_width": 1440.0,
                "page_height": 5000}).data
    assert data == ClickData(1.5, 0.0, None, "Buy now", None, None, 1440, 5000)


def test_click_event_errors() -> None:
    assert error({"type": "click_event", "y": 1}) == "Invalid request body: missing required field 'x'."
    assert error({"type": "click_event", "x": 1}) == "Invalid request body: missing required field 'y'."
    assert error({"type": "click_event", "x": "1", "y": 1}) == "Invalid request body: field 'x' must be a number."
    assert error({"type": "click_event", "x": 1, "y": -2}) == (
        "Invalid request body: field 'y' must be between 0 and 2147483647.")
    assert error({"type": "click_event", "x": 1, "y": 1, "element_text": "t" * 201}) == (
        "Invalid request body: field 'element_text' must be at most 200 characters.")
    assert error({"type": "click_event", "x": 1, "y": 1, "viewport_width": 1440.5}) == (
        "Invalid request body: field 'viewport_width' must be an integer.")


def test_survey_response_reference_example() -> None:
    item = one(shaped("survey_response", {
        "survey_id": SURVEY_ID,
        "answers": [{"question_id": "q1", "value": "Very satisfied"}, {"question_id": "q2", "value": 9},
                    {"question_id": "q3", "value": "Love the real-time dashboard!"}],
        "completed": True, "path": "/app/settings",
    }, visitor_id="v_7fz9k2"))
    assert item.path == "/app/settings"
    assert item.data == SurveyResponseData(SURVEY_ID, [
        SurveyAnswer("q1", "Very satisfied"), SurveyAnswer("q2", 9),
        SurveyAnswer("q3", "Love the real-time dashboard!")], True)


def test_survey_response_values_and_defaults() -> None:
    data = one({"type": "survey_response", "survey_id": SURVEY_ID.upper(),
                "answers": [{"question_id": "q1", "value": ["a", "b"]}, {"question_id": 2, "value": False},
                            {"question_id": "q3", "value": 4.5}]}).data
    assert data == SurveyResponseData(SURVEY_ID, [SurveyAnswer("q1", ["a", "b"]), SurveyAnswer("2", False),
                                                  SurveyAnswer("q3", 4.5)], False)


@pytest.mark.parametrize(("fields", "message"), [
    ({"answers": [{"question_id": "q", "value": 1}]}, "missing required field 'survey_id'."),
    ({"survey_id": "not-a-uuid"}, "field 'survey_id' must be a UUID."),
    ({"survey_id": "x" * 100}, "field 'survey_id' must be a UUID."),
    ({"survey_id": SURVEY_ID}, "missing required field 'answers'."),
    ({"survey_id": SURVEY_ID, "answers": {}}, "field 'answers' must be a list."),
    ({"survey_id": SURVEY_ID, "answers": []}, "field 'answers' must be a list of 1 to 100 answers."),
    ({"survey_id": SURVEY_ID, "answers": [{"question_id": f"q{i}", "value": 1} for i in range(101)]},
     "field 'answers' must be a list of 1 to 100 answers."),
    ({"survey_id": SURVEY_ID, "answers": ["yes"]}, "field 'answers[0]' must be an object."),
    ({"survey_id": SURVEY_ID, "answers": [{"question_id": "q1", "value": 1}, {"value": 2}]},
     "missing required field 'answers[1].question_id'."),
    ({"survey_id": SURVEY_ID, "answers": [{"question_id": "q1"}]}, "missing required field 'answers[0].value'."),
    ({"survey_id": SURVEY_ID, "answers": [{"question_id": "q1", "value": {"a": 1}}]},
     "field 'answers[0].value' must be a string, number, boolean or list of those."),
    ({"survey_id": SURVEY_ID, "answers": [{"question_id": "q1", "value": ["a", None]}]},
     "field 'answers[0].value[1]' must be a string, number, boolean or list of those."),
    ({"survey_id": SURVEY_ID, "answers": [{"question_id": "q1", "value": 1}, {"question_id": "q1", "value": 2}]},
     "field 'answers' has more than one answer to question 'q1'."),
    ({"survey_id": SURVEY_ID, "answers": [{"question_id": "q1", "value": 1}], "completed": "yes"},
     "field 'completed' must be true or false."),
])
def test_survey_response_errors(fields: dict[str, Any], message: str) -> None:
    assert error({"type": "survey_response", **fields}) == "Invalid request body: " + message


def test_replay() -> None:
    events = [{"type": 4, "timestamp": 1778349600000, "data": {"href": "https://acme.com/"}},
              {"type": "custom", "timestamp": 1778349600001.5, "data": {"deep": [[[[[[[[[[[[1]]]]]]]]]]]]}}]
    item = one(shaped("replay", {"events": events, "seq": 0, "is_complete": True}, session_id="s_1",
                      visitor_id="v_1"))
    assert item.session_id == "s_1"
    assert item.data == ReplayData("s_1", events, 0, True)  # recording falls back to the session
    assert one({"type": "replay", "recording_id": 77, "session_id": "s", "events": events}).data.recording_id == "77"
    # Neither: the writer attaches the chunk to the visitor's current session.
    assert one({"type": "replay", "events": events}).data.recording_id is None


@pytest.mark.parametrize(("fields", "message"), [
    ({"recording_id": "r"}, "missing required field 'events'."),
    ({"recording_id": "r", "events": {}}, "field 'events' must be a list."),
    ({"recording_id": "r", "events": []}, "field 'events' must be a list of 1 to 1000 events."),
    ({"recording_id": "r", "events": [{"type": 2, "timestamp": 1}] * 1001},
     "field 'events' must be a list of 1 to 1000 events."),
    ({"recording_id": "r", "events": [{"type": 2, "timestamp": 1}, 5]}, "field 'events[1]' must be an object."),
    ({"recording_id": "r", "events": [{"type": 2}]}, "missing required field 'events[0].timestamp'."),
    ({"recording_id": "r", "events": [{"type": 2, "timestamp": "now"}]},
     "field 'events[0].timestamp' must be a number."),
    ({"recording_id": "r", "events": [{"timestamp": 1}]}, "missing required field 'events[0].type'."),
    ({"recording_id": "r", "events": [{"timestamp": 1, "type": [1]}]},
     "field 'events[0].type' must be a number or string."),
    ({"recording_id": "r", "events": [{"type": 2, "timestamp": 1}], "seq": -1},
     "field 'seq' must be between 0 and 2147483647."),
])
def test_replay_errors(fields: dict[str, Any], message: str) -> None:
    assert error({"type": "replay", **fields}) == "Invalid request body: " + message


# --------------------------------------------------------------------------------------------
# Type and body errors


def test_unknown_and_missing_type() -> None:
    assert error({"type": "foo"}) == (
        "Invalid request body: unknown payload type 'foo'. Valid types: pageview, screen, event, engagement, "
        "identify, web_vital, scroll_depth, search_query, outlink, js_error, log, replay, click_event, "
        "survey_response.")
    assert error({"type": "x" * 100}).startswith("Invalid request body: unknown payload type '" + "x" * 40 + "...'.")
    assert error({"path": "/"}) == "Invalid request body: missing required field 'type'."
    assert error({"type": None, "path": "/"}) == "Invalid request body: missing required field 'type'."
    assert error({"type": 1}) == "Invalid request body: field 'type' must be a string."
    assert error({"type": "search"}).startswith("Invalid request body: unknown payload type 'search'.")


@pytest.mark.parametrize(("body", "message"), [
    (b"", "Invalid request body: the body is empty; expected a JSON object or array."),
    (b"  \n", "Invalid request body: the body is empty; expected a JSON object or array."),
    (b"{", "Invalid request body: malformed JSON: input data was truncated."),
    (b'{"type": "pageview",}', "Invalid request body: malformed JSON: trailing comma in object (byte 20)."),
    (b'{"a": 1}x', "Invalid request body: malformed JSON: trailing characters (byte 9)."),
    (b"{'type': 'pageview'}", "Invalid request body: malformed JSON: object keys must be strings (byte 1)."),
    (b'"pageview"', "Invalid request body: expected a JSON object or array."),
    (b"42", "Invalid request body: expected a JSON object or array."),
    (b"null", "Invalid request body: expected a JSON object or array."),
    (b'"\xff"', "Invalid request body: the body is not valid UTF-8."),
    (b"[" * 100_000 + b"]" * 100_000, "Invalid request body: JSON is nested too deeply."),
    (b"[]", "Invalid request body: the batch is empty."),
    (b'{"batch": []}', "Invalid request body: the batch is empty."),
    (b'{"batch": {"type": "pageview"}}', "Invalid request body: field 'batch' must be a list."),
    (b'{"type": "pageview", "batch": []}',
     "Invalid request body: send either one payload with 'type' or a 'batch', not both."),
])
def test_body_errors(body: bytes, message: str) -> None:
    assert error(body) == message


def test_single_payload_error_is_bad_request() -> None:
    with pytest.raises(BadRequest) as info:
        parse_collect(enc({"type": "scroll_depth", "max_depth": 500}), now=NOW)
    assert info.value.status == 400
    assert info.value.message == "Invalid request body: field 'max_depth' must be between 0 and 100."


# --------------------------------------------------------------------------------------------
# Batches

BATCH = [
    {"type": "pageview", "path": "/a"},
    {"type": "scroll_depth", "max_depth": 500},
    shaped("event", {"name": "signup"}, visitor_id="v1"),
    "not an object",
    {"type": "nope"},
    {"type": "web_vital", "name": "LCP", "value": 1},
]


def check_mixed(items: list[Item | ItemError]) -> None:
    assert [type(i).__name__ for i in items] == ["Item", "ItemError", "Item", "ItemError", "ItemError", "Item"]
    assert items[1] == ItemError(1, "Invalid request body: field 'max_depth' must be between 0 and 100.")
    assert items[3] == ItemError(3, "Invalid request body: expected a JSON object.")
    assert items[4].index == 4 and "unknown payload type 'nope'" in items[4].error
    assert items[0].path == "/a"
    assert (items[2].visitor_id, items[2].data) == ("v1", EventData("signup", {}))
    assert items[5].data.rating == "good"


def test_batch_array_form() -> None:
    parsed = parse_collect(enc(BATCH), now=NOW)
    assert parsed.batch is True
    check_mixed(parsed.items)


def test_batch_wrapper_form_matches_array_form() -> None:
    wrapped = parse_collect(enc({"batch": BATCH, "sdk": "ignored"}), now=NOW)
    assert wrapped.batch is True
    check_mixed(wrapped.items)
    assert wrapped == parse_collect(enc(BATCH), now=NOW)


def test_batch_of_one_is_still_a_batch() -> None:
    parsed = parse_collect(enc([{"type": "scroll_depth", "max_depth": 500}]), now=NOW)
    assert parsed.batch is True
    assert parsed.items == [ItemError(0, "Invalid request body: field 'max_depth' must be between 0 and 100.")]


def test_batch_size_limit() -> None:
    item = {"type": "pageview", "path": "/"}
    assert len(parse_collect(enc([item] * MAX_BATCH_ITEMS), now=NOW).items) == MAX_BATCH_ITEMS
    for body in (enc([item] * (MAX_BATCH_ITEMS + 1)), enc({"batch": [item] * (MAX_BATCH_ITEMS + 1)})):
        with pytest.raises(PayloadTooLarge) as info:
            parse_collect(body, now=NOW)
        assert info.value.status == 413
        assert info.value.message == "Batch too large: at most 500 items per request."


def test_body_size_limit() -> None:
    doc = enc({"type": "pageview", "path": "/"})
    at_limit = doc + b" " * (MAX_BODY_BYTES - len(doc))
    assert len(at_limit) == MAX_BODY_BYTES
    assert parse_collect(at_limit, now=NOW).items[0].path == "/"
    with pytest.raises(PayloadTooLarge) as info:
        parse_collect(at_limit + b" ", now=NOW)
    assert info.value.status == 413
    assert info.value.message == "Request body exceeds 1048576 bytes."


# --------------------------------------------------------------------------------------------
# Timestamps


def ts_of(value: Any) -> datetime:
    return one({"type": "pageview", "path": "/", "timestamp": value}).ts


def ts_error(value: Any) -> str:
    return error({"type": "pageview", "path": "/", "timestamp": value})


def epoch_ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


def test_timestamp_absent_is_now() -> None:
    assert ts_of(None) == NOW
    assert one({"type": "pageview", "path": "/"}, now=datetime(2026, 5, 9, 18, 0)).ts == NOW  # naive `now` is UTC


def test_timestamp_iso_forms() -> None:
    assert ts_of("2026-05-09T17:00:00Z") == datetime(2026, 5, 9, 17, 0, tzinfo=UTC)
    assert ts_of("2026-05-09T17:00:00.250+00:00") == datetime(2026, 5, 9, 17, 0, 0, 250_000, tzinfo=UTC)
    assert ts_of("2026-05-09T17:00:00") == datetime(2026, 5, 9, 17, 0, tzinfo=UTC)  # naive = UTC
    converted = ts_of("2026-05-09T19:30:00+02:00")
    assert converted == datetime(2026, 5, 9, 17, 30, tzinfo=UTC) and converted.tzinfo is UTC
    assert ts_of("2026-05-09") == datetime(2026, 5, 9, tzinfo=UTC)


def test_timestamp_epoch_ms() -> None:
    past = NOW - timedelta(hours=1, milliseconds=-250)
    assert ts_of(epoch_ms(past)) == past
    assert ts_of(float(epoch_ms(past))) == past
    assert ts_of(epoch_ms(NOW + timedelta(minutes=4))) == NOW


def test_timestamp_future_clamped_within_skew() -> None:
    assert ts_of((NOW + timedelta(minutes=5)).isoformat()) == NOW
    assert ts_of((NOW + timedelta(seconds=1)).isoformat()) == NOW
    ahead = (NOW + timedelta(minutes=5, seconds=1))
    for value in (ahead.isoformat(), epoch_ms(ahead), "9999-12-31T23:59:59+00:00", 10**30):
        assert ts_error(value) == "Invalid request body: field 'timestamp' is more than 5 minutes in the future."


def test_timestamp_too_old() -> None:
    assert ts_of((NOW - timedelta(days=90)).isoformat()) == NOW - timedelta(days=90)
    too_old = NOW - timedelta(days=90, seconds=1)
    for value in (too_old.isoformat(), epoch_ms(too_old), epoch_ms(NOW) // 1000, "0001-01-01T00:00:00", -(10**30)):
        message = ts_error(value)
        assert message == "Invalid request body: field 'timestamp' is older than 90 days."
        assert "'timestamp' is older than 90 days" in message


def test_timestamp_invalid() -> None:
    for value in ("yesterday", "2026-13-01T00:00:00Z", "", True, {"ms": 1}, "2" * 100,
                  "0001-01-01T00:00:00+05:00"):
        assert ts_error(value) == (
            "Invalid request body: field 'timestamp' must be an ISO-8601 datetime or epoch milliseconds.")


def test_now_in_another_zone() -> None:
    now = NOW.astimezone(timezone(timedelta(hours=-7)))
    item = one({"type": "pageview", "path": "/"}, now=now)
    assert item.ts == NOW and item.ts.tzinfo is UTC


# --------------------------------------------------------------------------------------------
# Consent, ids, caps, NUL


@pytest.mark.parametrize(("value", "expected"), [
    (True, True), (False, False), ("true", True), ("false", False), ("TRUE", True), (" False ", False),
    ("", None), (None, None),
])
def test_consent_granted_coercion(value: Any, expected: bool | None) -> None:
    item = one({"type": "pageview", "path": "/", "consent_granted": value, "consent_mode": "analytics"})
    assert item.consent_granted is expected
    assert item.consent_mode == "analytics"


@pytest.mark.parametrize("value", ["yes", "1", 1, 0, [], {}])
def test_consent_granted_invalid(value: Any) -> None:
    assert error({"type": "pageview", "path": "/", "consent_granted": value}) == (
        "Invalid request body: field 'consent_granted' must be true or false.")


def test_consent_mode_cap() -> None:
    assert error({"type": "pageview", "path": "/", "consent_mode": "m" * 51}) == (
        "Invalid request body: field 'consent_mode' must be at most 50 characters.")


def test_ids() -> None:
    item = one({"type": "pageview", "path": "/", "visitor_id": 12345, "user_id": "", "session_id": "s" * 200})
    assert (item.visitor_id, item.user_id, item.session_id) == ("12345", None, "s" * 200)
    assert error({"type": "pageview", "path": "/", "visitor_id": "v" * 201}) == (
        "Invalid request body: field 'visitor_id' must be at most 200 characters.")
    assert error({"type": "pageview", "path": "/", "user_id": True}) == (
        "Invalid request body: field 'user_id' must be a string.")
    assert error({"type": "pageview", "path": "/", "session_id": 1.5}) == (
        "Invalid request body: field 'session_id' must be a string.")


@pytest.mark.parametrize(("field", "cap"), [
    ("url", 2048), ("referrer", 2048), ("path", 1024), ("title", 512), ("hostname", 253), ("screen", 50),
    ("language", 64), ("utm_source", 500), ("utm_term", 500),
])
def test_common_string_caps(field: str, cap: int) -> None:
    prefix = {"url": "https://acme.com/?q=", "path": "/"}.get(field, "")
    ok = prefix + "a" * (cap - len(prefix))
    assert one({"type": "pageview", "path": "/", field: ok})
    assert error({"type": "pageview", "path": "/", field: ok + "a"}) == (
        f"Invalid request body: field '{field}' must be at most {cap} characters.")
    assert error({"type": "pageview", "path": "/", field: 7}) == (
        f"Invalid request body: field '{field}' must be a string.")


def test_empty_optional_strings_are_absent() -> None:
    item = one({"type": "event", "name": "x", "referrer": "", "title": "", "path": "", "url": "", "language": ""})
    assert (item.referrer, item.title, item.path, item.url, item.language) == (None, None, None, None, None)


def test_nul_characters_rejected_with_field_path() -> None:
    assert error(b'{"type": "pageview", "title": "a\\u0000b"}') == (
        "Invalid request body: field 'title' must not contain NUL characters (\\u0000).")
    assert error(b'{"type": "event", "payload": {"name": "x", "data": {"k": ["ok", "\\u0000"]}}}') == (
        "Invalid request body: field 'payload.data.k[1]' must not contain NUL characters (\\u0000).")
    assert error(b'{"type": "event", "name": "x", "data": {"\\u0000": 1}}') == (
        "Invalid request body: field 'data.\x00' must not contain NUL characters (\\u0000).")
    # An escaped backslash followed by "u0000" is six ordinary characters.
    assert one(msgspec.json.decode(b'{"type": "pageview", "path": "/", "title": "a\\\\u0000b"}')).title == "a\\u0000b"


def test_nul_search_survives_deep_nesting() -> None:
    body = b'{"type": "replay", "recording_id": "r", "events": [{"type": 2, "timestamp": 1, "data": '
    body += b"[" * 900 + b'"\\u0000"' + b"]" * 900 + b"}]}"
    message = error(body)
    assert message.startswith("Invalid request body: field 'events[0].data[0][0]")
    assert message.endswith("[0]' must not contain NUL characters (\\u0000).")
    # The same with the backslash escaped: no NUL, but nested deeper than a replay may be.
    escaped = body.replace(b"\\u0000", b"\\\\u0000")
    assert error(escaped) == "Invalid request body: field 'events' must be nested at most 256 levels deep."
    shallow = escaped.replace(b"[" * 900, b"[" * 254).replace(b"]" * 900, b"]" * 254)
    assert parse_collect(shallow, now=NOW).items[0].data.recording_id == "r"


def test_freeform_depth_check_survives_deep_nesting() -> None:
    body = b'{"type": "event", "name": "x", "data": {"k": ' + b"[" * 900 + b"]" * 900 + b"}}"
    assert error(body) == "Invalid request body: field 'data' must be nested at most 10 levels deep."


def test_nul_in_one_batch_item_only_fails_that_item() -> None:
    body = b'[{"type": "pageview", "path": "/ok"}, {"type": "pageview", "title": "\\u0000"}]'
    items = parse_collect(body, now=NOW).items
    assert isinstance(items[0], Item)
    assert items[1] == ItemError(1, "Invalid request body: field 'title' must not contain NUL characters (\\u0000).")


# --------------------------------------------------------------------------------------------
# Modules and serialization


def test_payload_modules() -> None:
    assert set(payload_modules()) == set(payload_types())
    assert len(payload_types()) == 14
    assert set(payload_modules().values()) <= set(MODULES)
    assert payload_modules()["event"] == "core" and payload_modules()["replay"] == "session_replay"
    assert one({"type": "click_event", "x": 1, "y": 1}).module == "heatmaps"


@pytest.mark.parametrize(("type_", "fields", "data"), CASES, ids=[c[0] for c in CASES])
def test_items_round_trip_through_msgpack(type_: str, fields: dict[str, Any], data: Any) -> None:
    item = one({"type": type_, "visitor_id": "v", "consent_granted": "true", "utm_source": "g", **fields})
    decoded = msgspec.msgpack.Decoder(Item).decode(msgspec.msgpack.encode(item))
    assert decoded == item
