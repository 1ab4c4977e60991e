"""Sessions: a visitor's activity with no gap longer than 30 minutes.

An activity joins the visitor's session whose [start - 30 min, end + 30 min] window holds
its timestamp, so out-of-order and backfilled activity extends a session (earlier start,
different entry page) instead of splitting it; otherwise it starts a new session. A client
`session_id` names the session outright. The first pageview's attributes (source, UTM,
device, geo) are the session's.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from uuid import UUID

TIMEOUT = timedelta(minutes=30)
_CLIENT_NAMESPACE = uuid.UUID("6f1c2a4e-8d0b-4c55-9a77-3e1f0b2d9c11")

ATTRIBUTES = ("hostname", "referrer", "source", "channel", "utm_source", "utm_medium", "utm_campaign",
              "utm_content", "utm_term", "country", "region", "city", "browser", "os", "device")


@dataclass(slots=True)
class Session:
    id: UUID
    visitor_no: int
    started_at: datetime
    ended_at: datetime
    entry_path: str | None
    exit_path: str | None
    pageviews: int
    events: int
    attrs: dict[str, str | None]
    # The latest pageview (ts, path), to credit time on page when the next one arrives.
    last_page: tuple[datetime, str | None] | None = None
    first_page_ts: datetime | None = None
    no: int = 0  # the session's number in its project (pulse.ingest.sessionsets); 0 until storage numbers it

    @property
    def duration(self) -> int:
        return int((self.ended_at - self.started_at).total_seconds())

    @property
    def is_bounce(self) -> bool:
        return self.pageviews <= 1

    def copy(self) -> Session:
        return replace(self, attrs=dict(self.attrs))

    def covers(self, ts: datetime) -> bool:
        return self.started_at - TIMEOUT <= ts <= self.ended_at + TIMEOUT


def client_session_uuid(project_id: UUID, visitor_no: int, client_id: str) -> UUID:
    """A client's session id names a session of that visitor only (two devices may reuse one)."""
    return uuid.uuid5(_CLIENT_NAMESPACE, f"{project_id}:{visitor_no}:{client_id}")


@dataclass(slots=True)
class Activity:
    """A pageview, event or engagement ping, as sessionization sees it."""

    ts: datetime
    visitor_no: int
    is_pageview: bool
    is_event: bool
    path: str | None
    attrs: tuple[str | None, ...]  # values of ATTRIBUTES, in order
    client_session: UUID | None = None


@dataclass(slots=True)
class PageTime:
    """Time spent on a page: from its view to the next view in the same session."""

    ts: datetime
    path: str | None
    seconds: int


def apply(sessions: list[Session], activity: Activity) -> tuple[Session, PageTime | None]:
    """Attach `activity` to one of the visitor's `sessions` (mutated, or a new one appended)."""
    session = None
    if activity.client_session is not None:
        session = next((s for s in sessions if s.id == activity.client_session), None)
    else:
        candidates = [s for s in sessions if s.covers(activity.ts)]
        session = max(candidates, key=lambda s: s.ended_at) if candidates else None
    if session is None:
        session = Session(
            id=activity.client_session or uuid.uuid4(), visitor_no=activity.visitor_no,
            started_at=activity.ts, ended_at=activity.ts, entry_path=None, exit_path=None,
            pageviews=0, events=0, attrs=dict(zip(ATTRIBUTES, activity.attrs, strict=True)))
        sessions.append(session)
    page_time = None
    if activity.is_pageview:
        session.pageviews += 1
        if session.first_page_ts is None or activity.ts <= session.first_page_ts:
            # The earliest pageview, even one that arrives late, is the session's entry and origin.
            session.entry_path = activity.path
            session.first_page_ts = activity.ts
            session.attrs = dict(zip(ATTRIBUTES, activity.attrs, strict=True))
        if session.last_page is None or activity.ts >= session.last_page[0]:
            if session.last_page is not None:
                prev_ts, prev_path = session.last_page
                page_time = PageTime(prev_ts, prev_path, int((activity.ts - prev_ts).total_seconds()))
            session.last_page = (activity.ts, activity.path)
            session.exit_path = activity.path
    elif activity.is_event:
        session.events += 1
    session.started_at = min(session.started_at, activity.ts)
    session.ended_at = max(session.ended_at, activity.ts)
    return session, page_time
