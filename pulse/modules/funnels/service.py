"""Saved funnels and how far each visitor gets through them over a range. Plain async functions; the
caller commits.

A funnel is a name and 2 to 20 steps, each `{type, value, label}`: a pageview of a path (exact; a
path ending in `*` matches every path starting with what precedes it) or an event by name. The
label defaults to the value and is stored filled in, so every read shows it.

`analyze` reads each table once: one statement over the range's pageviews of any pageview step
(or exclusion) and one over its events of any event step (or exclusion), each row with a bit mask of
the steps it matches. The per-visitor walk is then done in memory (docs/funnels.md has the rules):

- ordered: a visitor enters with a step-1 occurrence in the range; step k counts at the earliest
  occurrence of step k at or after step k-1's time (the same timestamp counts), no later than the
  window after the step-1 occurrence and before the range's end; one occurrence is one step only.
  Greedy earliest is optimal for "the furthest step" (a later choice can never reach further), and
  of a visitor's starts the first one reaching the furthest step is kept;
- strict: the same, but the occurrence right after step k-1 (of any of the funnel's steps) must be
  step k;
- unordered: every occurrence of any step in the range is a start; the visitor reaches as many steps
  as distinct steps occur from it to the end of the window.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import numpy as np
from pydantic import field_validator
from pyroaring import BitMap
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from pulse import conditions, errors
from pulse.auth import ProjectAccess
from pulse.definitions import BodyModel, Definitions, validated
from pulse.definitions import kind as _kind
from pulse.definitions import shown as _shown
from pulse.graphql.paging import Window
from pulse.limits import MAX_KEY_BYTES
from pulse.modules.funnels.tables import Funnel
from pulse.query.dates import DayRange
from pulse.query.filters import SEGMENT, Filter
from pulse.query.report import doc

FUNNELS = Definitions(Funnel, noun="Funnel")

MAX_NAME = 200
MAX_LABEL = 200
MIN_STEPS, MAX_STEPS = 2, 20
MAX_EXCLUSIONS = 10
STEP_TYPES = ("pageview", "event")
STEP_KEYS = ("type", "value", "label")
ORDERS = ("ordered", "strict", "unordered")
BREAKDOWNS = ("country", "device", "browser", "os", "source", "channel", "utm_source", "utm_medium", "utm_campaign")
BREAKDOWN_LIMIT = 20
NONE = "(none)"
DEFAULT_WINDOW = timedelta(days=14)  # as PostHog
MAX_WINDOW = timedelta(days=365)
UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
US = 1_000_000  # timestamps are read as microseconds since the epoch
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# -- bodies ----------------------------------------------------------------------------------

class FunnelIn(BodyModel):
    name: str
    steps: Any  # checked by check_steps, with messages naming the step

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        value = value.strip()
        if "\x00" in value:
            raise ValueError("must not contain NUL characters")
        if not 1 <= len(value) <= MAX_NAME:
            raise ValueError(f"must have 1 to {MAX_NAME} characters, got {len(value)}")
        return value


def _invalid(message: str) -> errors.BadRequest:
    return errors.BadRequest(f"Invalid funnel: {message}.")






def _check_value(where: str, kind: str, value: Any) -> None:
    if not isinstance(value, str):
        raise _invalid(f"{where}.value must be a string, got {_kind(value)}")
    if not value or "\x00" in value:
        raise _invalid(f"{where}.value must be a non-empty string without NUL characters")
    if kind == "pageview":
        if not value.startswith("/"):
            raise _invalid(f"{where}.value must be a path starting with '/', got {_shown(value)}")
        if "*" in value[:-1]:
            raise _invalid(f"{where}.value may have '*' only at its end (a prefix match), got {_shown(value)}")
        if len(value.encode()) > MAX_KEY_BYTES:
            raise _invalid(f"{where}.value may have at most {MAX_KEY_BYTES} bytes, got {len(value.encode())}")
    elif len(value) > conditions.MAX_EVENT_NAME:
        raise _invalid(f"{where}.value (an event name) may have at most {conditions.MAX_EVENT_NAME} characters, "
                       f"got {len(value)}")


def check_steps(steps: Any) -> list[dict[str, str]]:
    """The steps as stored (`{type, value, label}`, the label defaulting to the value), or a 400 naming
    the step (`steps[i]`, counted from 0). A missing type or value is reported before any other rule."""
    if not isinstance(steps, list):
        raise _invalid(f"steps must be a list of steps, got {_kind(steps)}")
    for i, step in enumerate(steps):
        if not isinstance(step, Mapping):
            raise _invalid(f"steps[{i}] must be an object ({{type, value, label}}), got {_kind(step)}")
    for i, step in enumerate(steps):
        for key in ("type", "value"):
            if key not in step:
                raise _invalid(f"steps[{i}] is missing required field '{key}'")
    if not MIN_STEPS <= len(steps) <= MAX_STEPS:
        raise _invalid(f"a funnel needs {MIN_STEPS} to {MAX_STEPS} steps, got {len(steps)}")
    stored = []
    for i, step in enumerate(steps):
        where = f"steps[{i}]"
        for key in step:
            if key not in STEP_KEYS:
                raise _invalid(f"{where}.{key} is not a field of a step (expected {', '.join(STEP_KEYS)})")
        kind = step["type"]
        if kind not in STEP_TYPES:
            raise _invalid(f"{where}.type {_shown(kind)} is not one of {', '.join(STEP_TYPES)}")
        _check_value(where, kind, step["value"])
        label = step.get("label")
        if label is None:
            label = step["value"]
        elif not isinstance(label, str):
            raise _invalid(f"{where}.label must be a string, got {_kind(label)}")
        elif not 1 <= len(label.strip()) <= MAX_LABEL or "\x00" in label:
            raise _invalid(f"{where}.label must have 1 to {MAX_LABEL} characters")
        stored.append({"type": kind, "value": step["value"], "label": label})
    return stored


async def create_funnel(*, session: AsyncSession, project_id: UUID, body: dict[str, Any]) -> Funnel:
    """Save a funnel: `name` and `steps` required."""
    values = validated(FunnelIn, body)
    values["steps"] = check_steps(values["steps"])
    return await FUNNELS.create(session=session, project_id=project_id, values=values)


async def list_funnels(*, session: AsyncSession, project_id: UUID, window: Window) -> tuple[list[Funnel], int]:
    """A page of the project's funnels, newest first, and how many there are."""
    return await FUNNELS.page(session=session, project_id=project_id, window=window)


