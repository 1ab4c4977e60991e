"""Parse and validate the body of `POST /api/collect`.

`parse_collect(body, now=...)` turns the raw request bytes into a `Parsed`: one `Item` per
payload, normalized and checked, or an `ItemError` for a batch item that failed. Nothing here
touches the database, Redis or the project's module settings; `PAYLOAD_MODULES` tells the
caller which module each payload type needs.

Body forms
    {...}                one payload; any problem raises `BadRequest` (nothing is stored)
    [{...}, ...]         a batch; every item is checked on its own
    {"batch": [...]}     the same batch; other keys of the wrapper are ignored
A batch holds 1..MAX_BATCH_ITEMS items; more raises `PayloadTooLarge`, none raises `BadRequest`.
A body longer than MAX_BODY_BYTES raises `PayloadTooLarge` (the endpoint should also refuse a
larger Content-Length before reading the body).

Payload shapes -- both are accepted for every type:
    flat:    {"type": "pageview", "path": "/pricing", ...}
    shaped:  {"type": "js_error", "visitor_id": "v_1", "payload": {"message": ..., ...}}
In the shaped form the fields of `payload` are merged over the top-level ones (payload wins).
`type` is read from the top level, and only from `payload` when the top level has none, so a
`type` key inside `payload` cannot re-type the payload. Unknown fields are ignored.

Common fields (any type, either level): visitor_id, user_id, session_id, timestamp, url,
hostname, path, referrer, title, screen (a screen size such as "1920x1080"), language,
utm_source/medium/campaign/content/term, consent_mode, consent_granted.
  * Ids (visitor_id, user_id, session_id, account_id, recording_id) may be strings or integers;
    integers are turned into strings. An empty optional string counts as absent.
  * `hostname` is the explicit one (lowercased), else the host of `url`, else None. `path` is
    the explicit one (kept verbatim, query string and all), else the path of `url` (still
    percent-encoded, no query or fragment; "/" when the URL has a host but no path). `url` may
    be relative ("/pricing?x=1"); any scheme is accepted.
  * `timestamp`: an ISO-8601 string (naive means UTC) or epoch milliseconds (a JSON number).
    Up to MAX_FUTURE_SKEW ahead of `now` is clamped to `now`; further ahead, or older than
    MAX_AGE, is an error. Absent means `now`.
  * `consent_granted`: true/false, or the strings "true"/"false" (any case), as the script's
    data attribute sends them.
  * `user_agent`: the end user's browser or app user agent, forwarded by a server or mobile
    SDK; when present it is the one parsed and bot-checked instead of the request's header.

String limits are counted in characters; a longer value is rejected, never truncated:
ids 200, url/referrer/filename 2048, path/element_selector 1024, title 512, hostname 253,
names (event, screen, error type, release, environment, question ids) 200, utm values 500,
language 64, screen/consent_mode/navigation_type 50, query 500, messages 4000, stack 16000,
user_agent 512.
Values that become part of an index key are also bounded in UTF-8 bytes (pulse.limits): ids
(visitor, user, session, account, recording) MAX_ID_BYTES, paths MAX_KEY_BYTES (names are
capped at 200 characters; UTM values are cut in bytes at enrichment); over it is rejected
like a long value ("... at most N bytes in UTF-8"). A
hostname taken from `url` is lowercased and cut to 253 characters rather than rejected.
Free-form objects (event `data`, identify `traits`/`account_traits`, log `body`) must be JSON
objects of at most MAX_FREEFORM_BYTES once serialized, MAX_FREEFORM_DEPTH levels deep and
MAX_FREEFORM_KEYS keys in all; replay events may nest MAX_REPLAY_DEPTH levels. An integer
anywhere in them must fit in 64 bits signed (MIN_INT..MAX_INT). No string anywhere may contain
NUL (\\u0000): PostgreSQL cannot store it.

Per type (`Item.data`):
  pageview         None (common fields only).
  screen           ScreenData. Required `name`. A mobile screen view is stored as a pageview of
                   the screen name: `path` becomes the name verbatim ("Home" stays "Home", so a
                   screen never collides with a web path such as "/Home"), `title` is the
                   explicit title or else the name.
  event            EventData. Required `name`; `data` object; `revenue_amount` a number
                   0..MAX_REVENUE kept as a Decimal; `revenue_currency` three letters,
                   uppercased, defaulting to "USD" when an amount is given. A currency without
                   an amount is ignored (both are None).
  identify         IdentifyData. All optional (anonymous trait-only identifies are valid):
                   `user_id` (common field), `traits` object, and the account the visitor
                   belongs to, either flat as `account_id` / `account_traits` / `account_role`
                   or as one object `account: {"id", "traits", "role"}` -- not both.
  web_vital        WebVitalData. `name` one of LCP, FCP, CLS, INP, TTFB (any case, stored
                   uppercase); `value` a number >= 0; `rating` good / needs-improvement / poor,
                   computed from the web.dev thresholds when absent; `navigation_type`, `id`.
  scroll_depth     ScrollDepthData. `max_depth` a number 0..100, stored rounded to an int.
  search_query     SearchQueryData. `query` 1..500 characters after trimming;
                   `results_count` an integer >= 0.
  outlink          OutlinkData. Here `url` is the link's target (http or https, required) and
                   `domain` its host; the page the link sat on is `page_url` (-> Item.url)
                   and/or `path`. `link_type` external (default; "outbound" means external)
                   or download.
  js_error         JsErrorData. Required `message`; `error_type` (or `name`, as in JS
                   Error.name), `stack`, `filename`, `lineno`/`colno` integers >= 0,
                   `release`, `environment`.
  log              LogData. `level` debug/info/warn/error/fatal ("warning" -> "warn", any
                   case, default "info"); required `message`; `body` object (or `data`);
                   `release`, `environment`.
  click_event      ClickData. Required `x`, `y` numbers >= 0; `element_selector`,
                   `element_text` (at most 200 characters); `viewport_width`,
                   `viewport_height`, `page_width`, `page_height` integers >= 0.
  survey_response  SurveyResponseData. Required `survey_id` (a UUID, stored canonical);
                   `answers` 1..100 of {"question_id", "value"} with distinct question ids and
                   a value that is a string, number, boolean or list of those;
                   `completed` boolean, default false.
  replay           ReplayData. One chunk of recorder events for a recording. `events`: 1..1000
                   objects, each with a numeric `timestamp` (epoch ms) and a `type` (number or
                   string), otherwise free-form (DOM snapshots nest deeply: up to
                   MAX_REPLAY_DEPTH levels). `recording_id` names the recording (one per page
                   session); without it the recording is the session: the client's
                   `session_id` when sent, else (recording_id None here) the visitor's current
                   session, which the writer fills in. A chunk is activity: it joins and
                   extends the visitor's session like an engagement ping. `seq` is the chunk's sequence
                   number (integer >= 0, default 0) for ordering and de-duplication;
                   `is_complete` marks the last chunk.
  engagement       None (common fields only). The visitor is still on `path` at `timestamp`:
                   the tracking script sends one when a page is hidden (tab switched, closed),
                   so the time spent on a session's last page counts in its duration. It
                   extends the session and is stored nowhere else; it is not an event.

Every struct here is a msgspec Struct, so an Item can be handed to a queue and read back with
`msgspec.msgpack.Decoder(Item)` (the `data` structs are tagged by `kind`).
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Final
from urllib.parse import urlsplit

import msgspec

from pulse.errors import BadRequest, PayloadTooLarge
from pulse.limits import (
    MAX_BODY_BYTES,
    MAX_FREEFORM_BYTES,
    MAX_FREEFORM_DEPTH,
    MAX_FREEFORM_KEYS,
    MAX_HOSTNAME,
    MAX_ID_BYTES,
    MAX_INT,
    MAX_KEY_BYTES,
    MAX_REPLAY_DEPTH,
    MIN_INT,
    utf8_len,
)

__all__ = [
    "MAX_AGE", "MAX_BATCH_ITEMS", "MAX_BODY_BYTES", "MAX_FREEFORM_BYTES", "MAX_FREEFORM_DEPTH",
    "MAX_FUTURE_SKEW", "PAYLOAD_MODULES", "PAYLOAD_TYPES", "ClickData", "EventData", "IdentifyData",
    "Item", "ItemError", "JsErrorData", "LogData", "OutlinkData", "Parsed", "ReplayData",
    "ScreenData", "ScrollDepthData", "SearchQueryData", "SurveyAnswer", "SurveyResponseData",
    "WebVitalData", "parse_collect",
]

MAX_BATCH_ITEMS: Final = 500
MAX_FUTURE_SKEW: Final = timedelta(minutes=5)
MAX_AGE: Final = timedelta(days=90)
MAX_REVENUE: Final = 1_000_000_000_000
MAX_REPLAY_EVENTS: Final = 1000
MAX_SURVEY_ANSWERS: Final = 100
_INT32: Final = 2_147_483_647
_SAFE_INT: Final = 9_007_199_254_740_991  # 2**53 - 1, the largest integer a JS number holds exactly

#: The module that must be enabled (and allowed for the key) to ingest each payload type.
#: An event carrying revenue is still `core`; the `revenue` module gates revenue reports only.
PAYLOAD_MODULES: Final[dict[str, str]] = {
    "pageview": "core",
    "screen": "core",
    "event": "core",
    "identify": "identity",
    "web_vital": "webvitals",
    "scroll_depth": "scroll",
    "search_query": "search",
    "outlink": "outlinks",
    "js_error": "error_tracking",
    "log": "logs",
    "click_event": "heatmaps",
    "survey_response": "surveys",
    "replay": "session_replay",
    "engagement": "core",
}
PAYLOAD_TYPES: Final = tuple(PAYLOAD_MODULES)

_PREFIX = "Invalid request body: "


# --------------------------------------------------------------------------------------------
# Output structs


class ScreenData(msgspec.Struct, tag="screen", tag_field="kind", gc=False):
    name: str


class EventData(msgspec.Struct, tag="event", tag_field="kind"):
    name: str
    data: dict[str, Any]
    revenue_amount: Decimal | None = None
    revenue_currency: str | None = None


class IdentifyData(msgspec.Struct, tag="identify", tag_field="kind"):
    traits: dict[str, Any]
    account_id: str | None = None
    account_traits: dict[str, Any] = {}
    account_role: str | None = None


class WebVitalData(msgspec.Struct, tag="web_vital", tag_field="kind", gc=False):
    name: str
    value: float
    rating: str
    navigation_type: str | None = None
    id: str | None = None


class ScrollDepthData(msgspec.Struct, tag="scroll_depth", tag_field="kind", gc=False):
    max_depth: int


class SearchQueryData(msgspec.Struct, tag="search_query", tag_field="kind", gc=False):
    query: str
    results_count: int | None = None


class OutlinkData(msgspec.Struct, tag="outlink", tag_field="kind", gc=False):
    url: str
    domain: str
    link_type: str


class JsErrorData(msgspec.Struct, tag="js_error", tag_field="kind", gc=False):
    message: str
    error_type: str | None = None
    stack: str | None = None
    filename: str | None = None
    lineno: int | None = None
    colno: int | None = None
    release: str | None = None
    environment: str | None = None


class LogData(msgspec.Struct, tag="log", tag_field="kind"):
    level: str
    message: str
    body: dict[str, Any]
    release: str | None = None
    environment: str | None = None


class ClickData(msgspec.Struct, tag="click_event", tag_field="kind", gc=False):
    x: float
    y: float
    element_selector: str | None = None
    element_text: str | None = None
    viewport_width: int | None = None
    viewport_height: int | None = None
    page_width: int | None = None
    page_height: int | None = None


AnswerScalar = str | int | float | bool


class SurveyAnswer(msgspec.Struct):
    question_id: str
    value: AnswerScalar | list[AnswerScalar]


class SurveyResponseData(msgspec.Struct, tag="survey_response", tag_field="kind"):
    survey_id: str
    answers: list[SurveyAnswer]
    completed: bool = False


class ReplayData(msgspec.Struct, tag="replay", tag_field="kind"):
    recording_id: str | None  # None: the visitor's current session (filled in by the writer)
    events: list[dict[str, Any]]
    seq: int = 0
    is_complete: bool = False


ItemData = (ScreenData | EventData | IdentifyData | WebVitalData | ScrollDepthData | SearchQueryData
            | OutlinkData | JsErrorData | LogData | ClickData | SurveyResponseData | ReplayData)


class Item(msgspec.Struct):
    """One validated, normalized payload. See the module docstring for the rules.

    Built positionally in the hot path (5x cheaper than keywords), so keep the field order.
    """

    type: str
    ts: datetime
    visitor_id: str | None = None
    user_id: str | None = None
    session_id: str | None = None
    url: str | None = None
    hostname: str | None = None
    path: str | None = None
    referrer: str | None = None
    title: str | None = None
    screen: str | None = None
    language: str | None = None
    utm: dict[str, str] = {}
    consent_mode: str | None = None
    consent_granted: bool | None = None
    data: ItemData | None = None
    user_agent: str | None = None

    @property
    def module(self) -> str:
        return PAYLOAD_MODULES[self.type]


class ItemError(msgspec.Struct, gc=False):
    """A batch item that failed validation; `index` is its 0-based position in the batch."""

    index: int
    error: str


class Parsed(msgspec.Struct):
    batch: bool
    items: list[Item | ItemError]


# --------------------------------------------------------------------------------------------
# Field helpers. Each raises _Invalid with the message minus the "Invalid request body: " prefix.


class _Invalid(Exception):
    pass


def _must(key: str, what: str) -> _Invalid:
    return _Invalid(f"field '{key}' must be {what}.")


def _missing(key: str) -> _Invalid:
    return _Invalid(f"missing required field '{key}'.")


def _str(v: Any, key: str, cap: int) -> str | None:
    """A present optional string: checked type and length; "" counts as absent."""
    if type(v) is not str:
        raise _must(key, "a string")
    if len(v) > cap:
        raise _must(key, f"at most {cap} characters")
    return v or None


def _id(v: Any, key: str) -> str | None:
    if type(v) is int:
        v = str(v)
    elif type(v) is not str:
        raise _must(key, "a string")
    if len(v) > 200:
        raise _must(key, "at most 200 characters")
    if len(v) > MAX_ID_BYTES // 4 and utf8_len(v) > MAX_ID_BYTES:
        raise _must(key, f"at most {MAX_ID_BYTES} bytes in UTF-8")
    return v or None


def _key_bytes(v: str, key: str) -> None:
    """An indexed value's bound in bytes (its characters are checked by the caller)."""
    if len(v) > MAX_KEY_BYTES // 4 and utf8_len(v) > MAX_KEY_BYTES:
        raise _must(key, f"at most {MAX_KEY_BYTES} bytes in UTF-8")


