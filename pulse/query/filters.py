"""Report filters: `dimension`, `operator` and `value`, validated once for both faces.

REST takes them as repeated `filter=<dimension>:<operator>:<value>` parameters (the value may
hold colons); GraphQL as `filters: [{dimension, operator, value}]`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pulse import errors
from pulse.limits import MAX_FILTER_VALUE, MAX_FILTERS

OPERATORS = ("is", "is_not", "contains", "matches")
# Where each dimension lives: a pageview's own columns, its session's, or the session's events.
PAGE_DIMENSIONS = ("path", "hostname")
SESSION_DIMENSIONS = ("entry_path", "exit_path", "source", "referrer", "channel", "utm_source", "utm_medium",
                      "utm_campaign", "utm_content", "utm_term", "country", "region", "city", "browser", "os",
                      "device")
EVENT_DIMENSIONS = ("event",)
# A saved segment's visitors (module segments): `segment:is:<id>` keeps only their activity,
# `segment:is_not:<id>` everyone else's (reports' `segment=<id>` is the first).
SEGMENT = "segment"
SEGMENT_OPERATORS = ("is", "is_not")
DIMENSIONS = PAGE_DIMENSIONS + SESSION_DIMENSIONS + EVENT_DIMENSIONS + (SEGMENT,)
MAX_VALUE = MAX_FILTER_VALUE


@dataclass(frozen=True, slots=True)
class Filter:
    dimension: str
    operator: str
    value: str


def make(dimension: str, operator: str, value: str) -> Filter:
    if dimension not in DIMENSIONS:
        raise errors.BadRequest(f"Invalid filter: unknown dimension '{dimension}' "
                                f"(expected one of {', '.join(DIMENSIONS)}).")
    if operator not in OPERATORS:
        raise errors.BadRequest(f"Invalid filter: unknown operator '{operator}' "
                                f"(expected one of {', '.join(OPERATORS)}).")
    if dimension == SEGMENT and operator not in SEGMENT_OPERATORS:
        raise errors.BadRequest(f"Invalid filter: a segment filter takes {' or '.join(SEGMENT_OPERATORS)}, "
                                f"not '{operator}'.")
    if len(value) > MAX_VALUE:
        raise errors.BadRequest(f"Invalid filter: the value may have at most {MAX_VALUE} characters.")
    if operator == "matches":
        try:
            re.compile(value)
        except re.error as exc:
            raise errors.BadRequest(f"Invalid filter: '{value}' is not a valid regular expression ({exc}).") from None
    return Filter(dimension, operator, value)


def check_count(count: int) -> None:
    """The filter cap, checked before any filter is validated (REST and GraphQL alike)."""
    if count > MAX_FILTERS:
        raise errors.BadRequest(f"Invalid filter: at most {MAX_FILTERS} filters.")


def parse(raw: list[str]) -> list[Filter]:
    """`dimension:operator:value` strings, as REST takes them."""
    check_count(len(raw))
    filters = []
    for item in raw:
        parts = item.split(":", 2)
        if len(parts) != 3:
            raise errors.BadRequest(f"Invalid filter '{item}': expected dimension:operator:value, "
                                    "for example path:is:/pricing.")
        filters.append(make(*parts))
    return filters