async def get_funnel(*, session: AsyncSession, project_id: UUID, funnel_id: str | UUID) -> Funnel:
    """One of the project's funnels, or 404."""
    return await FUNNELS.get(session=session, project_id=project_id, id=funnel_id)


async def update_funnel(*, session: AsyncSession, project_id: UUID, funnel_id: str, body: dict[str, Any]) -> Funnel:
    """Change the name or the steps given (new steps replace the old ones whole), nothing else."""
    values = validated(FunnelIn, body, partial=True)
    if "steps" in values:
        values["steps"] = check_steps(values["steps"])
    return await FUNNELS.update(session=session, project_id=project_id, id=funnel_id, values=values)


async def delete_funnel(*, session: AsyncSession, project_id: UUID, funnel_id: str) -> None:
    """Remove a funnel."""
    await FUNNELS.delete(session=session, project_id=project_id, id=funnel_id)


# -- analysis parameters -------------------------------------------------------------------------

def _bad(message: str) -> errors.BadRequest:
    return errors.BadRequest(f"Invalid parameter: {message}.")


def parse_window(raw: str | None) -> timedelta:
    """`window`: a positive whole number and a unit (m, h, d, w), at most 365 days; default 14 days."""
    if raw is None or raw == "":
        return DEFAULT_WINDOW
    found = re.fullmatch(r"(\d{1,9})([mhdw])", raw.strip())
    if not found or int(found[1]) == 0:
        raise _bad(f"window must be a positive whole number with a unit (m, h, d or w), for example 7d, 2h or "
                   f"30m, got {_shown(raw)}")
    window = timedelta(seconds=int(found[1]) * UNITS[found[2]])
    if window > MAX_WINDOW:
        raise _bad(f"window may be at most {MAX_WINDOW.days} days, got {_shown(raw)}")
    return window