def _req_str(d: dict[str, Any], key: str, cap: int, *, strip: bool = True) -> str:
    v = d.get(key)
    if v is None:
        raise _missing(key)
    if type(v) is not str:
        raise _must(key, "a string")
    if strip:
        v = v.strip()
    if not v:
        raise _must(key, "a non-empty string")
    if len(v) > cap:
        raise _must(key, f"at most {cap} characters")
    return v


def _opt_str(d: dict[str, Any], key: str, cap: int) -> str | None:
    v = d.get(key)
    return None if v is None else _str(v, key, cap)


def _number(v: Any, key: str, lo: float, hi: float) -> int | float:
    t = type(v)
    if t is not float and t is not int:
        raise _must(key, "a number")
    if not lo <= v <= hi:
        raise _must(key, f"between {lo} and {hi}")
    return v


def _int(v: Any, key: str, lo: int = 0, hi: int = _INT32) -> int:
    """An integer; a float with no fractional part (1440.0) is accepted too."""
    t = type(v)
    if t is float and v.is_integer():
        v = int(v)
    elif t is not int:
        raise _must(key, "an integer")
    if not lo <= v <= hi:
        raise _must(key, f"between {lo} and {hi}")
    return v


def _opt_int(d: dict[str, Any], key: str) -> int | None:
    v = d.get(key)
    return None if v is None else _int(v, key)


