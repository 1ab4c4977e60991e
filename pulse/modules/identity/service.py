"""Identity's read side: profiles, aliases, the identity graph, accounts and account analytics.

Everything is read from what ingestion stored for `identify` calls (pulse.modules.identity.payloads)
and, for account analytics and a profile's timeline, from the sessions, pageviews and events of
the visitors concerned. Every statement is scoped by the project. Services never commit.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from pyroaring import BitMap
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from pulse import errors
from pulse.query.dates import DayRange
from pulse.query.report import doc
from pulse.query.rollups import load

DEFAULT_GRAPH_LIMIT = 100
MAX_GRAPH_LIMIT = 1000
DEFAULT_TIMELINE_SESSIONS = 20
MAX_TIMELINE_SESSIONS = 100
MAX_TIMELINE_ITEMS = 1000  # pageviews and events of the sessions shown, newest first
MAX_SEARCH_CHARS = 200
SITE = ""  # the rollups' whole-site dimension


def not_found(noun: str, value: str) -> errors.NotFound:
    return errors.NotFound(f"{noun} '{value}' not found.")


# -- profiles --------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class AccountMembership:
    account_id: str
    role: str | None
    last_seen_at: datetime


@dataclass(frozen=True, slots=True)
class Profile:
    visitor_id: str
    user_id: str | None
    traits: dict[str, Any]
    first_seen_at: datetime
    last_seen_at: datetime
    accounts: list[AccountMembership] = field(default_factory=list)


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _search(search: str | None) -> tuple[str, dict[str, Any]]:
    """The profile list's `search`: a case-insensitive substring of the visitor id, the user id or
    any top-level trait value (numbers and booleans as their JSON text); `key:value` (the key
    exactly, the value as a substring) looks in one trait only."""
    if search is None or not search.strip():
        return "", {}
    search = search.strip()
    if len(search) > MAX_SEARCH_CHARS:
        raise errors.BadRequest(f"Invalid parameter: 'search' must be at most {MAX_SEARCH_CHARS} characters.")
    key, sep, value = search.partition(":")
    if sep and key and value:
        return (" AND (traits ->> :key) ILIKE :pattern ESCAPE '\\'",
                {"key": key, "pattern": f"%{_escape_like(value)}%"})
    return (" AND (visitor_id ILIKE :pattern ESCAPE '\\' OR user_id ILIKE :pattern ESCAPE '\\' "
            "OR EXISTS (SELECT 1 FROM jsonb_each_text(traits) AS t(k, v) WHERE t.v ILIKE :pattern ESCAPE '\\'))",
            {"pattern": f"%{_escape_like(search)}%"})


async def profiles(*, session: AsyncSession, project_id: UUID, limit: int, offset: int,
                   search: str | None = None) -> tuple[list[Profile], int]:
    """One page of the project's profiles, most recently seen first, and how many match."""
    where, params = _search(search)
    params |= {"p": project_id, "limit": limit, "offset": offset}
    records = (await session.execute(text(
        "SELECT visitor_id, user_id, traits, first_seen_at, last_seen_at, count(*) OVER () AS total "
        f"FROM identity_profiles WHERE project_id = :p{where} "
        "ORDER BY last_seen_at DESC, visitor_id LIMIT :limit OFFSET :offset"), params)).all()
    if records:
        return [Profile(*r[:5]) for r in records], records[0].total
    if offset == 0:
        return [], 0
    total = (await session.execute(text(f"SELECT count(*) FROM identity_profiles WHERE project_id = :p{where}"),
                                   params)).scalar_one()
    return [], total


async def profile(*, session: AsyncSession, project_id: UUID, visitor_id: str) -> Profile:
    """One profile with its accounts (most recently seen first), or 404."""
    records = (await session.execute(text(
        "SELECT p.visitor_id, p.user_id, p.traits, p.first_seen_at, p.last_seen_at, "
        "m.account_id, m.role, m.last_seen_at AS member_seen FROM identity_profiles p "
        "LEFT JOIN account_members m ON m.project_id = p.project_id AND m.visitor_id = p.visitor_id "
        "WHERE p.project_id = :p AND p.visitor_id = :v ORDER BY m.last_seen_at DESC, m.account_id"),
        {"p": project_id, "v": visitor_id})).all()
    if not records:
        raise not_found("Profile", visitor_id)
    accounts = [AccountMembership(r.account_id, r.role, r.member_seen) for r in records if r.account_id is not None]
    return Profile(*records[0][:5], accounts=accounts)


