"""Parse and validate the body of `POST /api/collect`.

`parse_collect(body, now=...)` turns the raw request bytes into a `Parsed`: one `Item` per
payload, normalized and checked, or an `ItemError` for a batch item that failed. Nothing here
touches the database, Redis or the project's module settings; `payload_modules()` tells the
caller which module each payload type needs.

Body forms
    {...}                one payload; any problem raises `BadRequest` (nothing is stored)
    [{...}, ...]         a batch; every item is checked on its own
    {"batch": [...]}     the same batch; other keys of the wrapper are ignored
A batch holds 1..MAX_BATCH_ITEMS items; more raises `PayloadTooLarge`, none raises `BadRequest`.
A body longer than MAX_BODY_BYTES raises `PayloadTooLarge`. Over HTTP no such body gets here:
pulse.web.bodylimit.BodyLimit, around every route, refuses it (413, its own message) before it
is read, so this guard is for the callers that hand bytes in directly.

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
  * A type stored as a pageview (core's pageview; a screen takes its name as path) must end up
    with a path: neither `path` nor `url` is "missing required field 'path' or 'url'.", a `url`
    without a path ("?x=1") "field 'url' must be a URL with a path.".
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

Per type (`Item.data`): the type's struct, parsed by the module that owns the type
(pulse.modules.module.Payload; each module's payloads.py documents its types), or None for a type
with only the common fields (core's pageview and engagement). The installed modules' payload
types are looked up on first use (pulse.modules.installed.payloads), never at import time.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import msgspec

from pulse.errors import BadRequest, BodyTooLarge, PayloadTooLarge
from pulse.ingest import records
from pulse.ingest.fields import Invalid, ident, key_bytes, missing, must, split_url, string
from pulse.limits import (
    MAX_BODY_BYTES,
    MAX_FREEFORM_BYTES,
    MAX_FREEFORM_DEPTH,
    MAX_HOSTNAME,
    MAX_KEY_BYTES,
    utf8_len,
)
from pulse.modules.installed import payloads

__all__ = [
    "MAX_AGE", "MAX_BATCH_ITEMS", "MAX_BODY_BYTES", "MAX_FREEFORM_BYTES", "MAX_FREEFORM_DEPTH",
    "MAX_FUTURE_SKEW", "Item", "ItemError", "Parsed", "parse_collect",
    "payload_modules", "payload_types",
]

MAX_BATCH_ITEMS: Final = 500
MAX_FUTURE_SKEW: Final = timedelta(minutes=5)
MAX_AGE: Final = timedelta(days=90)

_PREFIX = "Invalid request body: "


# --------------------------------------------------------------------------------------------
# The installed payload types, looked up on first use


class _Types:
    """What the parser needs of the installed payload types, by type name."""

    def __init__(self) -> None:
        table = payloads()  # in registry order, each module's types in the order it declares them
        #: The module that must be enabled (and allowed for the key) to ingest each payload type.
        #: An event carrying revenue is still `core`; the `revenue` module gates revenue reports only.
        self.modules: dict[str, str] = {typ: module.name for typ, (module, _) in table.items()}
        # type -> (its parser or None, the field holding the page's URL)
        self.parsers: dict[str, tuple[Any, str]] = {typ: (p.parse, p.page_url) for typ, (_, p) in table.items()}
        self.hint = "Valid types: " + ", ".join(table) + "."
        #: Types stored as pageviews (pageview, screen): a row there must name its page.
        self.paged: frozenset[str] = frozenset(
            typ for typ, (_, p) in table.items() if getattr(p.sink, "table", None) == "pageviews")
        globals()["ItemData"] = records.data_union()  # Item.data's annotation, for msgspec


_types: _Types | None = None


def _load() -> _Types:
    global _types
    if _types is None:
        _types = _Types()
    return _types


def payload_modules() -> dict[str, str]:
    """The module each payload type needs."""
    return (_types or _load()).modules


def payload_types() -> tuple[str, ...]:
    """Every payload type the installed modules accept, in registry order."""
    return tuple((_types or _load()).modules)


# --------------------------------------------------------------------------------------------
# Output structs


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
    data: ItemData | None = None  # noqa: F821 (the payload structs' union: pulse.ingest.records.data_union)
    user_agent: str | None = None

    @property
    def module(self) -> str:
        return (_types or _load()).modules[self.type]


class ItemError(msgspec.Struct, gc=False):
    """A batch item that failed validation; `index` is its 0-based position in the batch."""

    index: int
    error: str


class Parsed(msgspec.Struct):
    batch: bool
    items: list[Item | ItemError]


# --------------------------------------------------------------------------------------------
# Common-field helpers (the shared ones are pulse.ingest.fields)


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
            raise must("timestamp", "an ISO-8601 datetime or epoch milliseconds")
        try:
            ts = datetime.fromisoformat(v)
            ts = ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)
        except (ValueError, OverflowError):
            raise must("timestamp", "an ISO-8601 datetime or epoch milliseconds") from None
    elif t is int or t is float:
        # Range-check in milliseconds first: timedelta overflows long before a float does.
        now_ms = (now - _EPOCH) / _MS
        if v > now_ms + _SKEW_MS:
            raise Invalid("field 'timestamp' is more than 5 minutes in the future.")
        if v < now_ms - _AGE_MS:
            raise Invalid("field 'timestamp' is older than 90 days.")
        ts = _EPOCH + timedelta(milliseconds=v)
    else:
        raise must("timestamp", "an ISO-8601 datetime or epoch milliseconds")
    if ts > now:
        if ts - now > MAX_FUTURE_SKEW:
            raise Invalid("field 'timestamp' is more than 5 minutes in the future.")
        return now
    if now - ts > MAX_AGE:
        raise Invalid("field 'timestamp' is older than 90 days.")
    return ts


_MS = timedelta(milliseconds=1)
_SKEW_MS = MAX_FUTURE_SKEW / _MS
_AGE_MS = MAX_AGE / _MS


_UTM: Final = (("utm_source", "source"), ("utm_medium", "medium"), ("utm_campaign", "campaign"),
               ("utm_content", "content"), ("utm_term", "term"))


# --------------------------------------------------------------------------------------------
# One payload


def _parse_item(obj: Any, now: datetime, check_nul: bool, types: _Types) -> Item:
    if type(obj) is not dict:
        raise Invalid("expected a JSON object.")
    typ = obj.get("type")
    p = obj.get("payload")
    if p is None:
        d = obj
    elif type(p) is not dict:
        raise must("payload", "an object")
    else:
        if typ is None:
            typ = p.get("type")
        d = {**obj, **p}
    if typ is None:
        raise missing("type")
    if type(typ) is not str:
        raise must("type", "a string")
    known = types.parsers.get(typ)
    if known is None:
        shown = typ if len(typ) <= 40 else typ[:40] + "..."
        raise Invalid(f"unknown payload type '{shown}'. {types.hint}")
    if check_nul and (where := _find_nul(obj)) is not None:
        raise Invalid(f"field '{where}' must not contain NUL characters (\\u0000).")

    # Common fields. Each is inlined as "absent, or a string within its cap" with the slow
    # helper called only to build the error: this block is most of a pageview's cost.
    get = d.get
    visitor_id = get("visitor_id")
    if visitor_id is not None:
        visitor_id = ident(visitor_id, "visitor_id")
    user_id = get("user_id")
    if user_id is not None:
        user_id = ident(user_id, "user_id")
    session_id = get("session_id")
    if session_id is not None:
        session_id = ident(session_id, "session_id")
    v = get("timestamp")
    ts = now if v is None else _timestamp(v, now)

    parser, url_key = known
    url = get(url_key)
    if url is not None and (type(url) is not str or len(url) > 2048):
        string(url, url_key, 2048)
    hostname = get("hostname")
    if hostname is not None:
        if type(hostname) is not str or len(hostname) > 253:
            string(hostname, "hostname", 253)
        hostname = hostname.lower() or None
    path = get("path")
    if path is not None:
        if type(path) is not str or len(path) > 1024:
            string(path, "path", 1024)
        key_bytes(path, "path")
    path = path or None
    if url:
        if hostname is None or path is None:
            url_host, url_path = split_url(url, url_key)
            if hostname is None and url_host is not None:
                hostname = url_host[:MAX_HOSTNAME]
            if path is None and url_path:
                if len(url_path) > 1024:
                    raise Invalid(f"field '{url_key}' has a path longer than 1024 characters.")
                if utf8_len(url_path) > MAX_KEY_BYTES:
                    raise Invalid(f"field '{url_key}' has a path longer than {MAX_KEY_BYTES} bytes in UTF-8.")
                path = url_path
    else:
        url = None
    referrer = get("referrer")
    if referrer is not None and (type(referrer) is not str or len(referrer) > 2048):
        string(referrer, "referrer", 2048)
    title = get("title")
    if title is not None and (type(title) is not str or len(title) > 512):
        string(title, "title", 512)
    screen = get("screen")
    if screen is not None and (type(screen) is not str or len(screen) > 50):
        string(screen, "screen", 50)
    language = get("language")
    if language is not None and (type(language) is not str or len(language) > 64):
        string(language, "language", 64)
    user_agent = get("user_agent")
    if user_agent is not None and (type(user_agent) is not str or len(user_agent) > 512):
        string(user_agent, "user_agent", 512)

    utm: dict[str, str] = {}
    for key, short in _UTM:
        v = get(key)
        if v is not None:
            if type(v) is not str or len(v) > 500:
                string(v, key, 500)
            if v:
                utm[short] = v

    consent_mode = get("consent_mode")
    if consent_mode is not None and (type(consent_mode) is not str or len(consent_mode) > 50):
        string(consent_mode, "consent_mode", 50)
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
            raise must("consent_granted", "true or false")

    if parser is None:
        data = None
    else:
        data = parser(d)
        if typ == "screen":  # a mobile screen view is stored as a pageview of the screen's name
            path = name = data.name
            if not title:
                title = name
    if path is None and typ in types.paged:  # else counted in pageviews and shown on no page
        raise must(url_key, "a URL with a path") if url else missing("path", url_key)

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
        raise BodyTooLarge()  # what pulse.web.bodylimit answers on HTTP, for a body handed over directly
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

    types = _types or _load()
    if type(doc) is dict:
        if "batch" not in doc:
            try:
                return Parsed(False, [_parse_item(doc, now, check_nul, types)])
            except Invalid as exc:
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
            append(_parse_item(obj, now, check_nul, types))
        except Invalid as exc:
            append(ItemError(index, _PREFIX + str(exc)))
    return Parsed(True, items)

