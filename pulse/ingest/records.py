"""What travels through the ingest stream: enriched records, packed with msgpack."""

from __future__ import annotations

from functools import cache
from typing import Any, Union

import msgspec

from pulse.modules.installed import payloads


class Record(msgspec.Struct, array_like=True, gc=False):
    """One accepted payload, enriched. No IP address, ever."""

    id: bytes  # the event id (a UUID's 16 bytes): a row's identity through retries
    type: str  # a payload type, or "bot" for a filtered bot hit (counted, not stored)
    ts: int  # microseconds since the epoch, UTC
    visitor_id: str | None = None
    user_id: str | None = None
    session: str | None = None  # a client-supplied session id
    hostname: str | None = None
    path: str | None = None
    title: str | None = None
    referrer: str | None = None
    source: str | None = None
    channel: str | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    utm_content: str | None = None
    utm_term: str | None = None
    country: str | None = None
    region: str | None = None
    city: str | None = None
    browser: str | None = None
    os: str | None = None
    device: str | None = None
    screen: str | None = None
    language: str | None = None
    data: ItemData | None = None  # noqa: F821 (bound on first use: see data_union)


class Forget(msgspec.Struct, array_like=True, gc=False):
    """A request to forget one visitor (pulse.privacy.dsar): applied by the writer in stream order,
    so what was accepted for the visitor before it is deleted too, never written after it."""

    visitor_id: str
    request_id: str  # the writer publishes what it deleted under this id
    actor_type: str  # who asked, for the audit entry (pulse.audit.actor)
    actor_id: str | None = None


class Rebuild(msgspec.Struct, array_like=True, gc=False):
    """A request to rebuild one day's session rollups from the raw rows (pulse.ingest.backfill):
    applied by the writer in stream order, as the only author of the project's rollups."""

    day: str  # ISO date, in the project's time zone


class Entry(msgspec.Struct, array_like=True, gc=False):
    """One stream entry: the records one request brought, for one project, or (with no records)
    a visitor to forget or a day of session rollups to rebuild."""

    project_id: bytes
    records: list[Record]
    forget: Forget | None = None
    rebuild: Rebuild | None = None


encode_entry = msgspec.msgpack.Encoder().encode
_decode: Any = None


@cache
def data_union() -> Any:
    """The tagged union (by `kind`) of the installed payload types' structs: what `data` holds.

    `Record.data` and `pulse.ingest.payloads.Item.data` are annotated `ItemData | None`, a name
    bound in their modules on first use: the structs live in the module packages, which import
    the app's pieces, so no union can be built at import time. msgspec resolves a struct's
    annotations when its first decoder is made, which `decode_entry` (and the parser) do after."""
    structs = tuple(dict.fromkeys(p.struct for _, p in payloads().values() if p.struct is not None))
    return Union[structs] if structs else Any  # noqa: UP007 (a union of types known at run time)


def decode_entry(raw: bytes) -> Entry:
    """An entry from its bytes, each record's `data` as its type's struct."""
    global _decode
    if _decode is None:
        globals()["ItemData"] = data_union()
        _decode = msgspec.msgpack.Decoder(Entry).decode
    return _decode(raw)
