"""The Alembic migrations and the tables' metadata agree: a database migrated to head has exactly
the tables, columns, types, indexes and constraints that `pulse.tables.import_all_tables()`
declares (`pulse.db.Base.metadata`), so a model change without its migration, or a migration
without its model change, fails here."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, Table, Text
from sqlalchemy.ext.asyncio import create_async_engine

from pulse.db import Base
from pulse.ingest import partitions
from pulse.ingest.payloads import MAX_AGE
from pulse.tables import import_all_tables

import_all_tables()


def _compare(sync_conn, metadata: MetaData) -> list:
    # The one exclusion: the monthly partitions of the collected tables (pageviews_2024_01, ...).
    # The worker and the writer create them at run time (pulse/ingest/partitions.py), not the
    # migrations, and the metadata declares only their partitioned parents, which are compared
    # in full. Without it, a database the worker has run on reads as "drop every partition and
    # its indexes". They are recognised by PostgreSQL's own flag, not by their name.
    partition_names = set(sync_conn.exec_driver_sql(
        "SELECT relname FROM pg_class WHERE relispartition AND relkind IN ('r', 'p')").scalars())

    def include_name(name, type_, parent_names) -> bool:
        return not (type_ == "table" and name in partition_names)

    context = MigrationContext.configure(sync_conn, opts={"compare_type": True, "include_name": include_name})
    return compare_metadata(context, metadata)


async def diff(settings, metadata: MetaData = Base.metadata) -> list:
    """What `alembic revision --autogenerate` would put in a new migration: the database (cloned
    from conftest's template, which `pulse.migrate.upgrade` migrated to head) against `metadata`."""
    engine = create_async_engine(settings.database_url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_compare, metadata)
    finally:
        await engine.dispose()


async def create_partitions(settings) -> None:
    """The partitions the worker keeps (pulse.worker.ensure_partitions), created the same way."""
    engine = create_async_engine(settings.database_url)
    try:
        async with engine.begin() as conn:
            await partitions.ensure_months(conn, partitions.window(datetime.now(UTC), MAX_AGE))
    finally:
        await engine.dispose()


def copy(metadata: MetaData, *, without: str | None = None) -> MetaData:
    result = MetaData()
    for table in metadata.sorted_tables:
        if table.name != without:
            table.to_metadata(result)
    return result


async def test_the_migrations_build_the_declared_tables(settings):
    assert await diff(settings) == []


async def test_they_still_agree_once_the_worker_made_its_partitions(settings):
    await create_partitions(settings)
    assert await diff(settings) == []


async def test_the_comparison_sees_a_model_change_without_its_migration(settings):
    """The check can fail: a column and a table only the metadata has, and a table only the
    migrations have, each show up."""
    changed = copy(Base.metadata)
    changed.tables["projects"].append_column(Column("throwaway", Text))
    Table("throwaway_table", changed, Column("id", Integer, primary_key=True))
    found = {(op[0], op[2], op[3].name) if op[0] == "add_column" else (op[0], op[1].name)
             for op in await diff(settings, changed)}
    assert found == {("add_column", "projects", "throwaway"), ("add_table", "throwaway_table")}

    missing = await diff(settings, copy(Base.metadata, without="daily_rollups"))
    assert ("remove_table", "daily_rollups") in {(op[0], op[1].name) for op in missing if isinstance(op, tuple)}
