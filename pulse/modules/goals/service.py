"""Saved goals and their conversions over a range. Plain async functions; the caller commits.

A goal is a name, a `goal_type` and that type's `config`, checked when it is saved and stored as
sent. Each type is a rule object in GOAL_TYPES: the config keys it needs and takes, and how its
conversions are counted:

- pageview: pageviews of `config.path` (exact; a path ending in `*` matches every path that starts
  with what comes before it), from the daily rollups' path rows and their visitor bitmaps;
- event: events named `config.event_name`; without a condition from the rollups' event rows, with
  one (`config.condition`, one condition of pulse.conditions on the event) from the raw events;
  the revenue of the events counted, from the raw events, in either case;
- duration / pages_per_session: sessions that began in the range lasting `threshold_seconds` or
  more / viewing `threshold` pages or more, from the raw sessions.

`conversion_rate` is the converting visitors per 100 of the range's visitors (the union of the
whole-site rollup bitmaps of its days: whoever viewed a page or sent an event).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

from pydantic import field_validator
from pyroaring import BitMap
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from pulse import conditions, errors
from pulse.auth import ProjectAccess
from pulse.definitions import BodyModel, Definitions, validated
from pulse.definitions import has_nul as _has_nul
from pulse.definitions import kind as _kind
from pulse.definitions import shown as _shown
from pulse.graphql.paging import Window
from pulse.limits import MAX_KEY_BYTES
from pulse.modules.goals.tables import Goal
from pulse.query import rollups, sessionsets, visitorsets
from pulse.query.dates import DayRange
from pulse.query.report import doc
from pulse.query.rounding import percent
from pulse.query.visitorsets import _json_path, _Query, _sql_test

GOALS = Definitions(Goal, noun="Goal")

MAX_NAME = 200
MAX_THRESHOLD = 2**31 - 1  # sessions' duration and pageviews are 32-bit integers
NUL = "Invalid request body: text may not contain NUL characters."
CONDITION_KEYS = ("field", "op", "value")


# -- bodies ----------------------------------------------------------------------------------

def _text(value: str, *, low: int, high: int) -> str:
    value = value.strip()
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    if not low <= len(value) <= high:
        raise ValueError(f"must have {low} to {high} characters, got {len(value)}")
    return value


class GoalIn(BodyModel):
    name: str
    # Any JSON value: the goal's own rules check these two, with messages naming what is wrong.
    goal_type: Any
    config: Any

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _text(value, low=1, high=MAX_NAME)


def _invalid(message: str) -> errors.BadRequest:
    return errors.BadRequest(f"Invalid goal: {message}.")






# A config key's check: its value, and the whole config (an event's condition is on its event_name).
Check = Callable[[Any, Mapping[str, Any]], None]


def _path(value: Any, config: Mapping[str, Any]) -> None:
    if not isinstance(value, str):
        raise _invalid(f"config.path must be a string, got {_kind(value)}")
    if not value.startswith("/"):
        raise _invalid(f"config.path must start with '/', got {_shown(value)}")
    if "*" in value[:-1]:
        raise _invalid(f"config.path may have '*' only at its end (a prefix match), got {_shown(value)}")
    if len(value.encode()) > MAX_KEY_BYTES:
        raise _invalid(f"config.path may have at most {MAX_KEY_BYTES} bytes, got {len(value.encode())}")


def _event_name(value: Any, config: Mapping[str, Any]) -> None:
    if not isinstance(value, str):
        raise _invalid(f"config.event_name must be a string, got {_kind(value)}")
    if not 1 <= len(value) <= conditions.MAX_EVENT_NAME:
        raise _invalid(f"config.event_name must have 1 to {conditions.MAX_EVENT_NAME} characters, got {len(value)}")


def _threshold(key: str, low: int) -> Check:
    def check(value: Any, config: Mapping[str, Any]) -> None:
        if not isinstance(value, int) or isinstance(value, bool):
            raise _invalid(f"config.{key} must be an integer, got {_shown(value)}")
        if not low <= value <= MAX_THRESHOLD:
            raise _invalid(f"config.{key} must be an integer from {low} to {MAX_THRESHOLD}, got {value}")
    return check


def condition_of(config: Mapping[str, Any]) -> conditions.Condition | None:
    """An event goal's condition, parsed by the condition language (None without one); a bad one is a
    400 naming it as `config.condition`."""
    raw = config.get("condition")
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise _invalid(f"config.condition must be an object (one condition: field, op, value), got {_kind(raw)}")
    for key in raw:
        if key not in CONDITION_KEYS:
            raise _invalid(f"config.condition: unknown key {_shown(key)} (expected {', '.join(CONDITION_KEYS)})")
    if "field" not in raw:
        raise _invalid("config.condition: missing 'field' (expected event_data.<key>, revenue_amount or "
                       "revenue_currency)")
    wrapped = {"match": "all", "conditions": [{"source": "event", "event": config["event_name"], **raw}]}
    try:
        parsed = conditions.parse(wrapped, what="goal")
    except errors.BadRequest as exc:
        # The language names the item `conditions[0]`; here it is the goal's config.condition.
        raise errors.BadRequest(exc.message.replace("Invalid goal: conditions[0]", "Invalid goal: config.condition",
                                                    1)) from None
    return parsed.conditions[0]


def _condition(value: Any, config: Mapping[str, Any]) -> None:
    condition_of(config)


@dataclass(frozen=True, slots=True)
class Conversions:
    conversions: int = 0
    visitors: BitMap = field(default_factory=BitMap)
    revenue: dict[str, Decimal] = field(default_factory=dict)  # currency -> amount


@dataclass
class _Range:
    """What a goal's counter reads with: the range and its bounds, and the range's visitors, read
    with the counter's own rollup rows when it reads some (one statement for both)."""

    session: AsyncSession
    project: ProjectAccess
    days: DayRange
    start: datetime
    end: datetime
    site: BitMap | None = None

    async def rollups(self, dimension: str) -> list[rollups.Row]:
        first, last = self.days.first, self.days.last
        site, rows = await rollups.load(self.session, self.project.project_id,
                                        [(visitorsets.SITE, first, last), (dimension, first, last)])
        self.site = BitMap.union(BitMap(), *(row.visitors for row in site))
        return rows

    async def visitors(self) -> BitMap:
        if self.site is None:
            self.site = await visitorsets.active(self.session, self.project, self.days)
        return self.site

    async def one(self, sql: str, params: dict[str, Any]) -> Any:
        return (await self.session.execute(text(sql), params)).one()


