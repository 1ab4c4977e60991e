"""Monthly partitions of the collected tables, created ahead of need.

The worker keeps partitions from the oldest month ingestion accepts to two months ahead; the
writer also creates the month of any row it is about to write, so a backfill never fails for
want of a partition. Creating a partition that exists is a no-op.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import cache

from sqlalchemy import Table, text
from sqlalchemy.ext.asyncio import AsyncConnection

from pulse.modules.installed import installed

MONTHS_AHEAD = 2


@cache
def collected_tables() -> tuple[Table, ...]:
    """The installed modules' partitioned tables (each made by pulse.ingest.tables.collected)."""
    return tuple(table for module in installed() for table in module.tables
                 if table.dialect_options["postgresql"]["partition_by"])


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def months_between(first: date, last: date) -> list[date]:
    months, month = [], month_start(first)
    while month <= last:
        months.append(month)
        month = next_month(month)
    return months


def partition_name(table: str, month: date) -> str:
    return f"{table}_{month:%Y_%m}"


def ddl(table: str, month: date) -> str:
    start, end = month, next_month(month)
    return (f'CREATE TABLE IF NOT EXISTS "{partition_name(table, month)}" PARTITION OF "{table}" '
            f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')")


async def ensure_months(conn: AsyncConnection, months: list[date]) -> None:
    """Create the partitions of `months` in the connection's transaction; concurrent callers
    (writers of other shards, the worker) queue on one advisory lock instead of colliding."""
    await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('pulse.partitions'))"))
    for month in months:
        for table in collected_tables():
            await conn.execute(text(ddl(table.name, month)))


def window(now: datetime, max_age: timedelta) -> list[date]:
    """The months ingestion may write to now: from the oldest accepted timestamp to ahead."""
    today = now.astimezone(UTC).date()
    last = today
    for _ in range(MONTHS_AHEAD):
        last = next_month(last)
    return months_between(today - max_age, last)
