"""CSV exports, built from the report services themselves (core and utm), so a CSV holds the
same numbers as the JSON.

An export reads another module's data, so it answers to that module too: the route checks the
exports module (declared) and then the module that owns the rows (`Export.module`: core, or utm
for campaigns), with the same enabled / allowed_modules / access rules as that module's routes.

The rows are computed before the response starts (so every error is a JSON error with its
status, and no database session outlives the route), then written to CSV as the response is
sent, a chunk at a time.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

from pulse import errors
from pulse.modules.core import service as core
from pulse.modules.utm import service as utm
from pulse.query.dates import DayRange
from pulse.query.rollups import Reader

DEFAULT_LIMIT = 1000
MAX_LIMIT = 100_000
CHUNK_CHARS = 16_384  # a response chunk holds this many characters of rows, or more by one row
# A cell that starts with one of these is read as a formula by spreadsheet programs. Paths,
# event names and UTM tags come from anyone holding the public ingest key, so such text cells
# get a leading apostrophe (OWASP's advice for CSV injection); numbers are written as they are.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int | float
Rows = list[Sequence[Cell]]
Produce = Callable[[Reader, DayRange, int], Awaitable[Rows]]


@dataclass(frozen=True, slots=True)
class Export:
    module: str  # the module whose data this is
    columns: tuple[str, ...]
    produce: Produce  # (read, days, limit) -> rows; `limit` caps each list (stats has none)


async def _stats(read: Reader, days: DayRange, limit: int) -> Rows:
    current, _ = await core.stats(read=read, days=days)
    return [(current.pageviews, current.visitors, current.sessions, current.bounce_rate, current.avg_duration,
             current.events)]


async def _pages(read: Reader, days: DayRange, limit: int) -> Rows:
    items, _ = await core.pages(read=read, days=days, limit=limit, offset=0)
    return [(p.path, p.views, p.unique_views, p.avg_duration) for p in items]


async def _referrers(read: Reader, days: DayRange, limit: int) -> Rows:
    items, _ = await core.referrers(read=read, days=days, limit=limit, offset=0)
    return [(s.source, s.visitors, s.pageviews) for s in items]


async def _events(read: Reader, days: DayRange, limit: int) -> Rows:
    items, _ = await core.events(read=read, days=days, limit=limit, offset=0)
    return [(e.name, e.count, e.unique) for e in items]


async def _devices(read: Reader, days: DayRange, limit: int) -> Rows:
    """One table of the three breakdowns: `group` is browsers, operating_systems or device_types
    (the REST keys); `limit` applies to each group."""
    groups = await core.devices(read=read, days=days, limit=limit)
    return [(group, s.name, s.visitors, s.percentage) for group, shares in groups.items() for s in shares]


async def _geo(read: Reader, days: DayRange, limit: int) -> Rows:
    items, _ = await core.breakdown(read=read, days=days, dimension="country", limit=limit, offset=0)
    return [(s.name, s.visitors, s.percentage) for s in items]


async def _campaigns(read: Reader, days: DayRange, limit: int) -> Rows:
    items, _ = await utm.campaigns(read=read, days=days, limit=limit, offset=0)
    return [(c.campaign, c.visitors, c.pageviews, c.bounce_rate, c.avg_duration) for c in items]


# Columns are the REST fields of each report (geo's `country`, as REST names it).
EXPORTS: dict[str, Export] = {
    "stats": Export("core", ("pageviews", "visitors", "sessions", "bounce_rate", "avg_duration", "events"),
                    _stats),
    "pages": Export("core", ("path", "views", "unique_views", "avg_duration"), _pages),
    "referrers": Export("core", ("source", "visitors", "pageviews"), _referrers),
    "events": Export("core", ("name", "count", "unique"), _events),
    "devices": Export("core", ("group", "name", "visitors", "percentage"), _devices),
    "geo": Export("core", ("country", "visitors", "percentage"), _geo),
    "campaigns": Export("utm", ("campaign", "visitors", "pageviews", "bounce_rate", "avg_duration"), _campaigns),
}


def find(kind: str) -> Export:
    export = EXPORTS.get(kind)
    if export is None:
        raise errors.NotFound(f"Export type '{kind}' not found. Expected one of: {', '.join(EXPORTS)}.")
    return export


def filename(kind: str, days: DayRange) -> str:
    """`pages_2026-03-01_2026-03-22.csv`: the type and the first and last day of the export."""
    return f"{kind}_{days.first.isoformat()}_{days.last.isoformat()}.csv"


async def rows(export: Export, *, read: Reader, days: DayRange, limit: int = DEFAULT_LIMIT) -> Rows:
    if not 1 <= limit <= MAX_LIMIT:
        raise errors.BadRequest(f"Invalid parameter: 'limit' must be between 1 and {MAX_LIMIT}.")
    return await export.produce(read, days, limit)


def _cell(value: Cell) -> Cell:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


async def csv_chunks(columns: Sequence[str], rows: Iterable[Sequence[Cell]],
                     chunk_chars: int = CHUNK_CHARS) -> AsyncIterator[str]:
    """The CSV text (RFC 4180: quoted where needed, CRLF line ends), the header first, in chunks
    of about `chunk_chars` characters; each chunk is formatted once the previous one is sent."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        if buffer.tell() >= chunk_chars:
            yield _take(buffer)
        writer.writerow([_cell(value) for value in row])
    yield _take(buffer)


def _take(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
