"""Campaign parameters: utm_* tags and ad-platform click IDs from a pageview."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import parse_qsl, urlsplit

from pulse.limits import clip

UTM_FIELDS = ("source", "medium", "campaign", "content", "term")
MAX_UTM_LENGTH = 500  # characters, as payload validation allows; and at most MAX_KEY_BYTES (an index key)

# Query parameters ad platforms append to a landing URL when an ad is clicked.
# gbraid/wbraid are Google Ads' replacements for gclid on iOS.
CLICK_ID_PARAMS = frozenset({"gclid", "gbraid", "wbraid", "fbclid", "msclkid", "ttclid", "li_fat_id", "twclid"})


@dataclass(frozen=True, slots=True)
class Utm:
    source: str | None = None
    medium: str | None = None
    campaign: str | None = None
    content: str | None = None
    term: str | None = None


def extract_utm(payload_utm: Mapping[str, str | None] | None, url: str | None) -> Utm:
    """The UTM tags of a pageview. A value the tracker sent wins over the one in the page URL.

    The payload may name the fields with or without the `utm_` prefix.
    """
    # Most pageviews carry no tags: skip parsing their URL at all.
    from_url = _query_params(url) if url and "utm_" in url.lower() else {}
    payload = payload_utm or {}
    values = {}
    for field in UTM_FIELDS:
        # Source and medium are matched against lists; campaign names keep their case for display.
        lower = field in ("source", "medium")
        value = _clean(payload.get(field) or payload.get(f"utm_{field}"), lower)
        values[field] = value if value is not None else _clean(from_url.get(f"utm_{field}"), lower)
    return Utm(**values)


def click_ids(url: str | None) -> frozenset[str]:
    """Which ad click IDs the landing URL carries (e.g. {"gclid"})."""
    if not url or "?" not in url:
        return frozenset()
    return _click_ids_in(url)


@lru_cache(maxsize=4_096)
def _click_ids_in(url: str) -> frozenset[str]:
    return frozenset(name for name, value in _query_params(url).items() if name in CLICK_ID_PARAMS and value)


@lru_cache(maxsize=4_096)
def _query_params(url: str) -> dict[str, str]:
    """The first value of each query parameter, names lowercased. Callers must not mutate it."""
    try:
        query = urlsplit(url).query
    except ValueError:
        return {}
    params: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        params.setdefault(name.lower(), value)
    return params


def _clean(value: object, lower: bool) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    if lower:
        value = value.lower()
    return clip(value[:MAX_UTM_LENGTH]).rstrip() or None