@dataclass(frozen=True)
class GoalType:
    """One goal type: the config keys it needs and takes (each with its check), and how its
    conversions over a range are counted."""

    name: str
    required: Mapping[str, Check]
    count: Callable[[_Range, Mapping[str, Any]], Awaitable[Conversions]]
    optional: Mapping[str, Check] = field(default_factory=dict)

    @property
    def article(self) -> str:
        return f"{'an' if self.name[0] in 'aeiou' else 'a'} {self.name}"

    def check(self, config: Any) -> None:
        if not isinstance(config, Mapping):
            raise _invalid(f"config must be an object, got {_kind(config)}")
        for key in self.required:
            if key not in config:
                raise _invalid(f"{self.article} goal needs config.{key}")
        for key in config:
            if key not in self.required and key not in self.optional:
                expected = ", ".join((*self.required, *self.optional))
                raise _invalid(f"config.{key} is not a setting of {self.article} goal (expected {expected})")
        for key, check in (*self.required.items(), *self.optional.items()):  # the required keys first
            if key in config:
                check(config[key], config)


def _matches(path: str, value: str) -> bool:
    return value.startswith(path[:-1]) if path.endswith("*") else value == path


async def _pageviews(r: _Range, config: Mapping[str, Any]) -> Conversions:
    rows = [row for row in await r.rollups("path") if row.pageviews and _matches(config["path"], row.value)]
    return Conversions(sum(row.pageviews for row in rows), BitMap.union(BitMap(), *(row.visitors for row in rows)))


_REVENUE = ("SELECT revenue_currency, sum(revenue_amount) FROM events WHERE project_id = :p AND name = :name "
            "AND ts >= :start AND ts < :end AND revenue_amount IS NOT NULL GROUP BY revenue_currency")


async def _events(r: _Range, config: Mapping[str, Any]) -> Conversions:
    condition = condition_of(config)
    if condition is not None:
        return await _events_where(r, condition)
    name = config["event_name"]
    rows = [row for row in await r.rollups("event") if row.value == name]
    revenue = (await r.session.execute(text(_REVENUE), {"p": r.project.project_id, "name": name, "start": r.start,
                                                        "end": r.end})).all()
    return Conversions(sum(row.events for row in rows), BitMap.union(BitMap(), *(row.visitors for row in rows)),
                       {currency: amount for currency, amount in revenue})


async def _events_where(r: _Range, c: conditions.Condition) -> Conversions:
    """The range's events of the condition's name that pass it, read from the raw rows (the index on
    (project_id, name, ts)), by currency: how many, their visitors, their revenue."""
    q = _Query()
    expr = _json_path(q, "data", c.path[1:]) if c.path[0] == "event_data" else f"to_jsonb({c.field})"
    test = _sql_test(q, expr, c)
    if c.op == "not_exists":  # _sql_test gives the value's existence for not_exists
        test = f"NOT {test}"
    sql = (f"SELECT revenue_currency, count(*), array_agg(DISTINCT visitor_no), sum(revenue_amount) FROM events "
           f"WHERE project_id = {q.bind(r.project.project_id)} AND name = {q.bind(c.event)} "
           f"AND ts >= {q.bind(r.start)} AND ts < {q.bind(r.end)} AND {test} GROUP BY revenue_currency")
    groups = (await r.session.execute(text(sql), q.params)).all()
    return Conversions(sum(n for _, n, _, _ in groups), BitMap.union(BitMap(), *(BitMap(v) for _, _, v, _ in groups)),
                       {currency: amount for currency, _, _, amount in groups if amount is not None})