@dataclass(frozen=True, slots=True)
class UserAlias:
    visitor_id: str
    created_at: datetime = doc("When an identify first linked the visitor to the user.")


async def aliases(*, session: AsyncSession, project_id: UUID, user_id: str, limit: int, offset: int
                  ) -> tuple[list[UserAlias], int]:
    """Every visitor id ever linked to `user_id`, oldest link first; 404 for a user never identified."""
    records = (await session.execute(text(
        "SELECT visitor_id, created_at, count(*) OVER () AS total FROM identity_aliases "
        "WHERE project_id = :p AND user_id = :u ORDER BY created_at, visitor_id LIMIT :limit OFFSET :offset"),
        {"p": project_id, "u": user_id, "limit": limit, "offset": offset})).all()
    if records:
        return [UserAlias(r.visitor_id, r.created_at) for r in records], records[0].total
    total = (await session.execute(text(
        "SELECT count(*) FROM identity_aliases WHERE project_id = :p AND user_id = :u"),
        {"p": project_id, "u": user_id})).scalar_one()
    if total == 0:
        raise not_found("User", user_id)
    return [], total


# -- timeline --------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class TimelineItem:
    kind: str = doc("pageview or event.")
    ts: datetime
    path: str | None
    name: str | None = doc("The event's name (events only).")


@dataclass(frozen=True, slots=True)
class TimelineSession:
    id: str
    started_at: datetime
    ended_at: datetime
    entry_path: str | None
    pageviews: int
    events: int
    duration: int = doc("Seconds between the session's first and last activity.")
    activity: list[TimelineItem] = doc("Its pageviews and events, newest first.")


async def timeline(*, session: AsyncSession, project_id: UUID, visitor_id: str,
                   limit: int = DEFAULT_TIMELINE_SESSIONS) -> list[TimelineSession]:
    """The visitor's latest `limit` sessions, newest first, each with its pageviews and events
    (at most MAX_TIMELINE_ITEMS in all). Two statements, both on indexes: sessions by
    (project, visitor_no, ended_at), then pageviews and events by (project, session_id)."""
    if not 1 <= limit <= MAX_TIMELINE_SESSIONS:
        raise errors.BadRequest(f"Invalid parameter: 'limit' must be between 1 and {MAX_TIMELINE_SESSIONS}.")
    found = (await session.execute(text(
        "SELECT s.id, s.started_at, s.ended_at, s.entry_path, s.pageviews, s.events, s.duration "
        "FROM visitors v JOIN sessions s ON s.project_id = v.project_id AND s.visitor_no = v.visitor_no "
        "WHERE v.project_id = :p AND v.visitor_id = :v ORDER BY s.ended_at DESC LIMIT :limit"),
        {"p": project_id, "v": visitor_id, "limit": limit})).all()
    if not found:
        return []
    ids = [r.id for r in found]
    since = min(r.started_at for r in found)
    items = (await session.execute(text(
        "(SELECT 'pageview' AS kind, session_id, ts, path, NULL AS name FROM pageviews "
        " WHERE project_id = :p AND session_id = ANY(:ids) AND ts >= :since) UNION ALL "
        "(SELECT 'event', session_id, ts, path, name FROM events "
        " WHERE project_id = :p AND session_id = ANY(:ids) AND ts >= :since) "
        "ORDER BY ts DESC, kind LIMIT :items"),
        {"p": project_id, "ids": ids, "since": since, "items": MAX_TIMELINE_ITEMS})).all()
    by_session: dict[Any, list[TimelineItem]] = {i: [] for i in ids}
    for r in items:
        by_session[r.session_id].append(TimelineItem(r.kind, r.ts, r.path, r.name))
    return [TimelineSession(str(r.id), r.started_at, r.ended_at, r.entry_path, r.pageviews, r.events, r.duration,
                            by_session[r.id]) for r in found]


# -- the identity graph ----------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class IdentityNode:
    id: str = doc("`<type>:<key>`, unique in the graph.")
    type: str = doc("visitor, user or account.")
    key: str = doc("The visitor id, user id or account id.")


