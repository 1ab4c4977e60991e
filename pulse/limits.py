"""Every input limit Pulse enforces, in one place (docs/limits.md lists them for users).

Ingestion's limits are checked in pulse.ingest.payloads and pulse.ingest.fields (the common
fields) and in each module's payloads.py (its own types), the rest where each input enters (REST
parameters, GraphQL arguments, the ASGI body limit). A value over a limit is refused with a 4xx
naming the field; only values Pulse derives itself (a URL's host, a referrer's domain, a UTM
value read from a URL's query string, a parsed user agent) are truncated instead, at a
character boundary, by `clip`.
"""

from __future__ import annotations

from typing import Final

# -- requests -----------------------------------------------------------------------------------
#: Any request body, on every route (413 above it, before it is buffered).
MAX_BODY_BYTES: Final = 1_048_576

# -- values that become part of an index key ------------------------------------------------
# PostgreSQL refuses a btree entry over 2704 bytes; the widest key holding one text value is a
# rollup row's (project, day, dimension, value), so one such value stays well below that.
#: UTF-8 bytes of one indexed value: a path, hostname, source, referrer domain, UTM value,
#: event name, entry or exit path, browser, OS...
MAX_KEY_BYTES: Final = 1024
#: UTF-8 bytes of an identity key: visitor_id, user_id, session_id, account_id, recording_id.
MAX_ID_BYTES: Final = 512
#: A hostname's characters (DNS names are at most 253).
MAX_HOSTNAME: Final = 253

# -- free-form objects (event `data`, identify traits, log `body`, replay events) --------------
MAX_FREEFORM_BYTES: Final = 65_536  # serialized as JSON
MAX_FREEFORM_DEPTH: Final = 10
MAX_FREEFORM_KEYS: Final = 1000  # keys at every level together
#: Replay events are DOM snapshots, which nest as deep as the page's DOM.
MAX_REPLAY_DEPTH: Final = 256
#: Integers anywhere in a payload: what a signed 64-bit integer holds.
MIN_INT: Final = -(2**63)
MAX_INT: Final = 2**63 - 1
#: A profile's or account's traits once merged over every identify call: keys, and bytes as
#: PostgreSQL prints the jsonb (a little roomier than compact JSON, so one identify always fits).
MAX_TRAIT_KEYS: Final = 1000
MAX_TRAIT_BYTES: Final = 131_072

# -- credentials ----------------------------------------------------------------------------
#: Failed authentications (unknown keys, wrong admin or metrics tokens) per client address: a
#: burst of this many, then one more every AUTH_FAILURE_INTERVAL seconds (30 a minute); further
#: failing attempts get 429 with Retry-After. A valid credential is never throttled.
AUTH_FAILURE_BURST: Final = 30
AUTH_FAILURE_INTERVAL: Final = 2  # seconds
#: Characters a configured PULSE_ADMIN_TOKEN must have at least (a generated one has 43).
MIN_ADMIN_TOKEN_LENGTH: Final = 32

# -- ingestion backlog ----------------------------------------------------------------------
# Entries and bytes per shard's stream: PULSE_INGEST_MAX_BACKLOG and PULSE_INGEST_MAX_BACKLOG_BYTES.

# -- reads ----------------------------------------------------------------------------------
#: Filters per report, on REST and GraphQL alike.
MAX_FILTERS: Final = 10
#: Characters of one filter value.
MAX_FILTER_VALUE: Final = 500
#: Years a report's `start_at`/`end_at` may fall in (the previous period and the range's
#: bounds in any time zone are then still dates Python and PostgreSQL hold).
MIN_REPORT_YEAR: Final = 1970
MAX_REPORT_YEAR: Final = 9998
#: Items a list may skip: REST `offset`, the position a GraphQL `after` cursor holds.
MAX_OFFSET: Final = 1_000_000


def utf8_len(value: str) -> int:
    return len(value) if value.isascii() else len(value.encode())


def clip(value: str | None, limit: int = MAX_KEY_BYTES) -> str | None:
    """`value` cut to at most `limit` UTF-8 bytes, at a character boundary (None stays None)."""
    if value is None or len(value) <= limit // 4 or utf8_len(value) <= limit:
        return value
    return value.encode()[:limit].decode(errors="ignore")
