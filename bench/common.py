"""What the benchmark scripts share: percentiles of timings, and a timed call."""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def percentiles(samples: list[float]) -> str:
    return f"p50 {statistics.median(samples):8.1f} ms   p95 {p95(samples):8.1f} ms"


async def timed_runs(call: Callable[[], Awaitable[object]], runs: int) -> tuple[list[float], object]:
    """Milliseconds of each of `runs` awaited calls, and the last call's answer."""
    samples, answer = [], None
    for _ in range(runs):
        began = time.perf_counter()
        answer = await call()
        samples.append((time.perf_counter() - began) * 1000)
    return samples, answer