def parse_order(raw: str | None) -> str:
    if raw is None or raw == "":
        return "ordered"
    if raw not in ORDERS:
        raise _bad(f"order must be one of {', '.join(ORDERS)}, got {_shown(raw)}")
    return raw


def parse_breakdown(raw: str | None) -> str | None:
    if raw is None or raw == "":
        return None
    if raw in BREAKDOWNS:
        return raw
    if raw.startswith("trait:") and len(raw) > 6 and len(raw) <= 206:
        return raw
    raise _bad(f"breakdown must be one of {', '.join(BREAKDOWNS)} or trait:NAME, got {_shown(raw)}")


@dataclass(frozen=True, slots=True)
class Exclusion:
    """A step that must not happen between step `first` and step `last` (1-based; `last` None: the last
    step the visitor reached)."""

    type: str
    value: str
    first: int = 1
    last: int | None = None


def parse_exclusions(raw: Sequence[str] | None, steps: int) -> list[Exclusion]:
    """`exclude`: repeatable, or a comma list, of `pageview:/path` or `event:name`, each optionally
    `@A-B` (between steps A and B)."""
    items = [item.strip() for entry in raw or () for item in entry.split(",") if item.strip()]
    if len(items) > MAX_EXCLUSIONS:
        raise _bad(f"at most {MAX_EXCLUSIONS} exclusions, got {len(items)}")
    found = []
    for item in items:
        shape = (f"exclude {_shown(item)} must be pageview:/path or event:name, optionally followed by @A-B "
                 f"(between steps A and B, 1 to {steps}, A < B)")
        spec, _, span = item.partition("@")
        kind, sep, value = spec.partition(":")
        if not sep or kind not in STEP_TYPES:
            raise _bad(shape)
        first, last = 1, None
        if span:
            numbers = re.fullmatch(r"(\d{1,2})-(\d{1,2})", span)
            if not numbers:
                raise _bad(shape)
            first, last = int(numbers[1]), int(numbers[2])
            if not 1 <= first < last <= steps:
                raise _bad(shape)
        try:
            _check_value("exclude", kind, value)
        except errors.BadRequest:
            raise _bad(shape) from None
        found.append(Exclusion(kind, value, first, last))
    return found


def check_filters(filters: list[Filter]) -> None:
    """Funnels take saved-segment filters (`segment=`, `filter=segment:is|is_not:<id>`); the other
    dimensions are not supported yet (docs/funnels.md)."""
    for f in filters:
        if f.dimension != SEGMENT:
            raise errors.BadRequest(f"Invalid filter: funnels take only segment filters for now "
                                    f"(segment=<id> or filter=segment:is:<id>), not '{f.dimension}'.")


@dataclass(frozen=True, slots=True)
class Members:
    """The visitors a request's segment filters keep: those in `keep` (None: everyone) but not in `drop`."""

    keep: BitMap | None
    drop: BitMap


async def members_of(segments, filters: list[Filter], days: DayRange) -> Members | None:
    """The visitors the segment filters keep (None without filters), from the request's SegmentSets
    (pulse.reports.SegmentSets: access to the segments module checked, an unknown segment a 404)."""
    if not filters:
        return None
    check_filters(filters)
    await segments.prepare(filters)
    keep: BitMap | None = None
    drop = BitMap()
    for f in filters:
        found = await segments(f.value, days)
        if f.operator == "is":
            keep = BitMap(found) if keep is None else keep & found
        else:
            drop |= found
    return Members(keep, drop)


