"""Session replay's payload type: replay.

  replay           ReplayData. One chunk of recorder events for a recording. `events`: 1..1000
                   objects, each with a numeric `timestamp` (epoch ms) and a `type` (number or
                   string), otherwise free-form (DOM snapshots nest deeply: up to
                   MAX_REPLAY_DEPTH levels). `recording_id` names the recording (one per page
                   session); without it the recording is the session: the client's
                   `session_id` when sent, else (recording_id None here) the visitor's current
                   session, which the writer fills in. A chunk is activity: it joins and
                   extends the visitor's session like an engagement ping. `seq` is the chunk's sequence
                   number (integer >= 0, default 0) for ordering and de-duplication;
                   `is_complete` marks the last chunk.
"""

from __future__ import annotations

from typing import Any, Final
from uuid import UUID

import msgspec

from pulse.ingest.fields import boolean, bounded, encode, ident, integer, missing, must, number, req_list
from pulse.ingest.records import Record
from pulse.ingest.sinks import Copy, json_text
from pulse.limits import MAX_REPLAY_DEPTH
from pulse.modules.module import Payload

MAX_REPLAY_EVENTS: Final = 1000


class ReplayData(msgspec.Struct, tag="replay", tag_field="kind"):
    recording_id: str | None  # None: the visitor's current session (filled in by the writer)
    events: list[dict[str, Any]]
    seq: int = 0
    is_complete: bool = False


def parse_replay(d: dict[str, Any]) -> ReplayData:
    rid = d.get("recording_id")
    rid = None if rid is None else ident(rid, "recording_id")
    if rid is None:
        sid = d.get("session_id")
        rid = None if sid is None else ident(sid, "session_id")
    events = req_list(d, "events", MAX_REPLAY_EVENTS, "events")
    for i, e in enumerate(events):
        if type(e) is not dict:
            raise must(f"events[{i}]", "an object")
        ts = e.get("timestamp")
        if ts is None:
            raise missing(f"events[{i}].timestamp")
        number(ts, f"events[{i}].timestamp", 0, 10**15)
        et = e.get("type")
        if et is None:
            raise missing(f"events[{i}].type")
        if type(et) not in (int, str):
            raise must(f"events[{i}].type", "a number or string")
    bounded(events, encode(events), "events", MAX_REPLAY_DEPTH, None, top=-1)
    seq = d.get("seq")
    seq = 0 if seq is None else integer(seq, "seq")
    return ReplayData(rid, events, seq, boolean(d, "is_complete", False))


def _event_ts(events: list[dict], pick) -> int | None:
    stamps = [e.get("timestamp") for e in events if isinstance(e.get("timestamp"), int | float)]
    return int(pick(stamps)) if stamps else None


def _chunk_row(r: Record, session_id: UUID | None) -> tuple:
    data = r.data
    if data.recording_id is None:
        data.recording_id = str(session_id)  # no recording named: the visitor's current session
    return (data.recording_id, data.seq, json_text(data.events), len(data.events),
            _event_ts(data.events, min), _event_ts(data.events, max))


REPLAY_EVENTS = Copy("replay_events", ("recording_id", "seq", "events", "events_count", "first_ts", "last_ts"),
                     _chunk_row)

# A chunk is the visitor on the page, recording: it joins and extends the session.
PAYLOADS = (Payload("replay", parse_replay, ReplayData, sink=REPLAY_EVENTS, activity=True),)