def _bool(d: dict[str, Any], key: str, default: bool) -> bool:
    v = d.get(key)
    if v is None:
        return default
    if v is True or v is False:
        return v
    raise _must(key, "true or false")


_encode = msgspec.json.encode


def _freeform(v: Any, key: str) -> dict[str, Any]:
    """A free-form JSON object: size, depth, keys and integers bounded."""
    if v is None:
        return {}
    if type(v) is not dict:
        raise _must(key, "an object")
    if not v:
        return v
    raw = _encode(v)
    if len(raw) > MAX_FREEFORM_BYTES:
        raise _must(key, f"at most {MAX_FREEFORM_BYTES} bytes as JSON")
    _bounded(v, raw, key, MAX_FREEFORM_DEPTH, MAX_FREEFORM_KEYS)
    return v


# Nineteen digits or more: the only integers that can fall outside 64 bits. Searched only when the
# text holds that many digits at all (a translate is far cheaper than the search).
_LONG_DIGITS = re.compile(rb"\d{19}")
_NON_DIGITS = bytes(b for b in range(256) if not 0x30 <= b <= 0x39)


def _bounded(v: Any, raw: bytes, key: str, depth: int, keys: int | None, *, top: int = 0) -> None:
    """Depth, key count and integer range of a JSON value, given its compact encoding `raw`.

    Walks the value only when `raw` says a bound may be passed: depth can't exceed the number
    of brackets, keys the number of '":' (every key ends so), and a big integer needs 19 digits.
    `top` is the level of `v` itself (-1 for a list whose items are the objects bounded).
    """
    deep = raw.count(b"{") + raw.count(b"[") > depth - top
    many = keys is not None and len(raw) > 4 * keys and raw.count(b'":') > keys  # a key takes 4+ bytes
    big = len(raw.translate(None, _NON_DIGITS)) >= 19 and _LONG_DIGITS.search(raw) is not None
    if not (deep or many or big):
        return
    seen = 0
    stack: list[tuple[Any, int]] = [(v, top)]
    while stack:
        x, level = stack.pop()
        t = type(x)
        if t is dict:
            children: Any = x.values()
            seen += len(x)
        elif t is list:
            children = x
        else:
            if t is int and not MIN_INT <= x <= MAX_INT:
                raise _must(key, f"holding integers between {MIN_INT} and {MAX_INT}")
            continue
        if level >= depth:
            raise _must(key, f"nested at most {depth} levels deep")
        if keys is not None and seen > keys:
            raise _must(key, f"an object of at most {keys} keys in all")
        stack.extend((c, level + 1) for c in children)