@dataclass(frozen=True, slots=True)
class IdentityEdge:
    type: str = doc("alias (user to each visitor ever linked), identify (visitor to the user its profile "
                    "names now) or membership (visitor to account).")
    source: str
    target: str
    role: str | None = doc("The member's role (membership edges).")


@dataclass(frozen=True, slots=True)
class IdentityGraph:
    nodes: list[IdentityNode]
    edges: list[IdentityEdge]
    truncated: bool = doc("True when `limit` stopped the expansion before every reachable node was added.")


def node_id(kind: str, key: str) -> str:
    return f"{kind}:{key}"


# One statement per breadth-first level: every edge touching the level's visitors, users and accounts.
_LEVEL = text(
    "SELECT 'alias' AS type, 'user' AS source_type, user_id AS source, visitor_id AS target, NULL AS role "
    "FROM identity_aliases WHERE project_id = :p AND (visitor_id = ANY(:v) OR user_id = ANY(:u)) "
    "UNION ALL SELECT 'identify', 'visitor', visitor_id, user_id, NULL FROM identity_profiles "
    "WHERE project_id = :p AND user_id IS NOT NULL AND (visitor_id = ANY(:v) OR user_id = ANY(:u)) "
    "UNION ALL SELECT 'membership', 'visitor', visitor_id, account_id, role FROM account_members "
    "WHERE project_id = :p AND (visitor_id = ANY(:v) OR account_id = ANY(:a))")
# Which of the start nodes exist.
_STARTS = text(
    "SELECT 'visitor' AS type, visitor_id AS key FROM identity_profiles WHERE project_id = :p AND visitor_id = ANY(:v) "
    "UNION SELECT 'visitor', visitor_id FROM account_members WHERE project_id = :p AND visitor_id = ANY(:v) "
    "UNION SELECT 'user', user_id FROM identity_aliases WHERE project_id = :p AND user_id = ANY(:u) "
    "UNION SELECT 'account', account_id FROM identity_accounts WHERE project_id = :p AND account_id = ANY(:a)")
_NOUNS = {"visitor": "Profile", "user": "User", "account": "Account"}
_TARGET_TYPE = {"alias": "visitor", "identify": "user", "membership": "account"}


async def graph(*, session: AsyncSession, project_id: UUID, visitor_ids: list[str], user_ids: list[str],
                account_ids: list[str], limit: int = DEFAULT_GRAPH_LIMIT) -> IdentityGraph:
    """The nodes reachable from the start nodes, breadth first, up to `limit` nodes, and every edge
    between the nodes returned. One statement per level (plus one to check the start nodes exist);
    an unknown start node is a 404, no start node a 400."""
    if not (visitor_ids or user_ids or account_ids):
        raise errors.BadRequest("Invalid parameters: give at least one of 'visitor_id', 'user_id' or 'account_id'.")
    if not 1 <= limit <= MAX_GRAPH_LIMIT:
        raise errors.BadRequest(f"Invalid parameter: 'limit' must be between 1 and {MAX_GRAPH_LIMIT}.")
    starts = [("visitor", v) for v in dict.fromkeys(visitor_ids)] + [("user", u) for u in dict.fromkeys(user_ids)]
    starts += [("account", a) for a in dict.fromkeys(account_ids)]
    if len(starts) > limit:
        raise errors.BadRequest(f"Invalid parameters: {len(starts)} start nodes exceed 'limit' ({limit}).")
    present = {(r.type, r.key) for r in await session.execute(
        _STARTS, {"p": project_id, "v": visitor_ids, "u": user_ids, "a": account_ids})}
    for kind, key in starts:
        if (kind, key) not in present:
            raise not_found(_NOUNS[kind], key)

    nodes: dict[str, IdentityNode] = {}
    edges: dict[tuple, IdentityEdge] = {}
    frontier: deque[IdentityNode] = deque()
    for kind, key in starts:
        nodes[node_id(kind, key)] = node = IdentityNode(node_id(kind, key), kind, key)
        frontier.append(node)
    truncated = False
    while frontier:
        keys: dict[str, list[str]] = {"visitor": [], "user": [], "account": []}
        for node in frontier:
            keys[node.type].append(node.key)
        level = sorted((await session.execute(
            _LEVEL, {"p": project_id, "v": keys["visitor"], "u": keys["user"], "a": keys["account"]})).all(),
            key=lambda r: (r.type, r.source, r.target))
        frontier = deque()
        for r in level:
            ends = (IdentityNode(node_id(r.source_type, r.source), r.source_type, r.source),
                    IdentityNode(node_id(_TARGET_TYPE[r.type], r.target), _TARGET_TYPE[r.type], r.target))
            for end in ends:
                if end.id not in nodes:
                    if len(nodes) >= limit:
                        truncated = True
                        break
                    nodes[end.id] = end
                    frontier.append(end)
            else:
                edges[(r.type, ends[0].id, ends[1].id)] = IdentityEdge(r.type, ends[0].id, ends[1].id, r.role)
    return IdentityGraph(list(nodes.values()), list(edges.values()), truncated)


