"""Filtered reports (issue 14): five designs answering the same questions, checked to agree exactly.

    BENCH_DSN=postgresql://postgres@127.0.0.1:5432/pulse_bench10m \\
      PYTHON bench/filtered_designs.py --project ID [--runs 10] [--sql-runs 3] [--days 30] [--no-narrow-table]

PYTHON is the project's .venv/bin/python (numpy is in the lock).

The questions, over the last `--days` days (the project's days) of a `pulse demo` dataset:
  Q1  the pages report filtered by country = DE: per path, pageviews, distinct visitors, time on
      page (seconds to the session's next pageview, summed, and the number of pageviews that have one);
  Q2  the same filtered by country = DE and device = Desktop (two filters);
  Q3  the overview filtered by country = DE: pageviews, visitors (of those pageviews), sessions
      (begun in the range), bounces, duration (bounce rate and mean duration follow from them).
Semantics are pulse/query/raw.py's: a pageview passes when its session matches (the filters here
are session dimensions); a session counts on the day it began.

The designs:
  1. sql       Plain SQL over raw `pageviews` JOIN `sessions` (the reference; raw.py in spirit),
               at PostgreSQL's default settings. Every other design is compared to its answer.
  0. rollups   Not a design, a yardstick: the unfiltered pages report and the country=DE overview
               from today's `daily_rollups` (one dimension's rows and bitmap unions). The issue asks
               for a filtered report within 5x the unfiltered one. A one-filter overview on a session
               dimension is already a daily_rollups row; its visitors include event senders.
  2. pairs     Pair rollups: rows keyed (day, filter dim, filter value, report dim, report value) with
               the counters and visitor bitmap of today's rollups. Prints the rows and bytes such a
               table would hold for filter dims x report dims over the whole dataset (rows exact,
               bytes from bitmaps built for --sample-days days), the row updates per pageview at
               ingest, then builds design_scratch.pair_rollups for (country, path) and (device,
               path) and times Q1 from it. It cannot answer Q2: the pageviews of DE *and* desktop
               sessions are in neither pair row, and intersecting the two rows' visitor bitmaps
               counts visitors who viewed the page in a DE session and (maybe another) desktop one:
               the printout shows by how much that overcounts on this dataset (nothing where, as in
               `pulse demo` data, a visitor's sessions all share country and device).
  3. bitmaps   Session-number bitmaps: sessions numbered densely by start; per (day, dimension,
               value) a roaring bitmap of the sessions that began then with that value; per (day,
               path) a bitmap of the sessions with a pageview of the path that day, their pageview
               counts as a bit-sliced index (bit k of count-1 in slice k), time on page as another
               bit-sliced index, and a bitmap of the sessions whose last pageview it was; the same
               for the whole site per day. Per-session numpy arrays (visitor, duration) and a bounce
               bitmap. A query intersects and counts (intersection_cardinality, exact) and gathers
               visitors of the surviving sessions. "stored" is the serialized size of every bitmap,
               what rollup columns would hold.
  4. columnar  A narrow dictionary-encoded copy in numpy: pageviews (day, session number, path
               code, visitor, seconds to next pageview) sorted by session; sessions (day, visitor,
               codes of country, device, browser, os, source, channel, entry and exit page,
               pageviews, duration, bounce). Loaded with binary COPY; answered with masks, a gather
               of the session mask, bincount and unique. Designs 2 and 3 are built from this copy.
  5. narrow    The same narrow rows as PostgreSQL tables (smallint codes, the session's attributes
               on each pageview, no joins): design_scratch.pv_narrow and sess_narrow, and plain SQL.

Output: per design, the build or load time, its memory or disk, and p50/p95 of each question over
--runs runs (--sql-runs for the slow SQL ones), with "agrees" or the first differences against
design 1. Times are wall clock in this process, one query at a time, after one warm-up run; the
load average is printed before and after (a shared 2-core machine: compare medians). Only the
schema design_scratch is written (dropped at the end unless --keep-scratch).
"""

from __future__ import annotations

import argparse
import array
import asyncio
import io
import os
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg
import numpy as np
from pyroaring import BitMap

EPOCH = date(2000, 1, 1)  # days are numbered from here (fits smallint until 2089)
SESSION_DIMS = ("country", "device", "browser", "os", "source", "channel", "entry_path", "exit_path")
BITMAP_DIMS = ("country", "device", "browser", "os", "source", "channel")
FILTER_DIMS = ("country", "source", "device", "browser", "os", "channel", "path")
REPORT_DIMS = ("path", "source", "country", "device", "browser", "os", "channel", "entry_path", "exit_path", "event")
ORIGIN_LOADED = ("source", "country", "device", "browser", "os", "channel")
SCRATCH = "design_scratch"


# ---------------------------------------------------------------- timing and printing


def ms_stats(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered):8.1f} ms  p95 {p95:8.1f} ms  (n={len(ordered)})"


async def timed(fn, runs: int):
    """(result, samples in ms) of `runs` calls after one warm-up; fn may be async."""
    async def once():
        result = fn()
        if asyncio.iscoroutine(result):
            result = await result
        return result

    result = await once()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        await once()
        samples.append((time.perf_counter() - start) * 1000)
    return result, samples


def mb(n: float) -> str:
    return f"{n / 1e6:,.1f} MB"


def agreement(reference, answer) -> str:
    if answer == reference:
        return "agrees"
    if isinstance(reference, dict):
        diffs = [k for k in sorted(set(reference) | set(answer), key=str) if reference.get(k) != answer.get(k)]
        shown = "; ".join(f"{k}: {reference.get(k)} vs {answer.get(k)}" for k in diffs[:3])
        return f"DIFFERS on {len(diffs)} keys ({shown})"
    return f"DIFFERS: {reference} vs {answer}"


def report(name: str, question: str, samples: list[float], verdict: str) -> None:
    print(f"  {name:<9} {question:<22} {ms_stats(samples)}  {verdict}")


# ---------------------------------------------------------------- design 1: the reference SQL


def _conditions(filters: list[tuple[str, str]], first: int) -> tuple[str, list[str]]:
    parts, values = [], []
    for i, (dim, value) in enumerate(filters):
        column = "coalesce(s.source, '')" if dim == "source" else f"s.{dim}"
        parts.append(f" AND {column} = ${first + i}")
        values.append(value)
    return "".join(parts), values


