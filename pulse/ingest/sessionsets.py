"""Session sets: the daily rollups' counters broken down by session, so filters can cut them.

A rollup row (day, dimension, value) says how many pageviews, sessions, ... it holds, and which
visitors. It cannot say how many of them came from Germany: that crosses dimensions. Beside each
row the writer keeps, per counter, *which sessions* it counts and how much each contributes, as
roaring bitmaps of session numbers (dense per project, like visitor numbers). A filter is then a
set of sessions, and a filtered counter is a sum over an intersection (pulse.query.sessionsets).

Each (row, counter) is stored one of two ways:
- counted: a bit-sliced index. `members` holds the sessions with a non-zero value, slice k the
  sessions whose value has bit k set; the sum over a set S is sum(2^k * |S & slice k|), exact.
  Kept where a session's value is the row's own: the site row's pageviews, duration and events,
  a page's pageviews and time on page, a hostname's pageviews, an event's count. The site row of
  a session's first day also holds the session's own totals, duration and `session_pageviews`
  (all its pageviews, whatever day they fell on), for questions about whole sessions (goals).
- a set: `members` alone. Sessions and bounces are 0 or 1 per session; an origin row (source,
  country, device, ...) holds a session's pageviews on that day only if it holds all of them (a
  session has one origin), so its set says which sessions, and the site row's counts say how many.

Session numbers are 32-bit (roaring), so a project holds up to 4 billion sessions.
"""

from __future__ import annotations

from collections.abc import Iterable

from pyroaring import BitMap

# (dimension, counter) pairs kept as a bit-sliced index; every other pair is a set.
COUNTED = frozenset({("", "pageviews"), ("", "duration"), ("", "session_pageviews"), ("", "events"),
                     ("path", "pageviews"), ("path", "time_on_page"), ("path", "time_on_page_views"),
                     ("hostname", "pageviews"), ("event", "events")})

# Session number -> visitor number is kept in chunks of this many sessions (pulse.ingest.storage).
CHUNK = 4096


def counted(dimension: str, counter: str) -> bool:
    return (dimension, counter) in COUNTED


class SessionValues:
    """A map of session numbers to non-negative integers, as bitmaps (see the module docstring)."""

    __slots__ = ("members", "slices")

    def __init__(self, members: BitMap | None = None, slices: list[BitMap] | None = None) -> None:
        self.members = members if members is not None else BitMap()
        self.slices = slices if slices is not None else []

    @classmethod
    def load(cls, parts: Iterable[bytes]) -> SessionValues:
        bitmaps = [BitMap.deserialize(p) for p in parts]
        return cls(bitmaps[0], bitmaps[1:]) if bitmaps else cls()

    def dump(self) -> list[bytes]:
        while self.slices and not self.slices[-1]:
            self.slices.pop()
        return [b.serialize() for b in (self.members, *self.slices)]

    def copy(self) -> SessionValues:
        return SessionValues(BitMap(self.members), [BitMap(b) for b in self.slices])

    def get(self, session_no: int) -> int:
        return sum(1 << k for k, bits in enumerate(self.slices) if session_no in bits)

    def put(self, session_no: int, value: int) -> None:
        if value <= 0:
            self.discard(session_no)
            return
        self.members.add(session_no)
        while len(self.slices) < value.bit_length():
            self.slices.append(BitMap())
        for k, bits in enumerate(self.slices):
            if value >> k & 1:
                bits.add(session_no)
            else:
                bits.discard(session_no)

    def discard(self, session_no: int) -> None:
        self.members.discard(session_no)
        for bits in self.slices:
            bits.discard(session_no)

    def apply(self, changes: dict[int, int], counted: bool) -> None:
        """Add each change to its session's value; a set only notes who joined (> 0) or left (< 0)."""
        if counted:
            for session_no, delta in changes.items():
                if delta:
                    self.put(session_no, self.get(session_no) + delta)
            return
        self.members |= BitMap(s for s, delta in changes.items() if delta > 0)
        self.members -= BitMap(s for s, delta in changes.items() if delta < 0)

    def remove(self, sessions: BitMap) -> None:
        self.members -= sessions
        for bits in self.slices:
            bits -= sessions

    def at_least(self, threshold: int) -> BitMap:
        """The sessions present whose value is at least `threshold`: the bit-sliced comparison, from
        the top slice down (those already greater, and those equal so far)."""
        if threshold <= 0:
            return BitMap(self.members)
        if threshold.bit_length() > len(self.slices):
            return BitMap()
        greater, equal = BitMap(), BitMap(self.members)
        for k in range(len(self.slices) - 1, -1, -1):
            if threshold >> k & 1:
                equal &= self.slices[k]
            else:
                greater |= equal & self.slices[k]
                equal -= self.slices[k]
        return greater | equal

    def total(self, within: BitMap | None = None) -> int:
        """The sum of the values of the sessions in `within` (all of them when None)."""
        if within is None:
            return sum(len(bits) << k for k, bits in enumerate(self.slices))
        return sum(bits.intersection_cardinality(within) << k for k, bits in enumerate(self.slices))
