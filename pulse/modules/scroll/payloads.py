"""Scroll depth's payload type: scroll_depth.

  scroll_depth     ScrollDepthData. `max_depth` a number 0..100, stored rounded to an int.
"""

from __future__ import annotations

from typing import Any

import msgspec

from pulse.ingest.fields import missing, number
from pulse.ingest.sinks import Copy
from pulse.modules.module import Payload


class ScrollDepthData(msgspec.Struct, tag="scroll_depth", tag_field="kind", gc=False):
    max_depth: int


def parse_scroll_depth(d: dict[str, Any]) -> ScrollDepthData:
    v = d.get("max_depth")
    if v is None:
        raise missing("max_depth")
    return ScrollDepthData(round(number(v, "max_depth", 0, 100)))


SCROLL_DEPTHS = Copy("scroll_depths", ("max_depth",), lambda r, _: (r.data.max_depth,))

PAYLOADS = (Payload("scroll_depth", parse_scroll_depth, ScrollDepthData, sink=SCROLL_DEPTHS),)
