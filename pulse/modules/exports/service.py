"""CSV exports of the reports that declare one (pulse.reports.Export), built from the report
services themselves, so a CSV holds the same numbers as the JSON.

An export reads another module's data, so it answers to that module too: the route checks the
exports module (declared) and then the module that owns the rows (`Exportable.module`: core, or
utm for campaigns), with the same enabled / allowed_modules / access rules as that module's routes.

The rows are computed before the response starts (so every error is a JSON error with its
status, and no database session outlives the route), then written to CSV as the response is
sent, a chunk at a time.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from functools import cache

from pulse import errors
from pulse.modules.installed import installed
from pulse.query.dates import DayRange
from pulse.query.report import Reading
from pulse.reports import Report

DEFAULT_LIMIT = 1000
MAX_LIMIT = 100_000
CHUNK_CHARS = 16_384  # a response chunk holds this many characters of rows, or more by one row
# A cell that starts with one of these is read as a formula by spreadsheet programs. Paths,
# event names and UTM tags come from anyone holding the public ingest key, so such text cells
# get a leading apostrophe (OWASP's advice for CSV injection); numbers are written as they are.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int | float


@dataclass(frozen=True, slots=True)
class Exportable:
    module: str  # the module whose data this is
    report: Report


@cache
def exports() -> dict[str, Exportable]:
    """Every report an installed module declares an export for, by its type (the report's name).
    Columns are the REST fields of each report (geo's `country`, as REST names it)."""
    return {report.name: Exportable(module.name, report) for module in installed() for report in module.reports
            if report.export is not None}


def find(kind: str) -> Exportable:
    found = exports().get(kind)
    if found is None:
        raise errors.NotFound(f"Export type '{kind}' not found. Expected one of: {', '.join(exports())}.")
    return found


def filename(kind: str, days: DayRange) -> str:
    """`pages_2026-03-01_2026-03-22.csv`: the type and the first and last day of the export."""
    return f"{kind}_{days.first.isoformat()}_{days.last.isoformat()}.csv"


async def rows(export: Exportable, reading: Reading, *, limit: int = DEFAULT_LIMIT
               ) -> tuple[tuple[str, ...], list[Sequence[Cell]]]:
    """The export's columns and rows; `limit` caps each list (stats has none)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise errors.BadRequest(f"Invalid parameter: 'limit' must be between 1 and {MAX_LIMIT}.")
    return export.report.export_rows(await export.report.call(reading, limit=limit, offset=0))


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
