"""Saved segments and what they answer: the visitors who match over a range, a breakdown of them
by one property, and several segments' traffic side by side. Plain async functions; the caller
commits.

A segment's definition is checked by pulse.conditions when it is saved and stored as sent; the
visitor-set engine (pulse.query.visitorsets) evaluates it. An inactive segment still evaluates:
`is_active` tells clients (a segment picker) whether to offer it, and changes no answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from pydantic import StrictBool, field_validator
from pyroaring import BitMap
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pulse import conditions, errors
from pulse.auth import ProjectAccess
from pulse.db import as_uuid
from pulse.definitions import BodyModel, Definitions, validated
from pulse.definitions import has_nul as _has_nul
from pulse.graphql.paging import Window
from pulse.limits import MAX_OFFSET
from pulse.modules.segments.tables import Segment
from pulse.query import visitorsets
from pulse.query.dates import DayRange
from pulse.query.report import doc

SEGMENTS = Definitions(Segment, noun="Segment")

MAX_NAME = 200
MAX_DESCRIPTION = 2000
DEFAULT_EVALUATE_LIMIT = 100
MAX_EVALUATE_LIMIT = 1000
DEFAULT_BREAKDOWN_LIMIT = 10
MAX_BREAKDOWN_LIMIT = 1000
MAX_COMPARE = 10
NUL = "Invalid request body: text may not contain NUL characters."


def _text(value: str, *, low: int, high: int) -> str:
    value = value.strip()
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    if not low <= len(value) <= high:
        raise ValueError(f"must have {low} to {high} characters, got {len(value)}" if low
                         else f"must have at most {high} characters, got {len(value)}")
    return value


class SegmentIn(BodyModel):
    name: str
    description: str | None = None
    # Any JSON value: pulse.conditions checks it, with messages that name the bad condition.
    definition: Any
    is_active: StrictBool = True

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _text(value, low=1, high=MAX_NAME)

    @field_validator("description")
    @classmethod
    def _description(cls, value: str | None) -> str | None:
        return None if value is None else _text(value, low=0, high=MAX_DESCRIPTION)




def _checked(values: dict[str, Any]) -> dict[str, Any]:
    """The definition, when given, must parse; and PostgreSQL's JSONB holds no NUL character."""
    if "definition" in values:
        conditions.parse(values["definition"])
        if _has_nul(values["definition"]):
            raise errors.BadRequest(NUL)
    return values


async def create_segment(*, session: AsyncSession, project_id: UUID, body: dict[str, Any]) -> Segment:
    """Save a segment: `name` and `definition` required, `description` and `is_active` optional."""
    return await SEGMENTS.create(session=session, project_id=project_id, values=_checked(validated(SegmentIn, body)))


async def list_segments(*, session: AsyncSession, project_id: UUID, window: Window) -> tuple[list[Segment], int]:
    """A page of the project's segments, newest first, and how many there are."""
    return await SEGMENTS.page(session=session, project_id=project_id, window=window)


async def get_segment(*, session: AsyncSession, project_id: UUID, segment_id: str | UUID) -> Segment:
    """One of the project's segments, or 404."""
    return await SEGMENTS.get(session=session, project_id=project_id, id=segment_id)


async def update_segment(*, session: AsyncSession, project_id: UUID, segment_id: str,
                         body: dict[str, Any]) -> Segment:
    """Change the name, description, definition or active state given, and nothing else."""
    values = _checked(validated(SegmentIn, body, partial=True))
    return await SEGMENTS.update(session=session, project_id=project_id, id=segment_id, values=values)


async def delete_segment(*, session: AsyncSession, project_id: UUID, segment_id: str) -> None:
    """Remove a segment."""
    await SEGMENTS.delete(session=session, project_id=project_id, id=segment_id)


# -- what a segment answers ------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class SegmentEvaluation:
    segment_id: str
    total_visitors: int = doc("The range's visitors who match.")
    visitors: list[str] = doc("One page of their visitor ids, by visitor number (the order Pulse first saw them).")


@dataclass(frozen=True, slots=True)
class SegmentBreakdownRow:
    value: str
    visitors: int = doc("The segment's visitors with this value in the range.")


@dataclass(frozen=True, slots=True)
class SegmentComparison:
    segment_id: str
    name: str
    visitors: int = doc("The range's visitors who match.")
    sessions: int = doc("Their sessions that began in the range.")
    pageviews: int
    events: int
    bounce_rate: float = doc("Percent of those sessions with one pageview.")
    avg_duration: float = doc("Mean duration of those sessions, in seconds.")


