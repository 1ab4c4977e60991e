"""Validation cost of POST /api/collect bodies: pulse.ingest.payloads.parse_collect against the
bare JSON decode of the same bytes (the floor: msgspec alone), per body, in-process.

    .venv/bin/python bench/parse.py [--runs 20000]

Set PYTHONPATH to another checkout to time its parser with the same bodies.
"""

from __future__ import annotations

import argparse
import json
import timeit
from datetime import UTC, datetime

import msgspec

from pulse.ingest.payloads import parse_collect

EVENT = {"type": "event", "name": "add_to_cart", "visitor_id": "v_1", "url": "https://acme.test/p?utm_source=x",
         "data": {"sku": "A-1", "qty": 2, "price": 19.99, "tags": ["a", "b"], "id": 1234567890123}}
PAGEVIEW = {"type": "pageview", "visitor_id": "v_1", "url": "https://acme.test/pricing", "referrer": "https://google.com/"}
BODIES = {"pageview": [PAGEVIEW], "event with data": [EVENT], "batch of 100 events": [EVENT] * 100}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20000)
    runs = parser.parse_args().runs
    now = datetime.now(UTC)
    decode = msgspec.json.decode
    for name, docs in BODIES.items():
        body = json.dumps(docs if len(docs) > 1 else docs[0]).encode()
        n = max(1, runs // len(docs))
        parse = min(timeit.repeat(lambda: parse_collect(body, now=now), number=n, repeat=5)) / n  # noqa: B023
        floor = min(timeit.repeat(lambda: decode(body), number=n, repeat=5)) / n  # noqa: B023
        print(f"{name:22} parse_collect {parse * 1e6:8.1f} us   json decode alone {floor * 1e6:7.1f} us")


if __name__ == "__main__":
    main()