# A JSON-escaped NUL that is not itself an escaped backslash followed by "u0000".
_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def _find_nul(doc: Any) -> str | None:
    """The field path of the first string or key containing NUL, if any. Iterative: a body
    may nest almost a thousand levels deep."""
    stack: list[tuple[Any, str]] = [(doc, "")]
    while stack:
        v, where = stack.pop()
        t = type(v)
        if t is str:
            if "\x00" in v:
                return where
        elif t is dict:
            for k, x in reversed(v.items()):
                path = f"{where}.{k}" if where else k
                if "\x00" in k:
                    return path
                stack.append((x, path))
        elif t is list:
            stack.extend((x, f"{where}[{i}]") for i, x in reversed(list(enumerate(v))))
    return None


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _timestamp(v: Any, now: datetime) -> datetime:
    t = type(v)
    if t is str:
        if len(v) > 64:
            raise _must("timestamp", "an ISO-8601 datetime or epoch milliseconds")
        try:
            ts = datetime.fromisoformat(v)
            ts = ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)
        except (ValueError, OverflowError):
            raise _must("timestamp", "an ISO-8601 datetime or epoch milliseconds") from None
    elif t is int or t is float:
        # Range-check in milliseconds first: timedelta overflows long before a float does.
        now_ms = (now - _EPOCH) / _MS
        if v > now_ms + _SKEW_MS:
            raise _Invalid("field 'timestamp' is more than 5 minutes in the future.")
        if v < now_ms - _AGE_MS:
            raise _Invalid("field 'timestamp' is older than 90 days.")
        ts = _EPOCH + timedelta(milliseconds=v)
    else:
        raise _must("timestamp", "an ISO-8601 datetime or epoch milliseconds")
    if ts > now:
        if ts - now > MAX_FUTURE_SKEW:
            raise _Invalid("field 'timestamp' is more than 5 minutes in the future.")
        return now
    if now - ts > MAX_AGE:
        raise _Invalid("field 'timestamp' is older than 90 days.")
    return ts


