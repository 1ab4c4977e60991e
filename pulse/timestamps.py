"""Timestamps: ISO-8601 as the API reference prints them (UTC, seconds, a trailing Z), and the
microseconds since the epoch the ingest stream carries."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_utc(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_iso(value: str, field: str) -> datetime:
    """Parse an ISO-8601 date or datetime; naive values are taken as UTC."""
    from pulse.errors import BadRequest

    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith("Z") else value)
    except (ValueError, TypeError, AttributeError):
        raise BadRequest(f"Invalid value for '{field}': expected an ISO-8601 date or datetime.") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def to_micros(value: datetime) -> int:
    """An aware datetime as microseconds since the epoch (what the ingest stream carries)."""
    return int(value.timestamp() * 1_000_000)


def from_micros(micros: int) -> datetime:
    """Microseconds since the epoch as an aware UTC datetime."""
    return datetime.fromtimestamp(micros / 1_000_000, UTC)