async def sql_pages(conn, project, start, end, filters):
    cond, values = _conditions(filters, 4)
    rows = await conn.fetch(
        "SELECT pv.path, count(*) AS pageviews, count(DISTINCT pv.visitor_no) AS visitors, "
        "coalesce(sum(floor(extract(epoch FROM pv.next_ts - pv.ts))), 0)::bigint AS time_on_page, "
        "count(pv.next_ts) AS time_on_page_views "
        "FROM (SELECT p.ts, p.path, p.visitor_no, lead(p.ts) OVER (PARTITION BY p.session_id ORDER BY p.ts) AS next_ts "
        "FROM pageviews p JOIN sessions s ON s.project_id = $1 AND s.id = p.session_id AND s.started_at < $3 "
        f"AND s.ended_at >= $2{cond} WHERE p.project_id = $1 AND p.ts >= $2 AND p.ts < $3) pv "
        "WHERE pv.path IS NOT NULL GROUP BY pv.path", project, start, end, *values)
    return {r["path"]: (r["pageviews"], r["visitors"], r["time_on_page"], r["time_on_page_views"]) for r in rows}


async def sql_overview(conn, project, start, end, filters):
    cond, values = _conditions(filters, 4)
    pv = await conn.fetchrow(
        "SELECT count(*), count(DISTINCT p.visitor_no) FROM pageviews p JOIN sessions s ON s.project_id = $1 "
        f"AND s.id = p.session_id AND s.started_at < $3 AND s.ended_at >= $2{cond} "
        "WHERE p.project_id = $1 AND p.ts >= $2 AND p.ts < $3", project, start, end, *values)
    se = await conn.fetchrow(
        "SELECT count(*), coalesce(sum(s.is_bounce::int), 0), coalesce(sum(s.duration), 0) FROM sessions s "
        f"WHERE s.project_id = $1 AND s.started_at >= $2 AND s.started_at < $3 AND s.pageviews > 0{cond}",
        project, start, end, *values)
    return (pv[0], pv[1], se[0], int(se[1]), int(se[2]))


def overview_line(o) -> str:
    pageviews, visitors, sessions, bounces, duration = o
    rate = 100 * bounces / sessions if sessions else 0
    avg = duration / sessions if sessions else 0
    return (f"pageviews {pageviews:,}  visitors {visitors:,}  sessions {sessions:,}  "
            f"bounce rate {rate:.1f}%  avg duration {avg:.1f} s")


# ---------------------------------------------------------------- design 0: today's rollups


async def rollup_rows(conn, project, first: date, last: date, dimension: str, value: str | None = None):
    cond = " AND value = $5" if value is not None else ""
    return await conn.fetch(
        "SELECT value, pageviews, sessions, bounces, duration, time_on_page, time_on_page_views, visitors "
        f"FROM daily_rollups WHERE project_id = $1 AND dimension = $2 AND day BETWEEN $3 AND $4{cond}",
        project, dimension, first, last, *([value] if value is not None else []))


def union_by_value(rows, counters: tuple[str, ...]):
    groups: dict[str, list] = {}
    for r in rows:
        g = groups.setdefault(r["value"], [[0] * len(counters), []])
        for i, c in enumerate(counters):
            g[0][i] += r[c]
        g[1].append(BitMap.deserialize(r["visitors"]))
    return {v: (c, BitMap.union(*bms)) for v, (c, bms) in groups.items()}


async def rollup_pages(conn, project, first, last):
    groups = union_by_value(await rollup_rows(conn, project, first, last, "path"), ("pageviews",))
    return {v: (c[0], len(bm)) for v, (c, bm) in groups.items() if c[0]}


async def rollup_overview(conn, project, first, last, dim, value):
    groups = union_by_value(await rollup_rows(conn, project, first, last, dim, value),
                            ("pageviews", "sessions", "bounces", "duration"))
    if not groups:
        return (0, 0, 0, 0, 0)
    (pageviews, sessions, bounces, duration), bm = groups[value]
    return (pageviews, len(bm), sessions, bounces, duration)


# ---------------------------------------------------------------- design 4: the columnar copy (and the loader)


