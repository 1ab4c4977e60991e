"""Heatmaps' payload type: click_event.

  click_event      ClickData. Required `x`, `y` numbers >= 0; `element_selector`,
                   `element_text` (at most 200 characters); `viewport_width`,
                   `viewport_height`, `page_width`, `page_height` integers >= 0.
"""

from __future__ import annotations

from typing import Any

import msgspec

from pulse.ingest.fields import INT32, missing, number, opt_int, opt_str
from pulse.ingest.sinks import Copy
from pulse.modules.module import Payload


class ClickData(msgspec.Struct, tag="click_event", tag_field="kind", gc=False):
    x: float
    y: float
    element_selector: str | None = None
    element_text: str | None = None
    viewport_width: int | None = None
    viewport_height: int | None = None
    page_width: int | None = None
    page_height: int | None = None


def parse_click(d: dict[str, Any]) -> ClickData:
    x, y = d.get("x"), d.get("y")
    if x is None:
        raise missing("x")
    if y is None:
        raise missing("y")
    return ClickData(
        float(number(x, "x", 0, INT32)), float(number(y, "y", 0, INT32)),
        opt_str(d, "element_selector", 1024), opt_str(d, "element_text", 200),
        opt_int(d, "viewport_width"), opt_int(d, "viewport_height"),
        opt_int(d, "page_width"), opt_int(d, "page_height"),
    )


CLICK_EVENTS = Copy(
    "click_events", ("x", "y", "element_selector", "element_text", "viewport_width", "viewport_height",
                     "page_width", "page_height"),
    lambda r, _: (r.data.x, r.data.y, r.data.element_selector, r.data.element_text, r.data.viewport_width,
                  r.data.viewport_height, r.data.page_width, r.data.page_height))

PAYLOADS = (Payload("click_event", parse_click, ClickData, sink=CLICK_EVENTS),)