# -- what a funnel answers -----------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class FunnelStepResult:
    label: str
    visitors: int = doc("Visitors who reached this step.")
    drop_off: int = doc("The previous step's visitors minus this step's; 0 for step 1.")
    conversion_rate: float = doc("This step's visitors per 100 of the previous step's, 1 decimal; 100.0 for step 1; "
                                 "0.0 when the previous step has no visitors.")
    median_seconds: float | None = doc("Median time from the previous step to this one, in seconds, among the "
                                       "visitors who reached it; null for step 1 and when nobody reached it.")
    p90_seconds: float | None = doc("90th percentile (nearest rank) of the same times; null likewise.")


@dataclass(frozen=True, slots=True)
class FunnelBreakdown:
    value: str
    steps: list[FunnelStepResult]
    overall_conversion: float


@dataclass(frozen=True, slots=True)
class FunnelAnalysis:
    funnel_id: str
    name: str
    steps: list[FunnelStepResult]
    overall_conversion: float = doc("Visitors of the last step per 100 of the first, 1 decimal; 0 when nobody "
                                    "entered.")
    breakdown: list[FunnelBreakdown] | None = None


def percent1(part: int, whole: int) -> float:
    """`part` per 100 of `whole`, one decimal, half away from zero (exact integers); 0.0 for 0."""
    if not whole:
        return 0.0
    n, d = part * 1000, whole
    return ((2 * n + d) // (2 * d)) / 10


def _seconds(micros: float) -> float:
    return round(micros / US, 3)


@dataclass(slots=True)
class _Reached:
    """One visitor's furthest path: the times of the steps reached, and the occurrence it started at."""

    times: list[int]
    start: int  # the start occurrence's index in the fetched rows


@dataclass(slots=True)
class _Paths:
    """Every entering visitor's furthest path, one row each: the steps reached (1 to n), the times of
    those steps (µs; columns past `reached` unused) and the row the path started at."""

    reached: np.ndarray
    times: np.ndarray
    start: np.ndarray

    @classmethod
    def of(cls, found: list[_Reached], n: int) -> _Paths:
        times = np.zeros((len(found), n), dtype=np.int64)
        for i, path in enumerate(found):
            times[i, :len(path.times)] = path.times
        return cls(np.array([len(p.times) for p in found], dtype=np.int64), times,
                   np.array([p.start for p in found], dtype=np.int64))

    def __len__(self) -> int:
        return len(self.reached)

    def subset(self, which: np.ndarray) -> _Paths:
        return _Paths(self.reached[which], self.times[which], self.start[which])

    @classmethod
    def join(cls, parts: list[_Paths], n: int) -> _Paths:
        if not parts:
            return cls(np.zeros(0, np.int64), np.zeros((0, n), np.int64), np.zeros(0, np.int64))
        return cls(np.concatenate([p.reached for p in parts]), np.concatenate([p.times for p in parts]),
                   np.concatenate([p.start for p in parts]))


def _steps(labels: list[str], paths: _Paths) -> list[FunnelStepResult]:
    steps, previous = [], 0
    for k, label in enumerate(labels):
        got = paths.reached >= k + 1
        visitors = int(np.count_nonzero(got))
        median = p90 = None
        if k and visitors:
            values = np.sort(paths.times[got, k] - paths.times[got, k - 1])
            median = _seconds(float(np.median(values)))
            p90 = _seconds(float(values[max(0, -(-9 * len(values) // 10) - 1)]))
        steps.append(FunnelStepResult(label, visitors, previous - visitors if k else 0,
                                      percent1(visitors, previous) if k else 100.0, median, p90))
        previous = visitors
    return steps


def _overall(steps: list[FunnelStepResult]) -> float:
    return percent1(steps[-1].visitors, steps[0].visitors)


@dataclass
class _Rows:
    """The occurrences read: visitor, time (µs), bit mask of matched steps (bits 0..n-1) and exclusions
    (bits n..), and the session (when a breakdown needs it), in one array each."""

    visitor: np.ndarray
    t: np.ndarray
    mask: np.ndarray
    session: list = field(default_factory=list)


def _masks(items: list[tuple[str, str]], q: dict[str, Any], column: str) -> tuple[str, str]:
    """The SQL bit-mask expression and the WHERE test for (type, value) items matched on `column`."""
    terms, tests = [], []
    for bit, (kind, value) in enumerate(items):
        if kind is None:
            continue
        name = f"v{len(q)}"
        if kind == "pageview" and value.endswith("*"):
            q[name] = value[:-1]
            test = f"starts_with({column}, :{name})"
        else:
            q[name] = value
            test = f"{column} = :{name}"
        terms.append(f"CASE WHEN {test} THEN {1 << bit} ELSE 0 END")
        tests.append(test)
    return " + ".join(terms), " OR ".join(tests)


async def _read(session: AsyncSession, project: ProjectAccess, items: list[tuple[str, str]], start, end,
                with_sessions: bool) -> _Rows:
    """Every pageview and event of the range matching one of `items` (steps then exclusions): one
    statement per table, each answering its columns as arrays."""
    parts = []
    for table, kind, column in (("pageviews", "pageview", "path"), ("events", "event", "name")):
        own = [(k, v) if k == kind else (None, v) for k, v in items]
        if not any(k for k, _ in own):
            continue
        q: dict[str, Any] = {}
        mask, where = _masks(own, q, column)
        q.update(p=project.project_id, start=start, end=end)
        sql = (f"SELECT array_agg(visitor_no), array_agg(t), array_agg(mask){', array_agg(session_id)' * with_sessions}"
               f" FROM (SELECT visitor_no, CAST(extract(epoch FROM ts) * 1000000 AS bigint) AS t, "
               f"CAST({mask} AS bigint) AS mask, session_id FROM {table} WHERE project_id = :p AND ts >= :start "
               f"AND ts < :end AND ({where})) AS matched")
        parts.append((await session.execute(text(sql), q)).one())
    visitor = np.concatenate([np.array(r[0] or (), dtype=np.int64) for r in parts] or [np.zeros(0, np.int64)])
    t = np.concatenate([np.array(r[1] or (), dtype=np.int64) for r in parts] or [np.zeros(0, np.int64)])
    mask = np.concatenate([np.array(r[2] or (), dtype=np.int64) for r in parts] or [np.zeros(0, np.int64)])
    sessions = [s for r in parts for s in (r[3] or ())] if with_sessions else []
    return _Rows(visitor, t, mask, sessions)


def _lowest_bit(mask: np.ndarray) -> np.ndarray:
    """The lowest set bit's index of each mask (the first step an occurrence matches)."""
    low = mask & -mask
    return np.where(low > 0, np.log2(np.maximum(low, 1)).astype(np.int64), 64)


class _Walker:
    """The per-visitor walk over one visitor's occurrences, sorted by (time, first step matched)."""

    def __init__(self, n: int, window: int, end: int, order: str, exclusions: list[Exclusion]) -> None:
        self.n, self.window, self.end, self.order, self.exclusions = n, window, end, order, exclusions
        self.all_steps = (1 << n) - 1

    def walk(self, index: np.ndarray, t: list[int], mask: list[int]) -> _Reached | None:
        step_positions = [i for i, m in enumerate(mask) if m & self.all_steps]
        if self.order == "unordered":
            best = self._unordered(step_positions, t, mask)
        elif self.order == "strict":
            best = self._strict(step_positions, t, mask)
        else:
            best = self._ordered(step_positions, t, mask)
        if best is None:
            return None
        times, start = best
        if self.exclusions and self._excluded(times, t, mask):
            return None
        return _Reached(times, int(index[start]))

    def _deadline(self, t0: int) -> int:
        return min(t0 + self.window, self.end - 1)

    def _ordered(self, positions: list[int], t: list[int], mask: list[int]):
        n = self.n
        by_step: list[list[int]] = [[] for _ in range(n)]  # positions, in time order
        for i in positions:
            m = mask[i]
            for k in range(n):
                if m >> k & 1:
                    by_step[k].append(i)
        times_of = [[t[i] for i in positions_k] for positions_k in by_step]
        best = None
        for p0 in by_step[0]:
            t0 = t[p0]
            deadline, times, used, current, exhausted = self._deadline(t0), [t0], {p0}, t0, False
            for k in range(1, n):
                ks, kt = by_step[k], times_of[k]
                j = bisect_left(kt, current)
                while j < len(ks) and ks[j] in used:
                    j += 1
                if j == len(ks):
                    exhausted = True
                    break
                if kt[j] > deadline:
                    break
                current = kt[j]
                used.add(ks[j])
                times.append(current)
            if best is None or len(times) > len(best[0]):
                best = (times, p0)
            # A later start's greedy path is never earlier, step by step: if step k ran out, it will too.
            if len(times) == n or exhausted:
                break
        return best

    def _strict(self, positions: list[int], t: list[int], mask: list[int]):
        n, best = self.n, None
        for a, p0 in enumerate(positions):
            if not mask[p0] & 1:
                continue
            deadline, times, at = self._deadline(t[p0]), [t[p0]], a
            for k in range(1, n):
                nxt = at + 1
                if nxt >= len(positions):
                    break
                q = positions[nxt]
                if not mask[q] >> k & 1 or t[q] > deadline:
                    break
                times.append(t[q])
                at = nxt
            if best is None or len(times) > len(best[0]):
                best = (times, p0)
            if len(times) == n:
                break
        return best

    def _unordered(self, positions: list[int], t: list[int], mask: list[int]):
        n, best = self.n, None
        for a, p0 in enumerate(positions):
            deadline, seen, times = self._deadline(t[p0]), 0, []
            for q in positions[a:]:
                if t[q] > deadline:
                    break
                new = mask[q] & self.all_steps & ~seen
                if new:
                    seen |= new
                    times.extend([t[q]] * bin(new).count("1"))
                    if len(times) >= n:
                        break
            times = times[:n]
            if best is None or len(times) > len(best[0]):
                best = (times, p0)
            if len(times) == n:
                break
        return best

    def _excluded(self, times: list[int], t: list[int], mask: list[int]) -> bool:
        """An excluded occurrence strictly between step `first` and step `last` (or the last reached)."""
        for e, exclusion in enumerate(self.exclusions):
            last = len(times) if exclusion.last is None else min(exclusion.last, len(times))
            if last <= exclusion.first:
                continue
            low, high, bit = times[exclusion.first - 1], times[last - 1], 1 << (self.n + e)
            if any(m & bit and low < ti < high for ti, m in zip(t, mask, strict=True)):
                return True
        return False


def _ordered_arrays(index: np.ndarray, vr: np.ndarray, t: np.ndarray, tr: np.ndarray, width: int,
                   mask: np.ndarray, n: int, window: int, exclusions: list[Exclusion]) -> _Paths:
    """The ordered walk for every visitor at once, for rows that each match one step at most (then the
    walk never has to skip an occurrence already used). The rows are sorted by (visitor, time, step);
    `vr` and `tr` are their visitors' and times' dense ranks, `width` above every time rank. Each
    start advances step by step with one binary search per step over the step's occurrences, keyed
    by (visitor, time) packed into one integer of their dense ranks."""
    if not len(vr):
        return _Paths.join([], n)
    key = vr.astype(np.int64) * width + tr
    by_step = []
    for k in range(n):
        rows = np.flatnonzero(mask >> k & 1)  # already in key order
        by_step.append((key[rows], t[rows]))
    starts = np.flatnonzero(mask & 1)
    current = key[starts]
    deadline = t[starts] + window
    reached = np.ones(len(starts), dtype=np.int64)
    path = np.zeros((len(starts), n), dtype=np.int64)
    ranks = np.zeros((len(starts), n), dtype=np.int64)
    path[:, 0], ranks[:, 0] = t[starts], tr[starts]
    alive = np.arange(len(starts))
    for k in range(1, n):
        keys, kt = by_step[k]
        if not len(alive) or not len(keys):
            break
        at = np.searchsorted(keys, current[alive], side="left")
        inside = at < len(keys)
        at = np.minimum(at, len(keys) - 1)
        ok = inside & (keys[at] // width == current[alive] // width) & (kt[at] <= deadline[alive])
        alive, at = alive[ok], at[ok]
        current[alive] = keys[at]
        path[alive, k], ranks[alive, k] = kt[at], keys[at] % width
        reached[alive] = k + 1
    # Per visitor, the first start reaching the furthest step.
    owner = vr[starts]
    order = np.lexsort((np.arange(len(starts)), -reached, owner))
    first = order[np.concatenate(([True], owner[order][1:] != owner[order][:-1]))]
    chosen = _Paths(reached[first], path[first], index[starts[first]])
    if exclusions:
        keep = np.ones(len(first), dtype=bool)
        base = owner[first].astype(np.int64) * width
        for e, exclusion in enumerate(exclusions):
            excluded = np.sort(key[np.flatnonzero(mask >> (n + e) & 1)])
            if not len(excluded):
                continue
            last = chosen.reached if exclusion.last is None else np.minimum(exclusion.last, chosen.reached)
            spans = np.flatnonzero(last > exclusion.first)
            low = base[spans] + ranks[first[spans], exclusion.first - 1]
            high = base[spans] + ranks[first[spans], last[spans] - 1]
            between = np.searchsorted(excluded, high, side="left") - np.searchsorted(excluded, low, side="right")
            keep[spans[between > 0]] = False
        chosen = chosen.subset(keep)
    return chosen


def _paths(rows: _Rows, n: int, window: timedelta, end: int, order: str, exclusions: list[Exclusion],
           members: Members | None) -> _Paths:
    """Each entering visitor's furthest path."""
    visitor, t, mask = rows.visitor, rows.t, rows.mask
    keep = np.ones(len(visitor), dtype=bool)
    if members is not None:
        if members.keep is not None:
            keep &= np.isin(visitor, np.fromiter(members.keep, dtype=np.int64, count=len(members.keep)))
        if members.drop:
            keep &= ~np.isin(visitor, np.fromiter(members.drop, dtype=np.int64, count=len(members.drop)))
    index = np.flatnonzero(keep)
    # One stable sort of a packed key (dense visitor rank, dense time rank, first step matched)
    # rather than a lexsort of four arrays: (visitor, time, step), rows in fetch order within ties.
    v, ts, ms = visitor[index], t[index], mask[index]
    _, vr = np.unique(v, return_inverse=True)
    times, tr = np.unique(ts, return_inverse=True)
    width = len(times) + 1
    packed = (vr.astype(np.int64) * width + tr) * 128 + _lowest_bit(ms)
    order_ = np.argsort(packed, kind="stable")
    index, v, ts, ms, vr, tr = index[order_], v[order_], ts[order_], ms[order_], vr[order_], tr[order_]
    micros = int(window.total_seconds() * US)
    parts = []
    if order == "ordered":
        # Visitors with a row matching several steps (overlapping definitions, such as `/*` and
        # `/pricing`) take the walk below, which never lets one occurrence fill two steps.
        steps = ms & ((1 << n) - 1)
        several = np.unique(v[(steps & (steps - 1)) != 0])
        simple = ~np.isin(v, several) if len(several) else np.ones(len(v), dtype=bool)
        parts.append(_ordered_arrays(index[simple], vr[simple], ts[simple], tr[simple], width, ms[simple], n, micros,
                                     exclusions))
        index, v, ts, ms = index[~simple], v[~simple], ts[~simple], ms[~simple]
    walker = _Walker(n, micros, end, order, exclusions)
    bounds = np.flatnonzero(np.diff(v)) + 1
    found = []
    for a, b in zip(np.concatenate(([0], bounds)).tolist() if len(v) else [],
                    np.concatenate((bounds, [len(v)])).tolist() if len(v) else [], strict=True):
        reached = walker.walk(index[a:b], ts[a:b].tolist(), ms[a:b].tolist())
        if reached is not None:
            found.append(reached)
    parts.append(_Paths.of(found, n))
    return _Paths.join(parts, n)


async def _breakdown_values(session: AsyncSession, project: ProjectAccess, prop: str, rows: _Rows,
                            paths: _Paths) -> list[str]:
    """Each path's value of the breakdown: its start's session's column, or its visitor's trait."""
    starts = paths.start.tolist()
    if prop.startswith("trait:"):
        visitors = rows.visitor[paths.start].tolist()
        numbers = sorted(set(visitors))
        found = dict((await session.execute(text(
            "SELECT visitor_no, traits #>> CAST(:path AS text[]) FROM identity_profiles WHERE project_id = :p "
            "AND visitor_no = ANY(:numbers) AND traits #>> CAST(:path AS text[]) IS NOT NULL"),
            {"p": project.project_id, "path": prop[6:].split("."), "numbers": numbers})).all())
        return [found.get(no) or NONE for no in visitors]
    sessions = [rows.session[i] for i in starts]
    ids = sorted({s for s in sessions if s is not None})
    found = dict((await session.execute(text(
        f"SELECT id, {prop} FROM sessions WHERE project_id = :p AND id = ANY(:ids)"),
        {"p": project.project_id, "ids": ids})).all()) if ids else {}
    return [found.get(s) or NONE for s in sessions]


async def analyze(*, session: AsyncSession, project: ProjectAccess, funnel_id: str, days: DayRange,
                  window: str | None = None, order: str | None = None, exclude: Sequence[str] | None = None,
                  breakdown: str | None = None, members: Members | None = None) -> FunnelAnalysis:
    """How many visitors reach each step of the funnel over the range (docs/funnels.md)."""
    span, how, prop = parse_window(window), parse_order(order), parse_breakdown(breakdown)
    funnel = await get_funnel(session=session, project_id=project.project_id, funnel_id=funnel_id)
    steps = funnel.steps
    exclusions = parse_exclusions(exclude, len(steps))
    start, end = days.bounds(project.timezone)
    items = [(s["type"], s["value"]) for s in steps] + [(e.type, e.value) for e in exclusions]
    rows = await _read(session, project, items, start, end, with_sessions=prop is not None and
                       not prop.startswith("trait:"))
    end_us = (end - EPOCH) // timedelta(microseconds=1)
    paths = _paths(rows, len(steps), span, end_us, how, exclusions, members)
    labels = [s["label"] for s in steps]
    result = _steps(labels, paths)
    groups = None
    if prop is not None:
        by_value: dict[str, list[int]] = defaultdict(list)
        for i, value in enumerate(await _breakdown_values(session, project, prop, rows, paths)):
            by_value[value].append(i)
        ranked = sorted(by_value.items(), key=lambda item: (-len(item[1]), item[0]))[:BREAKDOWN_LIMIT]
        groups = []
        for value, group in ranked:
            shown = _steps(labels, paths.subset(np.array(group, dtype=np.int64)))
            groups.append(FunnelBreakdown(value, shown, _overall(shown)))
    return FunnelAnalysis(FUNNELS.public_id(funnel), funnel.name, result, _overall(result), groups)