def _sessions(column: str, key: str) -> Callable[[_Range, Mapping[str, Any]], Awaitable[Conversions]]:
    counter = {"duration": "duration", "pageviews": "session_pageviews"}[column]

    async def count(r: _Range, config: Mapping[str, Any]) -> Conversions:
        """Sessions that began in the range (with a pageview) whose `column` reaches the threshold:
        from the session rollups' per-session totals (pulse.query.sessionsets), else the sessions table."""
        reached = await sessionsets.sessions_reaching(r.session, r.project, r.days, counter, config[key])
        if reached is not None:
            return Conversions(*reached)
        found, numbers = await r.one(
            f"SELECT count(*), array_agg(DISTINCT visitor_no) FROM sessions WHERE project_id = :p "
            f"AND started_at >= :start AND started_at < :end AND pageviews > 0 AND {column} >= :threshold",
            {"p": r.project.project_id, "start": r.start, "end": r.end, "threshold": config[key]})
        return Conversions(found, BitMap(numbers or ()))
    return count


GOAL_TYPES: dict[str, GoalType] = {t.name: t for t in (
    GoalType("pageview", {"path": _path}, _pageviews),
    GoalType("event", {"event_name": _event_name}, _events, {"condition": _condition}),
    GoalType("duration", {"threshold_seconds": _threshold("threshold_seconds", 1)},
             _sessions("duration", "threshold_seconds")),
    GoalType("pages_per_session", {"threshold": _threshold("threshold", 1)}, _sessions("pageviews", "threshold")),
)}


def goal_type(name: Any) -> GoalType:
    found = GOAL_TYPES.get(name) if isinstance(name, str) else None
    if found is None:
        raise _invalid(f"goal_type {_shown(name)} is not one of {', '.join(GOAL_TYPES)}")
    return found




def _check(kind: Any, config: Any) -> None:
    """A goal's type and config together: the config must fit the type. PostgreSQL's JSONB holds
    no NUL character."""
    goal_type(kind).check(config)
    if _has_nul(config):
        raise errors.BadRequest(NUL)


async def create_goal(*, session: AsyncSession, project_id: UUID, body: dict[str, Any]) -> Goal:
    """Save a goal: `name`, `goal_type` and `config` required."""
    values = validated(GoalIn, body)
    _check(values["goal_type"], values["config"])
    return await GOALS.create(session=session, project_id=project_id, values=values)


async def list_goals(*, session: AsyncSession, project_id: UUID, window: Window) -> tuple[list[Goal], int]:
    """A page of the project's goals, newest first, and how many there are."""
    return await GOALS.page(session=session, project_id=project_id, window=window)


async def get_goal(*, session: AsyncSession, project_id: UUID, goal_id: str | UUID) -> Goal:
    """One of the project's goals, or 404."""
    return await GOALS.get(session=session, project_id=project_id, id=goal_id)


async def update_goal(*, session: AsyncSession, project_id: UUID, goal_id: str, body: dict[str, Any]) -> Goal:
    """Change the name, type or config given, and nothing else. A new type or config is checked with
    the other as it will be stored: a goal whose type changes needs a config that fits the new type."""
    values = validated(GoalIn, body, partial=True)
    if "goal_type" in values or "config" in values:
        stored = await get_goal(session=session, project_id=project_id, goal_id=goal_id)
        _check(values.get("goal_type", stored.goal_type), values.get("config", stored.config))
    return await GOALS.update(session=session, project_id=project_id, id=goal_id, values=values)


async def delete_goal(*, session: AsyncSession, project_id: UUID, goal_id: str) -> None:
    """Remove a goal."""
    await GOALS.delete(session=session, project_id=project_id, id=goal_id)


# -- what a goal answers -----------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class GoalStats:
    goal_id: str
    name: str
    conversions: int = doc("Pageviews of the path, events (passing the condition), or sessions over the threshold, "
                           "in the range.")
    unique_visitors: int = doc("Distinct visitors with a conversion in the range.")
    total_revenue: float = doc("Sum of the counted events' revenue_amount, every currency together, 2 decimals; 0 "
                               "for goals other than event goals.")
    conversion_rate: float = doc("Converting visitors per 100 of the range's visitors, 2 decimals; 0 without "
                                 "visitors.")
    revenue_by_currency: dict[str, float] | None = doc("The revenue by currency code, only when the counted events "
                                                       "carry more than one currency.")


def _cents(amount: Decimal) -> float:
    return float(Decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


async def stats(*, session: AsyncSession, project: ProjectAccess, goal_id: str, days: DayRange) -> GoalStats:
    """The goal's conversions, converting visitors, revenue and conversion rate over the range."""
    goal = await get_goal(session=session, project_id=project.project_id, goal_id=goal_id)
    start, end = days.bounds(project.timezone)
    r = _Range(session, project, days, start, end)
    found = await goal_type(goal.goal_type).count(r, goal.config)
    site = await r.visitors()
    revenue = dict(sorted(found.revenue.items()))
    return GoalStats(
        GOALS.public_id(goal), goal.name, found.conversions, len(found.visitors),
        _cents(sum(revenue.values(), Decimal(0))), percent(len(found.visitors), len(site)),
        {currency: _cents(amount) for currency, amount in revenue.items()} if len(revenue) > 1 else None)