def _bounded(value: int, name: str, low: int, high: int) -> int:
    if not low <= value <= high:
        raise errors.BadRequest(f"Invalid parameter: '{name}' must be between {low} and {high}.")
    return value


async def _members(session: AsyncSession, project: ProjectAccess, segment: Segment, days: DayRange) -> BitMap:
    """The visitor numbers of the range's visitors the segment's stored definition matches."""
    return await visitorsets.visitors(session, project, conditions.parse(segment.definition), days)


async def evaluate(*, session: AsyncSession, project: ProjectAccess, segment_id: str, days: DayRange,
                   limit: int = DEFAULT_EVALUATE_LIMIT, offset: int = 0) -> SegmentEvaluation:
    """How many of the range's visitors match, and the ids of `limit` of them after `offset`, in
    the order of their visitor numbers (the order Pulse first saw them: pages never overlap)."""
    _bounded(limit, "limit", 1, MAX_EVALUATE_LIMIT)
    _bounded(offset, "offset", 0, MAX_OFFSET)
    segment = await get_segment(session=session, project_id=project.project_id, segment_id=segment_id)
    members = await _members(session, project, segment, days)
    numbers = list(members[offset:offset + limit]) if offset < len(members) else []
    ids = await visitorsets.visitor_ids(session, project.project_id, numbers)
    return SegmentEvaluation(SEGMENTS.public_id(segment), len(members), ids)


@dataclass(frozen=True, slots=True)
class SegmentPreview:
    total_visitors: int = doc("The range's visitors who match.")
    visitors: list[str] = doc("The ids of the first `limit` of them, by visitor number.")


async def preview(*, session: AsyncSession, project: ProjectAccess, definition: Any, days: DayRange,
                  limit: int = 10) -> SegmentPreview:
    """What an unsaved definition matches (the segment builder's live count): checked as a saved one."""
    _bounded(limit, "limit", 0, MAX_EVALUATE_LIMIT)
    members = await visitorsets.visitors(session, project, conditions.parse(definition), days)
    ids = await visitorsets.visitor_ids(session, project.project_id, list(members[:limit])) if limit else []
    return SegmentPreview(len(members), ids)


async def breakdown(*, session: AsyncSession, project: ProjectAccess, segment_id: str, prop: str,
                    days: DayRange, limit: int = DEFAULT_BREAKDOWN_LIMIT) -> list[SegmentBreakdownRow]:
    """The segment's visitors by `prop` (country, device, browser, os, path, event or
    trait:NAME; the engine refuses any other), most visitors first."""
    _bounded(limit, "limit", 1, MAX_BREAKDOWN_LIMIT)
    segment = await get_segment(session=session, project_id=project.project_id, segment_id=segment_id)
    members = await _members(session, project, segment, days)
    rows = await visitorsets.breakdown(session, project, members, prop, days, limit)
    return [SegmentBreakdownRow(value, visitors) for value, visitors in rows]


def segment_ids(raw: str | None) -> list[str]:
    """The ids of `segment_ids=a,b` (REST), blanks dropped."""
    return [part.strip() for part in (raw or "").split(",") if part.strip()]


async def compare(*, session: AsyncSession, project: ProjectAccess, ids: list[str],
                  days: DayRange) -> list[SegmentComparison]:
    """Each segment's visitors, sessions, pageviews, events, bounce rate and mean session duration
    over the range, in the order given (an id given twice is answered once); 1 to 10 segments,
    an unknown one a 404."""
    ids = list(dict.fromkeys(str(i).strip() for i in ids if str(i).strip()))
    if not ids:
        raise errors.BadRequest("Invalid parameter: 'segment_ids' must name at least one segment.")
    if len(ids) > MAX_COMPARE:
        raise errors.BadRequest(f"Invalid parameter: 'segment_ids' names {len(ids)} segments; at most "
                                f"{MAX_COMPARE} can be compared.")
    uuids = {i: as_uuid(i) for i in ids}
    found = {row.id: row for row in (await session.execute(select(Segment).where(
        Segment.project_id == project.project_id,
        Segment.id.in_([u for u in uuids.values() if u is not None])))).scalars()}
    missing = next((i for i, u in uuids.items() if found.get(u) is None), None)
    if missing is not None:
        raise SEGMENTS.not_found(missing)
    result = []
    for key in dict.fromkeys(uuids[i] for i in ids):  # two spellings of one id: one row
        segment = found[key]
        numbers = await visitorsets.metrics(session, project, await _members(session, project, segment, days), days)
        result.append(SegmentComparison(SEGMENTS.public_id(segment), segment.name, **{
            name: numbers[name] for name in ("visitors", "sessions", "pageviews", "events", "bounce_rate",
                                             "avg_duration")}))
    return result