# -- accounts --------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Account:
    account_id: str
    traits: dict[str, Any]
    members: int = doc("Visitors attached to the account.")
    first_seen_at: datetime
    last_seen_at: datetime


@dataclass(frozen=True, slots=True)
class Member:
    visitor_id: str
    user_id: str | None
    role: str | None
    last_seen_at: datetime


_ACCOUNT = ("SELECT a.account_id, a.traits, (SELECT count(*) FROM account_members m WHERE m.project_id = a.project_id "
            "AND m.account_id = a.account_id) AS members, a.first_seen_at, a.last_seen_at FROM identity_accounts a ")


async def accounts(*, session: AsyncSession, project_id: UUID, limit: int, offset: int) -> tuple[list[Account], int]:
    """One page of the project's accounts, most recently seen first, with their member counts."""
    records = (await session.execute(text(
        f"{_ACCOUNT}WHERE a.project_id = :p ORDER BY a.last_seen_at DESC, a.account_id LIMIT :limit OFFSET :offset"),
        {"p": project_id, "limit": limit, "offset": offset})).all()
    if records and offset == 0 and len(records) < limit:
        return [Account(*r) for r in records], len(records)
    total = (await session.execute(text("SELECT count(*) FROM identity_accounts WHERE project_id = :p"),
                                   {"p": project_id})).scalar_one()
    return [Account(*r) for r in records], total


async def account(*, session: AsyncSession, project_id: UUID, account_id: str) -> Account:
    """One account with its merged traits, or 404."""
    record = (await session.execute(text(f"{_ACCOUNT}WHERE a.project_id = :p AND a.account_id = :a"),
                                    {"p": project_id, "a": account_id})).one_or_none()
    if record is None:
        raise not_found("Account", account_id)
    return Account(*record)


async def members(*, session: AsyncSession, project_id: UUID, account_id: str, limit: int, offset: int
                  ) -> tuple[list[Member], int]:
    """One page of an account's members, most recently seen first; 404 for an unknown account."""
    records = (await session.execute(text(
        "SELECT m.visitor_id, m.user_id, m.role, m.last_seen_at, count(*) OVER () AS total "
        "FROM account_members m WHERE m.project_id = :p AND m.account_id = :a "
        "ORDER BY m.last_seen_at DESC, m.visitor_id LIMIT :limit OFFSET :offset"),
        {"p": project_id, "a": account_id, "limit": limit, "offset": offset})).all()
    if records:
        return [Member(*r[:4]) for r in records], records[0].total
    known = (await session.execute(text(
        "SELECT (SELECT count(*) FROM account_members WHERE project_id = :p AND account_id = :a), "
        "EXISTS (SELECT 1 FROM identity_accounts WHERE project_id = :p AND account_id = :a)"),
        {"p": project_id, "a": account_id})).one()
    if not known[1]:
        raise not_found("Account", account_id)
    return [], known[0]


@dataclass(frozen=True, slots=True)
class CurrencyRevenue:
    currency: str | None
    amount: float


@dataclass(frozen=True, slots=True)
class AccountAnalytics:
    account_id: str
    start_at: str = doc("The range's first day (the project's days).")
    end_at: str = doc("The range's last day, included.")
    members: int = doc("Visitors attached to the account (all time).")
    identified_users: int = doc("Distinct user ids among the members (all time).")
    active_members: int = doc("Members with a pageview or event in the range.")
    sessions: int = doc("The members' sessions (with a pageview) that began in the range.")
    pageviews: int
    events: int
    revenue: float = doc("Sum of the members' events' revenue_amount in the range, every currency together.")
    revenue_by_currency: list[CurrencyRevenue]


