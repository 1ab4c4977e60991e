"""The DSAR registry is read off the metadata: every table holding a visitor's rows is in it, and each
can find them by an index (so a module's new table is neither forgotten nor slow to delete from)."""

from __future__ import annotations

from pulse.db import Base
from pulse.ingest import sinks
from pulse.modules.installed import payloads
from pulse.privacy.registry import key_of, visitor_tables
from pulse.tables import import_all_tables

# Columns that say a row is about a person, besides the visitor columns the registry keys on.
PERSONAL = {"user_id", "session_id", "email", "emails", "user_name", "ip", "visitor"}


def indexed(table, column: str) -> bool:
    indexes = [list(i.columns.keys()) for i in table.indexes] + [list(table.primary_key.columns.keys())]
    return any(cols[:2] == ["project_id", column] for cols in indexes)


def test_every_visitor_table_finds_its_rows_by_an_index():
    for vt in visitor_tables():
        assert indexed(vt.table, vt.key), f"{vt.name}: no index on (project_id, {vt.key})"


def test_tables_found_through_sessions_hold_only_activity():
    """Rows of types that do not join sessions have no session id: their tables need the visitor index."""
    by_session = {vt.name for vt in visitor_tables() if vt.key == "session_id"}
    assert {"pageviews", "events"} <= by_session
    for typ, (_, payload) in payloads().items():
        sink = sinks.copies().get(typ)
        if sink is not None and sink.table in by_session:
            assert payload.activity, f"{typ} rows land in {sink.table} without a session: give it the visitor index"


def test_no_table_about_people_is_left_out_without_a_reason():
    import_all_tables()
    for table in Base.metadata.sorted_tables:
        if key_of(table) is None and PERSONAL & set(table.columns.keys()):
            assert table.info.get("dsar"), f"{table.name} holds people's ids but is not in the DSAR registry"


def test_visitors_come_last():
    assert visitor_tables()[-1].name == "visitors"