_MS = timedelta(milliseconds=1)
_SKEW_MS = MAX_FUTURE_SKEW / _MS
_AGE_MS = MAX_AGE / _MS


def _split_url(url: str, key: str) -> tuple[str | None, str]:
    """(hostname, path) of a URL; the path is "/" when there is a host but no path."""
    try:
        parts = urlsplit(url)  # cached by the standard library
    except ValueError:
        raise _must(key, "a valid URL") from None
    netloc = parts.netloc
    if not netloc:
        return None, parts.path
    # What SplitResult.hostname does, at a fraction of the cost: drop userinfo and port.
    host = netloc.rpartition("@")[2]
    if host[:1] == "[":
        host = host[1:host.find("]")] if "]" in host else host[1:]
    else:
        host = host.partition(":")[0]
    return host.lower() or None, parts.path or "/"


# --------------------------------------------------------------------------------------------
# Type-specific parsers: (merged payload dict) -> data struct


def _event(d: dict[str, Any]) -> EventData:
    name = _req_str(d, "name", 200)
    data = _freeform(d.get("data"), "data")
    amount = d.get("revenue_amount")
    if amount is None:
        return EventData(name, data)
    amount = _number(amount, "revenue_amount", 0, MAX_REVENUE)
    cur = d.get("revenue_currency")
    if cur is None or cur == "":
        cur = "USD"
    elif type(cur) is not str or len(cur) != 3 or not cur.isascii() or not cur.isalpha():
        raise _must("revenue_currency", "a three-letter ISO 4217 currency code")
    # repr() is the shortest text that round-trips, i.e. what the client wrote: 49.99, not 49.99000000000000198
    return EventData(name, data, Decimal(repr(amount)), cur.upper())


def _identify(d: dict[str, Any]) -> IdentifyData:
    traits = _freeform(d.get("traits"), "traits")
    account = d.get("account")
    if account is None:
        acc_id = d.get("account_id")
        acc_traits = _freeform(d.get("account_traits"), "account_traits")
        role = _opt_str(d, "account_role", 200)
        prefix = "account_"
    else:
        if type(account) is not dict:
            raise _must("account", "an object")
        if any(k in d for k in ("account_id", "account_traits", "account_role")):
            raise _Invalid("send the account either as 'account' or as 'account_id'/'account_traits', not both.")
        acc_id = account.get("id")
        acc_traits = _freeform(account.get("traits"), "account.traits")
        role = account.get("role")
        role = None if role is None else _str(role, "account.role", 200)
        prefix = "account."
    acc_id = None if acc_id is None else _id(acc_id, prefix + "id")
    if acc_id is None and (acc_traits or role):
        raise _missing(prefix + "id")
    return IdentifyData(traits, acc_id, acc_traits, role)


_VITAL_THRESHOLDS: Final = {  # web.dev: good <= first, poor > second
    "LCP": (2500, 4000), "FCP": (1800, 3000), "CLS": (0.1, 0.25), "INP": (200, 500), "TTFB": (800, 1800),
}
_RATINGS: Final = {"good": "good", "needs-improvement": "needs-improvement", "needs_improvement": "needs-improvement",
                   "poor": "poor"}


