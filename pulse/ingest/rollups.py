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
    # Each counter of each row broken down by session (pulse.ingest.sessionsets): the change per
    # session id, and the sessions, whose numbers storage assigns once the batch is sessionized.
    per_session: dict[tuple[Key, str], dict] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    sessions: dict = field(default_factory=dict)

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

    def _per(self, key: Key, counter: str, session: Session, amount: int) -> None:
        if amount:
            self.sessions[session.id] = session
            self.per_session[(key, counter)][session.id] += amount

    def session_values(self) -> dict[tuple[Key, str], dict[int, int]]:
        """The per-session changes by session number (every session numbered by now)."""
        self._expand_pageviews()
        return {target: {self.sessions[sid].no: amount for sid, amount in changes.items()}
                for target, changes in self.per_session.items()}

    def pageview(self, ts: datetime, visitor_no: int, path: str | None, hostname: str | None,
                 session: Session) -> None:
        key = (self.day(ts), tuple(map(session.attrs.get, ORIGIN)), path, hostname)
        group = self._pageviews.get(key)
        if group is None:
            group = self._pageviews[key] = [0, set(), defaultdict(int)]
        group[0] += 1
        group[1].add(visitor_no)
        group[2][session.id] += 1
        self.sessions[session.id] = session

    def _expand_pageviews(self) -> None:
        for (day, origin, path, hostname), (count, visitors, sessions) in self._pageviews.items():
            dims = [SITE, *origin_values(dict(zip(ORIGIN, origin, strict=True)))]
            if path is not None:
                dims.append(("path", path))
            if hostname is not None:
                dims.append(("hostname", hostname))
            for dim, value in dims:
                key = (day, dim, value)
                self.counters[key][_INDEX["pageviews"]] += count
                self.visitors[key] |= visitors
                changes = self.per_session[(key, "pageviews")]
                for sid, views in sessions.items():
                    changes[sid] += views
        self._pageviews.clear()

    def event(self, ts: datetime, visitor_no: int, name: str, session: Session) -> None:
        day = self.day(ts)
        for key in ((day, *SITE), (day, "event", name)):
            self._add(key, "events", 1)
            self._per(key, "events", session, 1)
        self.visitors[(day, "event", name)].add(visitor_no)
        self.visitors[(day, *SITE)].add(visitor_no)

    def page_time(self, page: PageTime, session: Session) -> None:
        if page.path is None or page.seconds < 0:
            return
        key = (self.day(page.ts), "path", page.path)
        self._add(key, "time_on_page", page.seconds)
        self._add(key, "time_on_page_views", 1)
        self._per(key, "time_on_page", session, page.seconds)
        self._per(key, "time_on_page_views", session, 1)

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
            self._per(key, "sessions", session, sign)
        # A session's bounce and duration are its own: the site row holds them, other rows intersect.
        self._per((day, *SITE), "bounces", session, sign * int(session.is_bounce))
        self._per((day, *SITE), "duration", session, sign * session.duration)
        self._per((day, *SITE), "session_pageviews", session, sign * session.pageviews)

    def keys(self) -> set[Key]:
        self._expand_pageviews()
        return set(self.counters) | set(self.visitors)
