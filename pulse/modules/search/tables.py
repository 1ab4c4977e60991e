"""Site search's collected table."""

from __future__ import annotations

from sqlalchemy import Column, Integer, Text

from pulse.ingest.tables import collected

search_queries = collected("search_queries", Column("query", Text, nullable=False),
                           Column("results_count", Integer))

TABLES = (search_queries,)