async def copy_binary(conn, query: str, args: list, cols: list[tuple[str, str]]) -> dict[str, np.ndarray]:
    """Run COPY (query) TO STDOUT (FORMAT binary) and view its rows as numpy columns. Every column
    must be a non-null fixed-width integer ('i2', 'i4', 'i8'), so each row has the same layout."""
    chunks: list[bytes] = []

    async def sink(chunk: bytes) -> None:
        chunks.append(chunk)

    await conn.copy_from_query(query, *args, output=sink, format="binary")
    data = b"".join(chunks)
    chunks.clear()
    assert data[:11] == b"PGCOPY\n\xff\r\n\x00", "not a binary COPY stream"
    offset = 19 + int.from_bytes(data[15:19], "big")
    fields = [("n", ">i2")]
    for name, kind in cols:
        fields += [(f"len_{name}", ">i4"), (name, ">" + kind)]
    dtype = np.dtype(fields)
    body = len(data) - offset - 2
    assert body % dtype.itemsize == 0, "rows of unexpected width (a NULL?)"
    rows = np.frombuffer(data, dtype, count=body // dtype.itemsize, offset=offset)
    out = {}
    for name, kind in cols:
        assert (rows[f"len_{name}"] == int(kind[1:])).all(), f"NULL in {name}"
        out[name] = rows[name].astype(np.dtype(kind).newbyteorder("="))
    return out


class Data:
    """The narrow copy: dictionaries, per-session and per-pageview arrays (sorted by session, then time)."""

    def __init__(self) -> None:
        self.dicts: dict[str, list] = {}
        self.s: dict[str, np.ndarray] = {}
        self.pv: dict[str, np.ndarray] = {}
        self.ev: dict[str, np.ndarray] = {}
        self.timings: dict[str, float] = {}
        self.span = 0  # the most days a session's pageviews run past the day it began
        self.nvisitors = 0  # visitor numbers are below this

    def code(self, dim: str, value: str) -> int:
        try:
            return self.dicts[dim].index(value)
        except ValueError:
            return -1  # matches nothing

    def query_bytes(self) -> int:
        """What the queries keep in memory (ts and events only serve the builds)."""
        return sum(a.nbytes for a in self.s.values()) + sum(a.nbytes for a in self.pv.values())


async def load(conn, project, tz: str) -> Data:
    d = Data()
    t0 = time.perf_counter()
    await conn.execute("SET work_mem = '256MB'")
    for dim in SESSION_DIMS:
        column = "coalesce(source, '')" if dim == "source" else dim
        values = [r[0] for r in await conn.fetch(
            f"SELECT DISTINCT {column} FROM sessions WHERE project_id = $1 AND {column} IS NOT NULL", project)]
        d.dicts[dim] = [None, *sorted(values)]  # code 0 is NULL
    d.dicts["path"] = [None, *sorted(r[0] for r in await conn.fetch(
        "SELECT DISTINCT path FROM pageviews WHERE project_id = $1 AND path IS NOT NULL", project))]
    d.dicts["event"] = [None, *sorted(r[0] for r in await conn.fetch(
        "SELECT DISTINCT name FROM events WHERE project_id = $1 AND name IS NOT NULL", project))]
    d.timings["dictionaries"] = time.perf_counter() - t0

    def encode(dim: str, column: str, arg: int) -> str:
        return f"coalesce(array_position(${arg}::text[], {column}), 1)::int4 - 1"  # 1-based; NULL -> 0

    t = time.perf_counter()
    day = "(({col} AT TIME ZONE $2)::date - DATE '2000-01-01')::int4"
    codes = ", ".join(encode(dim, "coalesce(source, '')" if dim == "source" else dim, 3 + i)
                      for i, dim in enumerate(SESSION_DIMS))
    d.s = await copy_binary(
        conn, f"SELECT {day.format(col='started_at')}, visitor_no::int4, {codes}, pageviews::int4, duration::int4, "
        "is_bounce::int4 FROM sessions WHERE project_id = $1 AND pageviews > 0 ORDER BY started_at, id",
        [project, tz, *(d.dicts[dim] for dim in SESSION_DIMS)],
        [("day", "i4"), ("visitor", "i4"), *((dim, "i4") for dim in SESSION_DIMS),
         ("pageviews", "i4"), ("duration", "i4"), ("bounce", "i4")])
    d.timings["sessions"] = time.perf_counter() - t

    t = time.perf_counter()
    await conn.execute("DROP TABLE IF EXISTS pg_temp.session_numbers")
    await conn.execute(
        "CREATE TEMP TABLE session_numbers AS SELECT id, (row_number() OVER (ORDER BY started_at, id) - 1)::int4 AS no "
        f"FROM sessions WHERE project_id = '{UUID(project)}'::uuid AND pageviews > 0")
    await conn.execute("ANALYZE pg_temp.session_numbers")
    d.timings["session numbers"] = time.perf_counter() - t

    t = time.perf_counter()
    pv = await copy_binary(
        conn, f"SELECT n.no, {day.format(col='p.ts')}, (extract(epoch FROM p.ts) * 1000000)::int8, "
        f"{encode('path', 'p.path', 3)}, p.visitor_no::int4 FROM pageviews p "
        "JOIN pg_temp.session_numbers n ON n.id = p.session_id WHERE p.project_id = $1",
        [project, tz, d.dicts["path"]],
        [("session", "i4"), ("day", "i4"), ("ts", "i8"), ("path", "i4"), ("visitor", "i4")])
    d.timings["pageviews COPY"] = time.perf_counter() - t
    t = time.perf_counter()
    order = np.lexsort((pv["ts"], pv["session"]))
    pv = {k: v[order] for k, v in pv.items()}
    same = pv["session"][1:] == pv["session"][:-1]
    top = np.full(len(order), -1, np.int64)
    top[:-1][same] = (pv["ts"][1:][same] - pv["ts"][:-1][same]) // 1_000_000  # floor of the seconds, as SQL
    d.pv = {"session": pv["session"].astype(np.int32), "day": pv["day"].astype(np.int16),
            "path": pv["path"].astype(np.int16), "visitor": pv["visitor"].astype(np.int32),
            "top": top.astype(np.int32)}
    del pv, order, same, top
    d.timings["pageviews sort + time on page"] = time.perf_counter() - t

    t = time.perf_counter()
    ev = await copy_binary(
        conn, f"SELECT n.no, {day.format(col='e.ts')}, {encode('event', 'e.name', 3)}, e.visitor_no::int4 "
        "FROM events e JOIN pg_temp.session_numbers n ON n.id = e.session_id WHERE e.project_id = $1",
        [project, tz, d.dicts["event"]], [("session", "i4"), ("day", "i4"), ("name", "i4"), ("visitor", "i4")])
    d.ev = {"session": ev["session"], "day": ev["day"].astype(np.int16), "name": ev["name"].astype(np.int16),
            "visitor": ev["visitor"]}
    d.timings["events"] = time.perf_counter() - t
    d.s = {"day": d.s["day"].astype(np.int16), "visitor": d.s["visitor"].astype(np.int32),
           **{dim: d.s[dim].astype(np.int16) for dim in SESSION_DIMS},
           "pageviews": d.s["pageviews"].astype(np.int32), "duration": d.s["duration"].astype(np.int32),
           "bounce": d.s["bounce"].astype(bool)}
    # The longest a session's pageviews run past the day it began (days), for exact range lookups.
    d.span = int((d.pv["day"] - d.s["day"][d.pv["session"]]).max())
    d.nvisitors = int(max(d.s["visitor"].max(), d.pv["visitor"].max())) + 1
    d.timings["total"] = time.perf_counter() - t0
    return d


def session_mask(d: Data, filters) -> np.ndarray:
    mask = np.ones(len(d.s["day"]), bool)
    for dim, value in filters:
        mask &= d.s[dim] == d.code(dim, value)
    return mask


def pv_slice(d: Data, d1: int, d2: int) -> slice:
    """Pageviews of sessions that may have pageviews in [d1, d2]: contiguous, sessions are numbered by start."""
    s_lo = np.searchsorted(d.s["day"], d1 - d.span)
    s_hi = np.searchsorted(d.s["day"], d2, "right")
    return slice(int(np.searchsorted(d.pv["session"], s_lo)), int(np.searchsorted(d.pv["session"], s_hi)))


def col_passing(d: Data, d1, d2, filters):
    sl = pv_slice(d, d1, d2)
    day = d.pv["day"][sl]
    m = session_mask(d, filters)[d.pv["session"][sl]] & (day >= d1) & (day <= d2)
    return sl, m


def distinct_per_group(group: np.ndarray, value: np.ndarray, ngroups: int, nvalues: int) -> np.ndarray:
    """Distinct values per group: a dense bit per (group, value) when that fits in 256 MB (no sort;
    np.unique of 0.4M keys took 80 to 150 ms here, this 16 ms), else sort and count the changes."""
    keys = group.astype(np.int64) * nvalues + value
    if ngroups * nvalues <= 1 << 28:
        seen = np.zeros(ngroups * nvalues, bool)
        seen[keys] = True
        return seen.reshape(ngroups, nvalues).sum(axis=1)
    keys.sort()
    first = np.r_[True, keys[1:] != keys[:-1]] if len(keys) else np.zeros(0, bool)
    return np.bincount(keys[first] // nvalues, minlength=ngroups)


def col_pages(d: Data, d1, d2, filters):
    sl, m = col_passing(d, d1, d2, filters)
    path = d.pv["path"][sl][m]
    visitor = d.pv["visitor"][sl][m]
    top = d.pv["top"][sl][m]
    n = len(d.dicts["path"])
    views = np.bincount(path, minlength=n)
    has = top >= 0
    top_views = np.bincount(path[has], minlength=n)
    top_sum = np.bincount(path[has], weights=top[has], minlength=n)  # exact below 2**53
    visitors = distinct_per_group(path, visitor, n, d.nvisitors)
    return {d.dicts["path"][p]: (int(views[p]), int(visitors[p]), int(top_sum[p]), int(top_views[p]))
            for p in np.flatnonzero(views) if p != 0}


def col_overview(d: Data, d1, d2, filters):
    sl, m = col_passing(d, d1, d2, filters)
    seen = np.zeros(d.nvisitors, bool)
    seen[d.pv["visitor"][sl][m]] = True
    s_lo, s_hi = np.searchsorted(d.s["day"], d1), np.searchsorted(d.s["day"], d2, "right")
    sm = session_mask(d, filters)[s_lo:s_hi]
    return (int(m.sum()), int(seen.sum()), int(sm.sum()), int(d.s["bounce"][s_lo:s_hi][sm].sum()),
            int(d.s["duration"][s_lo:s_hi][sm].sum(dtype=np.int64)))


# ---------------------------------------------------------------- design 3: session-number bitmaps


def bitmap(values: np.ndarray) -> BitMap:
    a = array.array("I")
    a.frombytes(np.ascontiguousarray(values, dtype=np.uint32).tobytes())
    return BitMap(a)


def groups(keys: np.ndarray):
    """(key, start, end) of each run of equal keys in a sorted array."""
    if not len(keys):
        return
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ends = np.r_[starts[1:], len(keys)]
    yield from zip(keys[starts].tolist(), starts.tolist(), ends.tolist(), strict=True)


def slices(sessions: np.ndarray, values: np.ndarray) -> list[BitMap]:
    """Bit-sliced index of non-negative values: slice k holds the sessions whose value has bit k."""
    top = int(values.max()) if len(values) else 0
    return [bitmap(sessions[(values >> k) & 1 == 1]) for k in range(top.bit_length())]


def bsi_sum(parts: list[BitMap], within: BitMap) -> int:
    return sum(part.intersection_cardinality(within) << k for k, part in enumerate(parts))


class SessionBitmaps:
    SITE = -1  # the whole site's per-day structure, beside the paths

    def __init__(self, d: Data) -> None:
        self.d = d
        self.by_value: dict[tuple[str, int, int], BitMap] = {}  # (dim, code, day) -> sessions begun then
        self.pages: dict[tuple[int, int], tuple] = {}  # (day, path code) -> (sessions, count slices, top slices, exits)
        day = d.s["day"].astype(np.int64)
        numbers = np.arange(len(day), dtype=np.uint32)
        for dim in BITMAP_DIMS:
            width = len(d.dicts[dim])
            keys = day * width + d.s[dim]
            order = np.argsort(keys, kind="stable")
            for key, a, b in groups(keys[order]):
                if key % width:  # not NULL
                    self.by_value[(dim, key % width, key // width)] = bitmap(numbers[order[a:b]])
        self.bounces = bitmap(numbers[d.s["bounce"]])
        self.visitor, self.duration = d.s["visitor"], d.s["duration"]
        # Per (session, path, day): pageviews, summed time on page, whether the session ended there.
        pv = d.pv
        has = pv["top"] >= 0
        is_last = np.r_[pv["session"][1:] != pv["session"][:-1], True]
        for path_key in ("path", "site"):
            code = pv["path"].astype(np.int64) if path_key == "path" else np.full(len(has), self.SITE + 1, np.int64)
            keys = (pv["day"].astype(np.int64) * (len(d.dicts["path"]) + 1) + code) * len(day) + pv["session"]
            order = np.argsort(keys, kind="stable")
            k = keys[order]
            starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
            count = np.diff(np.r_[starts, len(k)])
            top = np.add.reduceat(np.where(has, pv["top"], 0)[order], starts)
            ended = np.add.reduceat(is_last[order], starts)
            sess = (k[starts] % len(day)).astype(np.uint32)
            dp = k[starts] // len(day)
            for key, a, b in groups(dp):
                day_, path = divmod(key, len(d.dicts["path"]) + 1)
                if path_key == "path" and path == 0:
                    continue
                s = sess[a:b]
                self.pages[(day_, path - 1 if path_key == "site" else path)] = (
                    bitmap(s), slices(s, count[a:b] - 1), slices(s, top[a:b]), bitmap(s[ended[a:b] > 0]))

    def stored_bytes(self) -> dict[str, int]:
        page = [sum(len(b.serialize()) for b in (base, *c, *t, x)) for (_, p), (base, c, t, x) in self.pages.items()
                if p != self.SITE]
        site = [sum(len(b.serialize()) for b in (base, *c, *t, x)) for (_, p), (base, c, t, x) in self.pages.items()
                if p == self.SITE]
        return {"session dimension bitmaps": sum(len(b.serialize()) for b in self.by_value.values()),
                "per (day, path) bitmaps + slices": sum(page), "per day site bitmaps + slices": sum(site),
                "bounce bitmap": len(self.bounces.serialize()),
                "per-session arrays (visitor, duration)": self.visitor.nbytes + self.duration.nbytes}

    def matching(self, filters, first_day: int, last_day: int) -> BitMap:
        result = None
        for dim, value in filters:
            code = self.d.code(dim, value)
            found = BitMap.union(*(self.by_value.get((dim, code, day), BitMap())
                                   for day in range(first_day, last_day + 1)))
            result = found if result is None else result & found
        return result

    def visitors_of(self, sessions: BitMap) -> int:
        seen = np.zeros(self.d.nvisitors, bool)
        seen[self.visitor[np.frombuffer(sessions.to_array(), np.uint32)]] = True
        return int(seen.sum())

    def pages_report(self, d1: int, d2: int, filters):
        wanted = self.matching(filters, d1 - self.d.span, d2)
        out = {}
        for p in range(1, len(self.d.dicts["path"])):
            views = top = ended = 0
            parts = []
            for day in range(d1, d2 + 1):
                found = self.pages.get((day, p))
                if found is None:
                    continue
                base, counts, tops, exits = found
                inter = base & wanted
                n = len(inter)
                if not n:
                    continue
                parts.append(inter)
                views += n + bsi_sum(counts, inter)
                top += bsi_sum(tops, inter)
                ended += exits.intersection_cardinality(inter)
            if views:
                out[self.d.dicts["path"][p]] = (views, self.visitors_of(BitMap.union(*parts)), top, views - ended)
        return out

    def overview(self, d1: int, d2: int, filters):
        begun = self.matching(filters, d1, d2)
        wanted = self.matching(filters, d1 - self.d.span, d2)
        views, parts = 0, []
        for day in range(d1, d2 + 1):
            found = self.pages.get((day, self.SITE))
            if found is None:
                continue
            base, counts, _, _ = found
            inter = base & wanted
            parts.append(inter)
            views += len(inter) + bsi_sum(counts, inter)
        numbers = np.frombuffer(begun.to_array(), np.uint32)
        return (views, self.visitors_of(BitMap.union(*parts)) if parts else 0, len(begun),
                begun.intersection_cardinality(self.bounces), int(self.duration[numbers].sum(dtype=np.int64)))


# ---------------------------------------------------------------- design 2: pair rollups


def session_paths(d: Data):
    """Distinct (session, path) pairs, sorted by session, and each session's first index into them."""
    pairs = np.unique(d.pv["session"].astype(np.int64) * len(d.dicts["path"]) + d.pv["path"])
    sess, path = pairs // len(d.dicts["path"]), (pairs % len(d.dicts["path"])).astype(np.int16)
    return sess, path, np.searchsorted(sess, np.arange(len(d.s["day"]) + 1))


def pair_records(d: Data, f: str, r: str, sp):
    """(day, filter code, report code, visitor or -1) of every record a (f, r) pair rollup counts:
    pageviews (report dims path and origin), sessions (origin, entry and exit page), events."""
    sp_sess, sp_path, sp_ptr = sp
    out = []
    s = d.s
    if r in ("path", *ORIGIN_LOADED):
        fc = d.pv["path"] if f == "path" else s[f][d.pv["session"]]
        rc = d.pv["path"] if r == "path" else s[r][d.pv["session"]]
        out.append((d.pv["day"], fc, rc, d.pv["visitor"]))
    if r in (*ORIGIN_LOADED, "entry_path", "exit_path"):
        if f == "path":  # a session passes a page filter when one of its pageviews does
            out.append((s["day"][sp_sess], sp_path, s[r][sp_sess], np.full(len(sp_sess), -1, np.int32)))
        else:
            out.append((s["day"], s[f], s[r], np.full(len(s["day"]), -1, np.int32)))
    if r == "event":
        ev = d.ev
        if f == "path":
            counts = sp_ptr[ev["session"] + 1] - sp_ptr[ev["session"]]
            rep = np.repeat(np.arange(len(counts)), counts)
            offset = np.arange(len(rep)) - np.repeat(np.cumsum(counts) - counts, counts)
            fc = sp_path[sp_ptr[ev["session"]][rep] + offset]
            out.append((ev["day"][rep], fc, ev["name"][rep], ev["visitor"][rep]))
        else:
            out.append((ev["day"], s[f][ev["session"]], ev["name"], ev["visitor"]))
    day, fc, rc, vis = (np.concatenate(parts) for parts in zip(*out, strict=True))
    keep = (fc != 0) & (rc != 0)
    return day[keep], fc[keep], rc[keep], vis[keep]


def pair_estimate(d: Data, sample_days: list[int], row_overhead: float):
    sp = session_paths(d)
    dmin = int(d.s["day"].min()) - d.span
    ndays = int(d.pv["day"].max()) - dmin + 1
    empty = len(BitMap().serialize())
    total_rows = total_bytes = pv_updates = 0
    lines = []
    for f in FILTER_DIMS:
        for r in REPORT_DIMS:
            day, fc, rc, vis = pair_records(d, f, r, sp)
            nf, nr = len(d.dicts[f]), len(d.dicts[r])
            keys = ((day.astype(np.int64) - dmin) * nf + fc) * nr + rc
            space = ndays * nf * nr
            rows = int(np.count_nonzero(np.bincount(keys, minlength=space))) if space < 5e7 else int(
                np.unique(keys).size)
            if r in ("path", *ORIGIN_LOADED):
                pv_updates += int(((d.pv["path"] != 0) if f == "path" else (d.s[f][d.pv["session"]] != 0)).sum())
            sample = np.isin(day, sample_days)
            sk, sv = keys[sample], vis[sample]
            sample_rows = int(np.unique(sk).size)
            withv = sv >= 0
            order = np.lexsort((sv[withv], sk[withv]))
            kk, vv = sk[withv][order], sv[withv][order]
            nbytes = 0
            groups_with = 0
            for _, a, b in groups(kk):
                nbytes += len(bitmap(vv[a:b]).serialize())
                groups_with += 1
            nbytes += (sample_rows - groups_with) * empty
            per_row = nbytes / sample_rows if sample_rows else 0
            est = rows * (per_row + row_overhead)
            total_rows += rows
            total_bytes += est
            lines.append(f"    {f:>8} x {r:<10} rows {rows:>9,}  bitmap {per_row:8.0f} B/row  ~{mb(est):>10}")
    return lines, total_rows, total_bytes, pv_updates / len(d.pv["day"])


def pair_build(d: Data, f: str):
    """(day, filter code, path code) rows of pageview counters and visitor bitmaps, as pair_rollups holds."""
    fc = d.s[f][d.pv["session"]]
    keep = (fc != 0) & (d.pv["path"] != 0)
    npth, nf = len(d.dicts["path"]), len(d.dicts[f])
    keys = (d.pv["day"][keep].astype(np.int64) * nf + fc[keep]) * npth + d.pv["path"][keep]
    vis, top = d.pv["visitor"][keep], d.pv["top"][keep]
    order = np.lexsort((vis, keys))
    keys, vis, top = keys[order], vis[order], top[order]
    has = top >= 0
    for key, a, b in groups(keys):
        rest, path = divmod(key, npth)
        day, code = divmod(rest, nf)
        yield (EPOCH + timedelta(days=day), d.dicts[f][code], d.dicts["path"][path], b - a,
               int(top[a:b][has[a:b]].sum()), int(has[a:b].sum()), bitmap(vis[a:b]).serialize())


PAIR_TABLE = f"""CREATE TABLE {SCRATCH}.pair_rollups (
    project_id uuid NOT NULL, day date NOT NULL, filter_dimension text NOT NULL, filter_value text NOT NULL,
    dimension text NOT NULL, value text NOT NULL, pageviews bigint NOT NULL DEFAULT 0,
    sessions bigint NOT NULL DEFAULT 0, bounces bigint NOT NULL DEFAULT 0, duration bigint NOT NULL DEFAULT 0,
    events bigint NOT NULL DEFAULT 0, time_on_page bigint NOT NULL DEFAULT 0,
    time_on_page_views bigint NOT NULL DEFAULT 0, visitors bytea NOT NULL,
    PRIMARY KEY (project_id, day, filter_dimension, filter_value, dimension, value))"""


async def pair_rows(conn, project, first, last, dim, value):
    return await conn.fetch(
        f"SELECT value, pageviews, time_on_page, time_on_page_views, visitors FROM {SCRATCH}.pair_rollups "
        "WHERE project_id = $1 AND day BETWEEN $2 AND $3 AND filter_dimension = $4 AND filter_value = $5 "
        "AND dimension = 'path'", project, first, last, dim, value)


async def pair_pages(conn, project, first, last, dim, value):
    groups_: dict[str, list] = {}
    for r in await pair_rows(conn, project, first, last, dim, value):
        g = groups_.setdefault(r["value"], [0, 0, 0, []])
        g[0] += r["pageviews"]
        g[1] += r["time_on_page"]
        g[2] += r["time_on_page_views"]
        g[3].append(BitMap.deserialize(r["visitors"]))
    return {v: (pv, len(BitMap.union(*bms)), top, tv) for v, (pv, top, tv, bms) in groups_.items()}


# ---------------------------------------------------------------- design 5: narrow tables in PostgreSQL


def binary_copy(columns: list[tuple[np.ndarray, str]]) -> bytes:
    """A COPY FROM (FORMAT binary) stream of non-null integer columns."""
    n = len(columns[0][0])
    fields = [("n", ">i2")]
    for i, (_, kind) in enumerate(columns):
        fields += [(f"l{i}", ">i4"), (f"v{i}", ">" + kind)]
    rows = np.empty(n, np.dtype(fields))
    rows["n"] = len(columns)
    for i, (values, kind) in enumerate(columns):
        rows[f"l{i}"] = int(kind[1:])
        rows[f"v{i}"] = values
    return b"PGCOPY\n\xff\r\n\x00" + bytes(8) + rows.tobytes() + b"\xff\xff"


NARROW_DIMS = ("country", "device", "browser", "os", "source", "channel")


async def narrow_build(conn, d: Data) -> float:
    t = time.perf_counter()
    dims = ", ".join(f"{dim} smallint NOT NULL" for dim in NARROW_DIMS)
    await conn.execute(f"CREATE TABLE {SCRATCH}.pv_narrow (day smallint NOT NULL, path smallint NOT NULL, {dims}, "
                       "visitor int NOT NULL, session int NOT NULL, top int NOT NULL)")
    await conn.execute(f"CREATE TABLE {SCRATCH}.sess_narrow (day smallint NOT NULL, {dims}, entry_path smallint "
                       "NOT NULL, exit_path smallint NOT NULL, visitor int NOT NULL, pageviews int NOT NULL, "
                       "duration int NOT NULL, bounce smallint NOT NULL)")
    pv, s = d.pv, d.s
    stream = binary_copy([(pv["day"], "i2"), (pv["path"], "i2"),
                          *((s[dim][pv["session"]], "i2") for dim in NARROW_DIMS),
                          (pv["visitor"], "i4"), (pv["session"], "i4"), (pv["top"], "i4")])
    await conn.copy_to_table("pv_narrow", schema_name=SCRATCH, source=io.BytesIO(stream), format="binary")
    del stream
    stream = binary_copy([(s["day"], "i2"), *((s[dim], "i2") for dim in NARROW_DIMS), (s["entry_path"], "i2"),
                          (s["exit_path"], "i2"), (s["visitor"], "i4"), (s["pageviews"], "i4"),
                          (s["duration"], "i4"), (s["bounce"].astype(np.int16), "i2")])
    await conn.copy_to_table("sess_narrow", schema_name=SCRATCH, source=io.BytesIO(stream), format="binary")
    await conn.execute(f"CREATE INDEX ON {SCRATCH}.pv_narrow USING brin (day)")
    await conn.execute(f"CREATE INDEX ON {SCRATCH}.sess_narrow USING brin (day)")
    await conn.execute(f"ANALYZE {SCRATCH}.pv_narrow")
    await conn.execute(f"ANALYZE {SCRATCH}.sess_narrow")
    return time.perf_counter() - t


def _narrow_cond(d: Data, filters, first: int) -> tuple[str, list[int]]:
    return ("".join(f" AND {dim} = ${first + i}" for i, (dim, _) in enumerate(filters)),
            [d.code(dim, value) for dim, value in filters])


async def narrow_pages(conn, d: Data, d1, d2, filters):
    cond, values = _narrow_cond(d, filters, 3)
    rows = await conn.fetch(
        "SELECT path, count(*), count(DISTINCT visitor), coalesce(sum(top) FILTER (WHERE top >= 0), 0), "
        f"count(*) FILTER (WHERE top >= 0) FROM {SCRATCH}.pv_narrow WHERE day BETWEEN $1 AND $2{cond} "
        "AND path <> 0 GROUP BY path", d1, d2, *values)
    return {d.dicts["path"][r[0]]: (r[1], r[2], int(r[3]), r[4]) for r in rows}


async def narrow_overview(conn, d: Data, d1, d2, filters):
    cond, values = _narrow_cond(d, filters, 3)
    pv = await conn.fetchrow(f"SELECT count(*), count(DISTINCT visitor) FROM {SCRATCH}.pv_narrow "
                             f"WHERE day BETWEEN $1 AND $2{cond}", d1, d2, *values)
    se = await conn.fetchrow(f"SELECT count(*), coalesce(sum(bounce), 0), coalesce(sum(duration), 0) "
                             f"FROM {SCRATCH}.sess_narrow WHERE day BETWEEN $1 AND $2{cond}", d1, d2, *values)
    return (pv[0], pv[1], se[0], int(se[1]), int(se[2]))


# ---------------------------------------------------------------- the run


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--project", required=True)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--sql-runs", type=int, default=3, help="runs of the slow plain-SQL questions")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--country", default="DE")
    parser.add_argument("--device", default="Desktop")
    parser.add_argument("--sample-days", type=int, default=5, help="days whose pair bitmaps are built to size them")
    parser.add_argument("--no-narrow-table", action="store_true", help="skip design 5")
    parser.add_argument("--keep-scratch", action="store_true")
    args = parser.parse_args()
    dsn = os.environ.get("BENCH_DSN")
    if not dsn:
        sys.exit("BENCH_DSN is required")
    one = [("country", args.country)]
    two = [("country", args.country), ("device", args.device)]
    conn = await asyncpg.connect(dsn)  # default settings: the reference queries
    build = await asyncpg.connect(dsn)  # loads and builds (more work_mem)
    project = args.project
    tz = await conn.fetchval("SELECT coalesce(timezone, 'UTC') FROM projects WHERE id = $1", project)
    zone = ZoneInfo(tz)
    last = datetime.now(zone).date()
    first = last - timedelta(days=args.days - 1)
    start = datetime.combine(first, datetime.min.time(), zone)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), zone)
    d1, d2 = (first - EPOCH).days, (last - EPOCH).days
    for dim, value in two:
        if not await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM sessions WHERE project_id = $1 AND {dim} = $2)",
                                   project, value):
            sys.exit(f"no session has {dim} = {value!r}: pick another value (--country, --device)")
    counts = await conn.fetchrow(
        "SELECT (SELECT count(*) FROM pageviews WHERE project_id = $1), (SELECT count(*) FROM sessions WHERE "
        "project_id = $1), (SELECT count(*) FROM visitors WHERE project_id = $1)", project)
    print(f"project {project} ({tz}): {counts[0]:,} pageviews, {counts[1]:,} sessions, {counts[2]:,} visitors")
    print(f"range {first} .. {last} ({args.days} days); filters {one} and {two}; {args.runs} runs "
          f"({args.sql_runs} for plain SQL); {os.cpu_count()} cores; load average {os.getloadavg()}")
    await build.execute(f"DROP SCHEMA IF EXISTS {SCRATCH} CASCADE")
    await build.execute(f"CREATE SCHEMA {SCRATCH}")
    try:
        await run(args, conn, build, project, tz, first, last, start, end, d1, d2, one, two)
    finally:
        if not args.keep_scratch:
            await build.execute(f"DROP SCHEMA IF EXISTS {SCRATCH} CASCADE")
        await conn.close()
        await build.close()
    print(f"load average at the end {os.getloadavg()}")


