"""Cursor paging for GraphQL lists: `first` and `after` in, `total` and `pageInfo` out.

A report's list is ranked and recomputed per request, so a cursor is the position after an
item, opaque to clients (REST pages the same lists with `limit` and `offset`).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

import strawberry

from pulse import errors
from pulse.limits import MAX_OFFSET

MAX_FIRST = 1000
_PREFIX = "pos:"


@strawberry.type
class PageInfo:
    end_cursor: str | None = strawberry.field(description="Pass as `after` for the next page; null when empty.")
    has_next_page: bool


@strawberry.type
class Listing:
    """Base of every paged list."""

    total: int = strawberry.field(description="Items in the whole list, on every page.")
    page_info: PageInfo


def cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"{_PREFIX}{position}".encode()).decode()


def _position(after: str) -> int:
    try:
        decoded = base64.urlsafe_b64decode(after.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        decoded = ""
    number = decoded.removeprefix(_PREFIX)
    # ASCII digits only (str.isdigit also takes '²'), and few enough for a position we hand out.
    if (not decoded.startswith(_PREFIX) or not number.isascii() or not number.isdigit()
            or len(number) > len(str(MAX_OFFSET)) or int(number) > MAX_OFFSET):
        raise errors.BadRequest("Invalid parameter: 'after' must be a cursor this list returned.")
    return int(number)


@dataclass(frozen=True, slots=True)
class Window:
    """Which items a list field returns: `first` of them after the `after` cursor."""

    limit: int
    offset: int

    @classmethod
    def of(cls, first: int, after: str | None) -> Window:
        if not 1 <= first <= MAX_FIRST:
            raise errors.BadRequest(f"Invalid parameter: 'first' must be between 1 and {MAX_FIRST}.")
        return cls(first, _position(after) if after else 0)

    @property
    def bounds(self) -> dict[str, int]:
        """The `limit` and `offset` a service's ranked list takes."""
        return {"limit": self.limit, "offset": self.offset}

    def listing(self, shown: int, total: int) -> dict:
        """`total` and `page_info` of a list showing `shown` items of `total` from this window."""
        end = self.offset + shown
        return {"total": total,
                "page_info": PageInfo(end_cursor=cursor(end) if shown else None, has_next_page=end < total)}
