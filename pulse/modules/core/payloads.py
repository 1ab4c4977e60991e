"""Core's payload types: pageview, screen, event and engagement.

  pageview         None (common fields only). It must name its page, `path` or a `url` with a
                   path (checked by pulse.ingest.payloads for every type stored as a pageview).
  screen           ScreenData. Required `name`. A mobile screen view is stored as a pageview of
                   the screen name: `path` becomes the name verbatim ("Home" stays "Home", so a
                   screen never collides with a web path such as "/Home"), `title` is the
                   explicit title or else the name.
  event            EventData. Required `name`; `data` object; `revenue_amount` a number
                   0..MAX_REVENUE kept as a Decimal; `revenue_currency` three letters,
                   uppercased, defaulting to "USD" when an amount is given. A currency without
                   an amount is ignored (both are None).
  engagement       None (common fields only). The visitor is still on `path` at `timestamp`:
                   the tracking script sends one when a page is hidden (tab switched, closed),
                   so the time spent on a session's last page counts in its duration. It
                   extends the session and is stored nowhere else; it is not an event.

All four are activity: they join and extend the visitor's session (pulse.ingest.sessionize).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final

import msgspec

from pulse.ingest.fields import freeform, must, number, req_str
from pulse.ingest.sinks import Copy, json_text
from pulse.modules.module import Payload

MAX_REVENUE: Final = 1_000_000_000_000


class ScreenData(msgspec.Struct, tag="screen", tag_field="kind", gc=False):
    name: str


class EventData(msgspec.Struct, tag="event", tag_field="kind"):
    name: str
    data: dict[str, Any]
    revenue_amount: Decimal | None = None
    revenue_currency: str | None = None


def parse_screen(d: dict[str, Any]) -> ScreenData:
    return ScreenData(req_str(d, "name", 200))


def parse_event(d: dict[str, Any]) -> EventData:
    name = req_str(d, "name", 200)
    data = freeform(d.get("data"), "data")
    amount = d.get("revenue_amount")
    if amount is None:
        return EventData(name, data)
    amount = number(amount, "revenue_amount", 0, MAX_REVENUE)
    cur = d.get("revenue_currency")
    if cur is None or cur == "":
        cur = "USD"
    elif type(cur) is not str or len(cur) != 3 or not cur.isascii() or not cur.isalpha():
        raise must("revenue_currency", "a three-letter ISO 4217 currency code")
    # repr() is the shortest text that round-trips, i.e. what the client wrote: 49.99, not 49.99000000000000198
    return EventData(name, data, Decimal(repr(amount)), cur.upper())


PAGEVIEWS = Copy(
    "pageviews",
    ("title", "referrer", "source", "channel", "utm_source", "utm_medium", "utm_campaign", "utm_content",
     "utm_term", "country", "region", "city", "browser", "os", "device", "screen", "language"),
    lambda r, _: (r.title, r.referrer, r.source, r.channel, r.utm_source, r.utm_medium, r.utm_campaign,
                  r.utm_content, r.utm_term, r.country, r.region, r.city, r.browser, r.os, r.device,
                  r.screen, r.language))
EVENTS = Copy(
    "events", ("name", "data", "revenue_amount", "revenue_currency"),
    lambda r, _: (r.data.name, json_text(r.data.data or None), r.data.revenue_amount, r.data.revenue_currency))

PAYLOADS = (
    Payload("pageview", sink=PAGEVIEWS, activity=True),
    # a mobile screen view is a pageview of the screen's name
    Payload("screen", parse_screen, ScreenData, sink=PAGEVIEWS, activity=True),
    Payload("event", parse_event, EventData, sink=EVENTS, activity=True),
    Payload("engagement", activity=True),
)
