"""Daily rollups, kept by the writer as it writes (never by a long job afterwards).

A batch turns into deltas per (day, dimension, value): counters to add, and visitor numbers
to OR into that row's roaring bitmap. Days are the project's days (its time zone). Pageviews
count under the page's own dimensions (path, hostname) and under its session's origin
(source, channel, UTM, geo, device), so a session's pageviews all credit where it came from.
Sessions count on their first day, under their origin and entry page; when a batch changes a
session, the session's old contribution is taken back and its new one added.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from pulse.ingest.sessionize import PageTime, Session

# Session origin dimensions: each pageview and session is credited to its session's values.
ORIGIN = ("source", "channel", "utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term",
          "country", "region", "city", "browser", "os", "device")
SITE = ("", "")  # the whole-site row
COUNTERS = ("pageviews", "sessions", "bounces", "duration", "events", "time_on_page", "time_on_page_views")
_INDEX = {name: i for i, name in enumerate(COUNTERS)}

Key = tuple[date, str, str]


@lru_cache(maxsize=1024)
def zone(name: str | None) -> ZoneInfo:
    return ZoneInfo(name or "UTC")  # a project without a zone counts UTC's days, as its reports do


def local_day(ts: datetime, tz: str) -> date:
    return ts.astimezone(zone(tz)).date()


def origin_values(attrs: dict[str, str | None]) -> list[tuple[str, str]]:
    values = [(dim, attrs.get(dim)) for dim in ORIGIN]
    # Direct traffic has no source: it is counted under "" (shown as "(direct)").
    return [(dim, value if value is not None else "") for dim, value in values
            if value is not None or dim == "source"]


@dataclass
class Deltas:
    tz: str
    counters: dict[Key, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0] * len(COUNTERS)))
    visitors: dict[Key, set[int]] = field(default_factory=lambda: defaultdict(set))
    # Pageviews grouped by everything their rollup rows depend on, expanded once per group.
    _pageviews: dict[tuple, list] = field(default_factory=dict)
    _days: dict[int, date] = field(default_factory=dict)

    def day(self, ts: datetime) -> date:
        """The local day, computed once per minute of timestamps (zone offsets are whole minutes)."""
        minute = int(ts.timestamp()) // 60
        day = self._days.get(minute)
        if day is None:
            day = self._days[minute] = local_day(ts, self.tz)
        return day

    def _add(self, key: Key, counter: str, amount: int) -> None:
        if amount:
            self.counters[key][_INDEX[counter]] += amount

    def pageview(self, ts: datetime, visitor_no: int, path: str | None, hostname: str | None,
                 session: Session) -> None:
        key = (self.day(ts), tuple(map(session.attrs.get, ORIGIN)), path, hostname)
        group = self._pageviews.get(key)
        if group is None:
            group = self._pageviews[key] = [0, set()]
        group[0] += 1
        group[1].add(visitor_no)

    def _expand_pageviews(self) -> None:
        for (day, origin, path, hostname), (count, visitors) in self._pageviews.items():
            dims = [SITE, *origin_values(dict(zip(ORIGIN, origin, strict=True)))]
            if path is not None:
                dims.append(("path", path))
            if hostname is not None:
                dims.append(("hostname", hostname))
            for dim, value in dims:
                key = (day, dim, value)
                self.counters[key][_INDEX["pageviews"]] += count
                self.visitors[key] |= visitors
        self._pageviews.clear()

    def event(self, ts: datetime, visitor_no: int, name: str) -> None:
        day = self.day(ts)
        for key in ((day, *SITE), (day, "event", name)):
            self._add(key, "events", 1)
        self.visitors[(day, "event", name)].add(visitor_no)
        self.visitors[(day, *SITE)].add(visitor_no)

    def page_time(self, page: PageTime) -> None:
        if page.path is None or page.seconds < 0:
            return
        key = (self.day(page.ts), "path", page.path)
        self._add(key, "time_on_page", page.seconds)
        self._add(key, "time_on_page_views", 1)

    def session(self, session: Session, sign: int) -> None:
        """Add (sign=1) or take back (sign=-1) a session's contribution."""
        if session.pageviews == 0:
            return  # event-only activity is not a visit until it has a pageview
        day = self.day(session.started_at)
        dims = [SITE, *origin_values(session.attrs)]
        if session.entry_path is not None:
            dims.append(("entry_path", session.entry_path))
        if session.exit_path is not None:
            dims.append(("exit_path", session.exit_path))
        for dim, value in dims:
            key = (day, dim, value)
            self._add(key, "sessions", sign)
            self._add(key, "bounces", sign * int(session.is_bounce))
            self._add(key, "duration", sign * session.duration)

    def keys(self) -> set[Key]:
        self._expand_pageviews()
        return set(self.counters) | set(self.visitors)