def _web_vital(d: dict[str, Any]) -> WebVitalData:
    name = d.get("name")
    if name is None:
        raise _missing("name")
    if type(name) is not str or (name := name.upper()) not in _VITAL_THRESHOLDS:
        raise _must("name", "one of LCP, FCP, CLS, INP, TTFB")
    value = d.get("value")
    if value is None:
        raise _missing("value")
    value = float(_number(value, "value", 0, 1_000_000_000))
    rating = d.get("rating")
    if rating is None or rating == "":
        good, poor = _VITAL_THRESHOLDS[name]
        rating = "good" if value <= good else "needs-improvement" if value <= poor else "poor"
    elif type(rating) is not str or (rating := _RATINGS.get(rating.lower())) is None:
        raise _must("rating", "one of good, needs-improvement, poor")
    return WebVitalData(name, value, rating, _opt_str(d, "navigation_type", 50), _opt_str(d, "id", 200))


def _scroll_depth(d: dict[str, Any]) -> ScrollDepthData:
    v = d.get("max_depth")
    if v is None:
        raise _missing("max_depth")
    return ScrollDepthData(round(_number(v, "max_depth", 0, 100)))


def _search_query(d: dict[str, Any]) -> SearchQueryData:
    return SearchQueryData(_req_str(d, "query", 500), _opt_int(d, "results_count"))


_LINK_TYPES: Final = {"external": "external", "outbound": "external", "download": "download"}


def _outlink(d: dict[str, Any]) -> OutlinkData:
    url = _req_str(d, "url", 2048)
    host, _ = _split_url(url, "url")
    if not host or not url[:8].lower().startswith(("http://", "https://")):
        raise _must("url", "an absolute http or https URL")
    lt = d.get("link_type")
    if lt is None or lt == "":
        lt = "external"
    elif type(lt) is not str or (lt := _LINK_TYPES.get(lt.lower())) is None:
        raise _must("link_type", "one of external, download")
    return OutlinkData(url, host, lt)


def _js_error(d: dict[str, Any]) -> JsErrorData:
    message = _req_str(d, "message", 4000, strip=False)
    etype = _opt_str(d, "error_type", 200) if d.get("error_type") is not None else _opt_str(d, "name", 200)
    return JsErrorData(
        message, etype, _opt_str(d, "stack", 16000), _opt_str(d, "filename", 2048),
        _opt_int(d, "lineno"), _opt_int(d, "colno"),
        _opt_str(d, "release", 200), _opt_str(d, "environment", 200),
    )


_LEVELS: Final = {"debug": "debug", "info": "info", "warn": "warn", "warning": "warn", "error": "error",
                  "fatal": "fatal"}


def _log(d: dict[str, Any]) -> LogData:
    level = d.get("level")
    if level is None or level == "":
        level = "info"
    elif type(level) is not str or (level := _LEVELS.get(level.lower())) is None:
        raise _must("level", "one of debug, info, warn, warning, error, fatal")
    message = _req_str(d, "message", 4000, strip=False)
    body = _freeform(d["body"], "body") if d.get("body") is not None else _freeform(d.get("data"), "data")
    return LogData(level, message, body, _opt_str(d, "release", 200), _opt_str(d, "environment", 200))


def _click(d: dict[str, Any]) -> ClickData:
    x, y = d.get("x"), d.get("y")
    if x is None:
        raise _missing("x")
    if y is None:
        raise _missing("y")
    return ClickData(
        float(_number(x, "x", 0, _INT32)), float(_number(y, "y", 0, _INT32)),
        _opt_str(d, "element_selector", 1024), _opt_str(d, "element_text", 200),
        _opt_int(d, "viewport_width"), _opt_int(d, "viewport_height"),
        _opt_int(d, "page_width"), _opt_int(d, "page_height"),
    )


def _answer_scalar(v: Any, key: str) -> AnswerScalar:
    t = type(v)
    if t is str:
        if len(v) > 4000:
            raise _must(key, "at most 4000 characters")
        return v
    if t is bool or t is float:
        return v
    if t is int:
        if not -_SAFE_INT <= v <= _SAFE_INT:
            raise _must(key, f"between {-_SAFE_INT} and {_SAFE_INT}")
        return v
    raise _must(key, "a string, number, boolean or list of those")


def _survey_response(d: dict[str, Any]) -> SurveyResponseData:
    sid = _req_str(d, "survey_id", 4000)
    try:
        if len(sid) > 45:
            raise ValueError
        sid = str(uuid.UUID(sid))
    except ValueError:
        raise _must("survey_id", "a UUID") from None
    answers = d.get("answers")
    if answers is None:
        raise _missing("answers")
    if type(answers) is not list:
        raise _must("answers", "a list")
    if not 1 <= len(answers) <= MAX_SURVEY_ANSWERS:
        raise _must("answers", f"a list of 1 to {MAX_SURVEY_ANSWERS} answers")
    out: list[SurveyAnswer] = []
    seen: set[str] = set()
    for i, a in enumerate(answers):
        where = f"answers[{i}]"
        if type(a) is not dict:
            raise _must(where, "an object")
        qid = a.get("question_id")
        if qid is None or (qid := _id(qid, where + ".question_id")) is None:
            raise _missing(where + ".question_id")
        if qid in seen:
            raise _Invalid(f"field 'answers' has more than one answer to question '{qid}'.")
        seen.add(qid)
        value = a.get("value")
        if value is None:
            raise _missing(where + ".value")
        if type(value) is list:
            if len(value) > 100:
                raise _must(where + ".value", "a list of at most 100 items")
            value = [_answer_scalar(x, f"{where}.value[{j}]") for j, x in enumerate(value)]
        else:
            value = _answer_scalar(value, where + ".value")
        out.append(SurveyAnswer(qid, value))
    return SurveyResponseData(sid, out, _bool(d, "completed", False))


