"""What travels through the ingest stream: enriched records, packed with msgpack."""

from __future__ import annotations

import msgspec

from pulse.ingest.payloads import ItemData


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
    data: ItemData | None = None


class Entry(msgspec.Struct, array_like=True, gc=False):
    """One stream entry: the records one request brought, for one project."""

    project_id: bytes
    records: list[Record]


encode_entry = msgspec.msgpack.Encoder().encode
decode_entry = msgspec.msgpack.Decoder(Entry).decode
