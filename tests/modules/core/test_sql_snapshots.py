"""The SQL the reports send, kept in snapshots/ so a change to a query shows up in review.

After changing a query on purpose: `PULSE_UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/modules/core/test_sql_snapshots.py`
rewrites the snapshot files; commit them with the change.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.helpers import gql, sql_statements
from tests.modules.core.dataset import RANGE

SNAPSHOTS = Path(__file__).parent / "snapshots"
DASHBOARD = """query($s: String, $e: String, $f: [FilterInput!]) { project {
  stats(startAt: $s, endAt: $e, filters: $f) { current { pageviews visitors } }
  timeseries(startAt: $s, endAt: $e, filters: $f) { date visitors }
  pages(startAt: $s, endAt: $e, filters: $f) { data { path uniqueViews } }
  referrers(startAt: $s, endAt: $e, filters: $f) { data { source } }
  geo(startAt: $s, endAt: $e, filters: $f) { data { name } }
  realtime { activeVisitors }
} }"""
CASES = {
    "dashboard_unfiltered": [],
    "dashboard_filtered": [{"dimension": "country", "operator": "IS", "value": "US"},
                           {"dimension": "path", "operator": "CONTAINS", "value": "pric"}],
}


def _normalized(statements: list[str]) -> str:
    # The access check's lookups may or may not run (key cache); only report SQL is pinned.
    report_sql = [s for s in statements if "daily_rollups" in s or "pageviews" in s or "session" in s]
    return "\n\n".join(re.sub(r"\s+", " ", s).strip() + ";" for s in report_sql) + "\n"


@pytest.mark.parametrize("case", CASES)
async def test_report_sql_matches_its_snapshot(dataset, case):
    variables = {"s": RANGE["start_at"], "e": RANGE["end_at"], "f": CASES[case]}
    await gql(dataset["client"], DASHBOARD, variables, headers=dataset["query"])  # the key is now cached
    async with sql_statements(dataset["client"]._transport.app) as statements:
        result = await gql(dataset["client"], DASHBOARD, variables, headers=dataset["query"])
    assert "errors" not in result, result
    actual = _normalized(statements)
    snapshot = SNAPSHOTS / f"{case}.sql"
    if os.environ.get("PULSE_UPDATE_SNAPSHOTS"):
        SNAPSHOTS.mkdir(exist_ok=True)
        snapshot.write_text(actual)
    assert actual == snapshot.read_text(), f"{case}: the SQL changed; see this module's docstring"