# The members, as visitor numbers (the rollups' and sessions' key).
_MEMBERS = text(
    "SELECT count(*) AS members, count(DISTINCT m.user_id) AS users, "
    "coalesce(array_agg(v.visitor_no) FILTER (WHERE v.visitor_no IS NOT NULL), '{}') AS nos "
    "FROM account_members m LEFT JOIN visitors v ON v.project_id = m.project_id AND v.visitor_id = m.visitor_id "
    "WHERE m.project_id = :p AND m.account_id = :a")

# The members' activity in [start, end): sessions come whole from their counters when they lie
# inside the range, and only sessions crossing a bound have their pageviews and events counted
# row by row; revenue reads the events of sessions that have any. Every lookup is on an index:
# sessions by (project, visitor_no, ended_at), pageviews and events by (project, session_id), with
# `ts` bounds that prune partitions.
ANALYTICS = text(
    "WITH s AS MATERIALIZED (SELECT id, started_at, ended_at, pageviews, events FROM sessions "
    " WHERE project_id = :p AND visitor_no = ANY(:nos) AND ended_at >= :start AND started_at < :end), "
    "edge AS MATERIALIZED (SELECT id FROM s WHERE started_at < :start OR ended_at >= :end), "
    "money AS (SELECT revenue_currency AS currency, sum(revenue_amount) AS amount FROM events "
    " WHERE project_id = :p AND session_id IN (SELECT id FROM s WHERE events > 0) AND ts >= :start AND ts < :end "
    " AND revenue_amount IS NOT NULL GROUP BY revenue_currency) "
    "SELECT (SELECT count(*) FROM s WHERE started_at >= :start AND pageviews > 0) AS sessions, "
    "(SELECT coalesce(sum(pageviews), 0) FROM s WHERE started_at >= :start AND ended_at < :end) "
    " + (SELECT count(*) FROM pageviews WHERE project_id = :p AND session_id IN (SELECT id FROM edge) "
    "    AND ts >= :start AND ts < :end) AS pageviews, "
    "(SELECT coalesce(sum(events), 0) FROM s WHERE started_at >= :start AND ended_at < :end) "
    " + (SELECT count(*) FROM events WHERE project_id = :p AND session_id IN (SELECT id FROM edge) "
    "    AND ts >= :start AND ts < :end) AS events, "
    "(SELECT coalesce(json_agg(json_build_array(currency, amount) ORDER BY currency NULLS FIRST), '[]') "
    " FROM money) AS revenue")


async def analytics(*, session: AsyncSession, project_id: UUID, timezone: str | None, account_id: str,
                    days: DayRange) -> AccountAnalytics:
    """The account's members and their activity over `days`, exact.

    Three statements: the members' visitor numbers; the whole-site daily rollups of the range,
    whose visitor bitmaps say which members were active (so only their sessions are read); and
    ANALYTICS over those members' sessions."""
    members_row = (await session.execute(_MEMBERS, {"p": project_id, "a": account_id})).one()
    if members_row.members == 0 and not (await session.execute(text(
            "SELECT EXISTS (SELECT 1 FROM identity_accounts WHERE project_id = :p AND account_id = :a)"),
            {"p": project_id, "a": account_id})).scalar_one():
        raise not_found("Account", account_id)
    result = dict(account_id=account_id, start_at=days.first.isoformat(), end_at=days.last.isoformat(),
                  members=members_row.members, identified_users=members_row.users)
    empty = dict(active_members=0, sessions=0, pageviews=0, events=0, revenue=0.0, revenue_by_currency=[])
    if not members_row.nos:
        return AccountAnalytics(**result, **empty)
    (site,) = await load(session, project_id, [(SITE, days.first, days.last)])
    active = BitMap(members_row.nos) & (BitMap.union(*(row.visitors for row in site)) if site else BitMap())
    if not active:
        return AccountAnalytics(**result, **empty)
    start, end = days.bounds(timezone)
    r = (await session.execute(ANALYTICS, {"p": project_id, "nos": list(active), "start": start, "end": end})).one()
    by_currency = [CurrencyRevenue(currency, float(Decimal(str(amount)))) for currency, amount in r.revenue]
    return AccountAnalytics(**result, active_members=len(active), sessions=r.sessions, pageviews=r.pageviews,
                            events=r.events, revenue=round(sum(x.amount for x in by_currency), 4),
                            revenue_by_currency=by_currency)
