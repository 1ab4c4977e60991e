"""What Pulse holds about one visitor: every table with a visitor column, read off the metadata.

A table holds a visitor's rows when it has a `visitor_id` column (visitors, identity profiles,
aliases, memberships...) or a `visitor_no` column (sessions and every collected table). Nothing
lists them by hand: a module's new table with either column is exported and deleted with the
rest (tests/privacy/test_registry.py checks that each can be reached by an index, and that no
table holding people's ids is left out unless it says why in `info["dsar"]`).

How a table's rows are found (`VisitorTable.where`, `WHERE`):
- by `visitor_id`, when it has one;
- by `visitor_no`, when an index leads with (project_id, visitor_no): sessions, and the collected
  types that do not join sessions (web vitals, errors, clicks...);
- through the visitor's sessions otherwise: rows of activity (pageviews, events, replay chunks)
  always carry their session, and are read by the (project_id, session_id) index, within the
  sessions' time bounds so only the partitions of those months are read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from uuid import UUID

import asyncpg
from sqlalchemy import Table

from pulse.db import Base
from pulse.tables import import_all_tables

# The condition on a visitor's rows for each way of finding them, and the values it takes, in order.
WHERE = {
    "visitor_id": ("project_id = $1 AND visitor_id = $2", ("project_id", "visitor_id")),
    "visitor_no": ("project_id = $1 AND visitor_no = $2", ("project_id", "visitor_no")),
    "session_id": ("project_id = $1 AND session_id = ANY($2::uuid[]) AND visitor_no = $3 AND ts >= $4 AND ts <= $5",
                   ("project_id", "session_ids", "visitor_no", "since", "until")),
}


@dataclass(frozen=True, slots=True)
class Visitor:
    """One visitor as the tables know them: their id, number, and sessions' ids and time bounds."""

    project_id: UUID
    visitor_id: str
    visitor_no: int | None = None
    session_ids: tuple[UUID, ...] = ()
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class VisitorTable:
    table: Table
    key: str  # "visitor_id", "visitor_no" or "session_id" (see WHERE)

    @property
    def name(self) -> str:
        return self.table.name

    def where(self, visitor: Visitor) -> tuple[str, list] | None:
        """The condition on this table's rows of `visitor` and its parameters; None when the
        visitor can have none here (no number, or no sessions)."""
        sql, names = WHERE[self.key]
        values = [getattr(visitor, name) for name in names]
        if any(v is None for v in values) or (self.key == "session_id" and not visitor.session_ids):
            return None
        return sql, values

    @property
    def order_by(self) -> str:
        return ", ".join(c.name for c in self.table.primary_key.columns)


def _leads_with(table: Table, column: str) -> bool:
    indexes = [list(i.columns.keys()) for i in table.indexes] + [list(table.primary_key.columns.keys())]
    return any(cols[:2] == ["project_id", column] for cols in indexes)


def key_of(table: Table) -> str | None:
    """How the table's rows of one visitor are found, or None if it holds none."""
    columns = set(table.columns.keys())
    if "visitor_id" in columns:
        return "visitor_id"
    if "visitor_no" in columns:
        if _leads_with(table, "visitor_no") or "session_id" not in columns:
            return "visitor_no"
        return "session_id"
    return None


@cache
def visitor_tables() -> tuple[VisitorTable, ...]:
    """Every table holding rows of one visitor, in the metadata's order (`visitors` last: its row
    is how a visitor id is known at all)."""
    import_all_tables()
    found = [VisitorTable(t, key) for t in Base.metadata.sorted_tables if (key := key_of(t)) is not None]
    return tuple(sorted(found, key=lambda vt: vt.name == "visitors"))


async def locate(conn: asyncpg.Connection, project_id: UUID, visitor_id: str) -> tuple[Visitor, list]:
    """The visitor as the tables know them, and their session rows."""
    visitor_no = await conn.fetchval(
        "SELECT visitor_no FROM visitors WHERE project_id = $1 AND visitor_id = $2", project_id, visitor_id)
    if visitor_no is None:
        return Visitor(project_id, visitor_id), []
    sessions = await conn.fetch("SELECT * FROM sessions WHERE project_id = $1 AND visitor_no = $2 ORDER BY started_at",
                                project_id, visitor_no)
    return Visitor(project_id, visitor_id, visitor_no, tuple(s["id"] for s in sessions),
                   min((s["started_at"] for s in sessions), default=None),
                   max((s["ended_at"] for s in sessions), default=None)), sessions