async def run(args, conn, build, project, tz, first, last, start, end, d1, d2, one, two) -> None:
    runs, sql_runs = args.runs, args.sql_runs

    print("\n1. sql: raw pageviews JOIN sessions (the reference)")
    ref1, s = await timed(lambda: sql_pages(conn, project, start, end, one), sql_runs)
    report("sql", "Q1 pages, 1 filter", s, f"{len(ref1)} paths")
    ref2, s = await timed(lambda: sql_pages(conn, project, start, end, two), sql_runs)
    report("sql", "Q2 pages, 2 filters", s, f"{len(ref2)} paths")
    ref3, s = await timed(lambda: sql_overview(conn, project, start, end, one), sql_runs)
    report("sql", "Q3 overview, 1 filter", s, "")
    top = sorted(ref1.items(), key=lambda kv: -kv[1][0])[:3]
    print("    Q1 top pages: " + "; ".join(f"{p} views {v[0]:,} visitors {v[1]:,} avg time {v[2] / max(v[3], 1):.1f} s"
                                           for p, v in top))
    print(f"    Q3: {overview_line(ref3)}")

    print("\n0. rollups: today's daily_rollups (yardstick)")
    _, s = await timed(lambda: rollup_pages(conn, project, first, last), runs)
    report("rollups", "pages, unfiltered", s, "")
    got, s = await timed(lambda: rollup_overview(conn, project, first, last, "country", args.country), runs)
    report("rollups", "Q3 from country row", s, agreement(ref3, got))
    size = await conn.fetchrow("SELECT count(*), sum(pg_column_size(r.*)), sum(octet_length(visitors)), "
                               "pg_total_relation_size('daily_rollups') FROM daily_rollups r")
    print(f"    daily_rollups (all projects): {size[0]:,} rows, {mb(size[1])} of live tuples ({mb(size[2])} of "
          f"bitmaps), {mb(size[3])} on disk with indexes, TOAST and dead versions")

    print("\n4. columnar: narrow dictionary-encoded numpy copy")
    before = rss()
    d = await load(build, project, tz)
    print("    load: " + ", ".join(f"{k} {v:.1f} s" for k, v in d.timings.items()))
    print(f"    arrays the queries use: {mb(d.query_bytes())} ({len(d.pv['day']):,} pageviews x "
          f"{sum(a.itemsize for a in d.pv.values())} B, {len(d.s['day']):,} sessions x "
          f"{sum(a.itemsize for a in d.s.values())} B); process RSS grew {mb(rss() - before)} (incl. COPY buffers)")
    got, s = await timed(lambda: col_pages(d, d1, d2, one), runs)
    report("columnar", "Q1 pages, 1 filter", s, agreement(ref1, got))
    got, s = await timed(lambda: col_pages(d, d1, d2, two), runs)
    report("columnar", "Q2 pages, 2 filters", s, agreement(ref2, got))
    got, s = await timed(lambda: col_overview(d, d1, d2, one), runs)
    report("columnar", "Q3 overview, 1 filter", s, agreement(ref3, got))

    print("\n3. bitmaps: session-number bitmaps (built from the columnar copy)")
    t = time.perf_counter()
    before = rss()
    sb = SessionBitmaps(d)
    built = time.perf_counter() - t
    grown = rss() - before
    stored = sb.stored_bytes()
    print(f"    build {built:.1f} s (after the load); {len(sb.by_value):,} session-value bitmaps, "
          f"{len(sb.pages):,} (day, path|site) entries; RSS grew {mb(grown)}")
    print("    stored (serialized): " + ", ".join(f"{k} {mb(v)}" for k, v in stored.items())
          + f"; total {mb(sum(stored.values()))}")
    got, s = await timed(lambda: sb.pages_report(d1, d2, one), runs)
    report("bitmaps", "Q1 pages, 1 filter", s, agreement(ref1, got))
    got, s = await timed(lambda: sb.pages_report(d1, d2, two), runs)
    report("bitmaps", "Q2 pages, 2 filters", s, agreement(ref2, got))
    got, s = await timed(lambda: sb.overview(d1, d2, one), runs)
    report("bitmaps", "Q3 overview, 1 filter", s, agreement(ref3, got))

    print("\n2. pairs: pair rollups (day, filter dim, filter value, report dim, report value)")
    t = time.perf_counter()
    await build.execute(PAIR_TABLE)
    n = 0
    for dim in ("country", "device"):
        records = [(project, day, dim, value, "path", path, views, top, tv, vis)
                   for day, value, path, views, top, tv, vis in pair_build(d, dim)]
        n += len(records)
        await build.copy_records_to_table(
            "pair_rollups", schema_name=SCRATCH, records=records,
            columns=["project_id", "day", "filter_dimension", "filter_value", "dimension", "value", "pageviews",
                     "time_on_page", "time_on_page_views", "visitors"])
    await build.execute(f"ANALYZE {SCRATCH}.pair_rollups")
    disk, bitmaps = await build.fetchrow(f"SELECT pg_total_relation_size('{SCRATCH}.pair_rollups'), "
                                         f"sum(octet_length(visitors)) FROM {SCRATCH}.pair_rollups")
    row_overhead = (disk - bitmaps) / n
    print(f"    built {SCRATCH}.pair_rollups for (country, path) and (device, path): {n:,} rows, {mb(disk)} "
          f"({mb(bitmaps)} of bitmaps, so ~{row_overhead:.0f} B per row besides its bitmap), "
          f"{time.perf_counter() - t:.1f} s")
    got, s = await timed(lambda: pair_pages(conn, project, first, last, "country", args.country), runs)
    report("pairs", "Q1 pages, 1 filter", s, agreement(ref1, got))
    by_value: dict[tuple[str, str], list[BitMap]] = {}
    for dim, value in two:
        for r in await pair_rows(conn, project, first, last, dim, value):
            by_value.setdefault((dim, r["value"]), []).append(BitMap.deserialize(r["visitors"]))
    worst = []
    for path, (_, visitors, _, _) in ref2.items():
        guess = len(BitMap.union(*by_value.get((two[0][0], path), []))
                    & BitMap.union(*by_value.get((two[1][0], path), [])))
        worst.append((guess - visitors, path, visitors, guess))
    worst.sort(reverse=True)
    if worst:
        print(f"    Q2 cannot be answered: pageviews and time on page of {two[0][1]}-and-{two[1][1]} sessions are in "
              f"no pair row (a triple would be). Visitors by intersecting the ({two[0][1]}, path) and ({two[1][1]}, "
              f"path) bitmaps exceed the exact count on {sum(w[0] > 0 for w in worst)} of {len(worst)} paths, by "
              f"{sum(w[0] for w in worst):,} in all (worst {worst[0][1]}: {worst[0][2]:,} exact, {worst[0][3]:,}); "
              "0 means no visitor here has sessions that differ in these dimensions, not that it is exact in general")
    t = time.perf_counter()
    sample = np.linspace(d2 - 80, d2 - 5, args.sample_days).astype(int).tolist()
    lines, rows, nbytes, per_pv = pair_estimate(d, sample, row_overhead)
    print(f"    estimate for {len(FILTER_DIMS)} filter dims x {len(REPORT_DIMS)} report dims over the whole dataset "
          f"({time.perf_counter() - t:.0f} s; rows exact, bitmaps sized on days {sample}, {row_overhead:.0f} B "
          "per row besides):")
    print("\n".join(lines))
    print(f"    total: {rows:,} rows, ~{mb(nbytes)} (today's daily_rollups: {size[0]:,} rows, {mb(size[1])} of "
          f"live tuples); pair rows updated per pageview at ingest: {per_pv:.1f} for these "
          f"{len(FILTER_DIMS)} filter dims (today: one per dimension, about 16)")

    if not args.no_narrow_table:
        print("\n5. narrow: dictionary-encoded fact tables in PostgreSQL (no joins)")
        built = await narrow_build(build, d)
        disk = await build.fetchrow(f"SELECT pg_total_relation_size('{SCRATCH}.pv_narrow'), "
                                    f"pg_total_relation_size('{SCRATCH}.sess_narrow')")
        print(f"    built from the columnar copy in {built:.1f} s: pv_narrow {mb(disk[0])}, sess_narrow {mb(disk[1])}")
        got, s = await timed(lambda: narrow_pages(conn, d, d1, d2, one), sql_runs)
        report("narrow", "Q1 pages, 1 filter", s, agreement(ref1, got))
        got, s = await timed(lambda: narrow_pages(conn, d, d1, d2, two), sql_runs)
        report("narrow", "Q2 pages, 2 filters", s, agreement(ref2, got))
        got, s = await timed(lambda: narrow_overview(conn, d, d1, d2, one), sql_runs)
        report("narrow", "Q3 overview, 1 filter", s, agreement(ref3, got))


if __name__ == "__main__":
    asyncio.run(main())
