"""Web vitals' payload type: web_vital.

  web_vital        WebVitalData. `name` one of LCP, FCP, CLS, INP, TTFB (any case, stored
                   uppercase); `value` a number >= 0; `rating` good / needs-improvement / poor,
                   computed from the web.dev thresholds when absent; `navigation_type`, `id`.
"""

from __future__ import annotations

from typing import Any, Final

import msgspec

from pulse.ingest.fields import missing, must, number, opt_str
from pulse.ingest.sinks import Copy
from pulse.modules.module import Payload


class WebVitalData(msgspec.Struct, tag="web_vital", tag_field="kind", gc=False):
    name: str
    value: float
    rating: str
    navigation_type: str | None = None
    id: str | None = None


_VITAL_THRESHOLDS: Final = {  # web.dev: good <= first, poor > second
    "LCP": (2500, 4000), "FCP": (1800, 3000), "CLS": (0.1, 0.25), "INP": (200, 500), "TTFB": (800, 1800),
}
_RATINGS: Final = {"good": "good", "needs-improvement": "needs-improvement", "needs_improvement": "needs-improvement",
                   "poor": "poor"}


def parse_web_vital(d: dict[str, Any]) -> WebVitalData:
    name = d.get("name")
    if name is None:
        raise missing("name")
    if type(name) is not str or (name := name.upper()) not in _VITAL_THRESHOLDS:
        raise must("name", "one of LCP, FCP, CLS, INP, TTFB")
    value = d.get("value")
    if value is None:
        raise missing("value")
    value = float(number(value, "value", 0, 1_000_000_000))
    rating = d.get("rating")
    if rating is None or rating == "":
        good, poor = _VITAL_THRESHOLDS[name]
        rating = "good" if value <= good else "needs-improvement" if value <= poor else "poor"
    elif type(rating) is not str or (rating := _RATINGS.get(rating.lower())) is None:
        raise must("rating", "one of good, needs-improvement, poor")
    return WebVitalData(name, value, rating, opt_str(d, "navigation_type", 50), opt_str(d, "id", 200))


WEB_VITALS = Copy("web_vitals", ("name", "value", "rating", "browser", "device", "country"),
                  lambda r, _: (r.data.name, r.data.value, r.data.rating, r.browser, r.device, r.country))

PAYLOADS = (Payload("web_vital", parse_web_vital, WebVitalData, sink=WEB_VITALS),)