def _replay(d: dict[str, Any]) -> ReplayData:
    rid = d.get("recording_id")
    rid = None if rid is None else _id(rid, "recording_id")
    if rid is None:
        sid = d.get("session_id")
        rid = None if sid is None else _id(sid, "session_id")
    events = d.get("events")
    if events is None:
        raise _missing("events")
    if type(events) is not list:
        raise _must("events", "a list")
    if not 1 <= len(events) <= MAX_REPLAY_EVENTS:
        raise _must("events", f"a list of 1 to {MAX_REPLAY_EVENTS} events")
    for i, e in enumerate(events):
        if type(e) is not dict:
            raise _must(f"events[{i}]", "an object")
        ts = e.get("timestamp")
        if ts is None:
            raise _missing(f"events[{i}].timestamp")
        _number(ts, f"events[{i}].timestamp", 0, 10**15)
        et = e.get("type")
        if et is None:
            raise _missing(f"events[{i}].type")
        if type(et) not in (int, str):
            raise _must(f"events[{i}].type", "a number or string")
    _bounded(events, _encode(events), "events", MAX_REPLAY_DEPTH, None, top=-1)
    seq = d.get("seq")
    seq = 0 if seq is None else _int(seq, "seq")
    return ReplayData(rid, events, seq, _bool(d, "is_complete", False))


_PARSERS: Final = {
    "pageview": None, "screen": None, "event": _event, "identify": _identify, "web_vital": _web_vital,
    "scroll_depth": _scroll_depth, "search_query": _search_query, "outlink": _outlink, "js_error": _js_error,
    "log": _log, "click_event": _click, "survey_response": _survey_response, "replay": _replay,
    "engagement": None,
}
assert _PARSERS.keys() == PAYLOAD_MODULES.keys()

_UTM: Final = (("utm_source", "source"), ("utm_medium", "medium"), ("utm_campaign", "campaign"),
               ("utm_content", "content"), ("utm_term", "term"))
_UNKNOWN_TYPE_HINT: Final = "Valid types: " + ", ".join(PAYLOAD_TYPES) + "."


# --------------------------------------------------------------------------------------------
# One payload


def _parse_item(obj: Any, now: datetime, check_nul: bool) -> Item:
    if type(obj) is not dict:
        raise _Invalid("expected a JSON object.")
    typ = obj.get("type")
    p = obj.get("payload")
    if p is None:
        d = obj
    elif type(p) is not dict:
        raise _must("payload", "an object")
    else:
        if typ is None:
            typ = p.get("type")
        d = {**obj, **p}
    if typ is None:
        raise _missing("type")
    if type(typ) is not str:
        raise _must("type", "a string")
    if typ not in _PARSERS:
        shown = typ if len(typ) <= 40 else typ[:40] + "..."
        raise _Invalid(f"unknown payload type '{shown}'. {_UNKNOWN_TYPE_HINT}")
    if check_nul and (where := _find_nul(obj)) is not None:
        raise _Invalid(f"field '{where}' must not contain NUL characters (\\u0000).")

    # Common fields. Each is inlined as "absent, or a string within its cap" with the slow
    # helper called only to build the error: this block is most of a pageview's cost.
    get = d.get
    visitor_id = get("visitor_id")
    if visitor_id is not None:
        visitor_id = _id(visitor_id, "visitor_id")
    user_id = get("user_id")
    if user_id is not None:
        user_id = _id(user_id, "user_id")
    session_id = get("session_id")
    if session_id is not None:
        session_id = _id(session_id, "session_id")
    v = get("timestamp")
    ts = now if v is None else _timestamp(v, now)

    url_key = "page_url" if typ == "outlink" else "url"
    url = get(url_key)
    if url is not None and (type(url) is not str or len(url) > 2048):
        _str(url, url_key, 2048)
    hostname = get("hostname")
    if hostname is not None:
        if type(hostname) is not str or len(hostname) > 253:
            _str(hostname, "hostname", 253)
        hostname = hostname.lower() or None
    path = get("path")
    if path is not None:
        if type(path) is not str or len(path) > 1024:
            _str(path, "path", 1024)
        _key_bytes(path, "path")
    path = path or None
    if url:
        if hostname is None or path is None:
            url_host, url_path = _split_url(url, url_key)
            if hostname is None and url_host is not None:
                hostname = url_host[:MAX_HOSTNAME]
            if path is None and url_path:
                if len(url_path) > 1024:
                    raise _Invalid(f"field '{url_key}' has a path longer than 1024 characters.")
                if utf8_len(url_path) > MAX_KEY_BYTES:
                    raise _Invalid(f"field '{url_key}' has a path longer than {MAX_KEY_BYTES} bytes in UTF-8.")
                path = url_path
    else:
        url = None
    referrer = get("referrer")
    if referrer is not None and (type(referrer) is not str or len(referrer) > 2048):
        _str(referrer, "referrer", 2048)
    title = get("title")
    if title is not None and (type(title) is not str or len(title) > 512):
        _str(title, "title", 512)
    screen = get("screen")
    if screen is not None and (type(screen) is not str or len(screen) > 50):
        _str(screen, "screen", 50)
    language = get("language")
    if language is not None and (type(language) is not str or len(language) > 64):
        _str(language, "language", 64)
    user_agent = get("user_agent")
    if user_agent is not None and (type(user_agent) is not str or len(user_agent) > 512):
        _str(user_agent, "user_agent", 512)

    utm: dict[str, str] = {}
    for key, short in _UTM:
        v = get(key)
        if v is not None:
            if type(v) is not str or len(v) > 500:
                _str(v, key, 500)
            if v:
                utm[short] = v

    consent_mode = get("consent_mode")
    if consent_mode is not None and (type(consent_mode) is not str or len(consent_mode) > 50):
        _str(consent_mode, "consent_mode", 50)
    consent_granted = get("consent_granted")
    if consent_granted is not None and consent_granted is not True and consent_granted is not False:
        low = consent_granted.strip().lower() if type(consent_granted) is str else None
        if low == "true":
            consent_granted = True
        elif low == "false":
            consent_granted = False
        elif low == "":
            consent_granted = None
        else:
            raise _must("consent_granted", "true or false")

    parser = _PARSERS[typ]
    if parser is not None:
        data = parser(d)
    elif typ == "screen":
        name = _req_str(d, "name", 200)
        data = ScreenData(name)
        path = name
        if not title:
            title = name
    else:
        data = None

    return Item(typ, ts, visitor_id, user_id, session_id, url, hostname, path, referrer or None, title or None,
                screen or None, language or None, utm, consent_mode or None, consent_granted, data,
                user_agent or None)


