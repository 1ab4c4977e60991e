"""Site search's payload type: search_query.

  search_query     SearchQueryData. `query` 1..500 characters after trimming;
                   `results_count` an integer >= 0.
"""

from __future__ import annotations

from typing import Any

import msgspec

from pulse.ingest.fields import opt_int, req_str
from pulse.ingest.sinks import Copy
from pulse.modules.module import Payload


class SearchQueryData(msgspec.Struct, tag="search_query", tag_field="kind", gc=False):
    query: str
    results_count: int | None = None


def parse_search_query(d: dict[str, Any]) -> SearchQueryData:
    return SearchQueryData(req_str(d, "query", 500), opt_int(d, "results_count"))


SEARCH_QUERIES = Copy("search_queries", ("query", "results_count"),
                      lambda r, _: (r.data.query, r.data.results_count))

PAYLOADS = (Payload("search_query", parse_search_query, SearchQueryData, sink=SEARCH_QUERIES),)