# --------------------------------------------------------------------------------------------
# The body


_decode = msgspec.json.Decoder().decode


def parse_collect(body: bytes, *, now: datetime) -> Parsed:
    """Parse a collect request body; see the module docstring.

    Raises BadRequest for a body that can't be used at all (and for any problem with a single
    payload) and PayloadTooLarge for a body or batch over the limits. Batch items that fail
    come back as ItemError in their place, so `items` lines up with the batch.
    """
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"Request body too large: at most {MAX_BODY_BYTES} bytes (1 MiB) per request.")
    if not body or body.isspace():
        raise BadRequest(_PREFIX + "the body is empty; expected a JSON object or array.")
    try:
        doc = _decode(body)
    except UnicodeDecodeError:  # msgspec before 0.23
        raise BadRequest(_PREFIX + "the body is not valid UTF-8.") from None
    except msgspec.DecodeError as exc:
        detail = str(exc).removeprefix("JSON is malformed: ")
        if "utf-8" in detail.lower():  # msgspec 0.23 and later
            raise BadRequest(_PREFIX + "the body is not valid UTF-8.") from None
        raise BadRequest(f"{_PREFIX}malformed JSON: {detail[:1].lower()}{detail[1:]}.") from None
    except RecursionError:
        raise BadRequest(_PREFIX + "JSON is nested too deeply.") from None

    now = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    # Strings holding NUL are rare; look for them only when the body has the escape at all
    # (a plain substring test; the exact regex costs microseconds on every body).
    check_nul = b"\\u0000" in body and _NUL_ESCAPE.search(body) is not None

    if type(doc) is dict:
        if "batch" not in doc:
            try:
                return Parsed(False, [_parse_item(doc, now, check_nul)])
            except _Invalid as exc:
                raise BadRequest(_PREFIX + str(exc)) from None
        if "type" in doc:
            raise BadRequest(_PREFIX + "send either one payload with 'type' or a 'batch', not both.")
        doc = doc["batch"]
        if type(doc) is not list:
            raise BadRequest(_PREFIX + "field 'batch' must be a list.")
    elif type(doc) is not list:
        raise BadRequest(_PREFIX + "expected a JSON object or array.")

    if not doc:
        raise BadRequest(_PREFIX + "the batch is empty.")
    if len(doc) > MAX_BATCH_ITEMS:
        raise PayloadTooLarge(f"Batch too large: at most {MAX_BATCH_ITEMS} items per request.")
    items: list[Item | ItemError] = []
    append = items.append
    for index, obj in enumerate(doc):
        try:
            append(_parse_item(obj, now, check_nul))
        except _Invalid as exc:
            append(ItemError(index, _PREFIX + str(exc)))
    return Parsed(True, items)

