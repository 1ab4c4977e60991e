"""The one rounding rule of every report (docs/metrics.md, "Rounding").

- `percent(part, whole)`: a rate or percentage (bounce rate, exit rate, share of visitors), 0 to
  100, two decimals.
- `average(total, count)`: a mean (durations in seconds, per-visit counts), two decimals.
- `ratio(part, whole)`: a fraction between 0 and 1 (a conversion probability), four decimals.

Each takes the exact numerator and denominator, not an already divided float, and rounds the
exact quotient half away from zero (33.335 is 33.34, not the 33.33 that `round()` gives for the
float nearest 33.335). An empty denominator gives 0.0, so an empty period reads as zeros.
"""

from __future__ import annotations

from fractions import Fraction

RATE_DECIMALS = 2
AVERAGE_DECIMALS = 2
RATIO_DECIMALS = 4

Number = int | float | Fraction


def _rounded(numerator: Number, denominator: Number, decimals: int) -> float:
    if not denominator:
        return 0.0
    scale = 10 ** decimals
    if isinstance(numerator, int) and isinstance(denominator, int):  # the common case, kept exact and fast
        n, d = numerator * scale, denominator
    else:
        exact = Fraction(numerator) * scale / Fraction(denominator)
        n, d = exact.numerator, exact.denominator
    negative = (n < 0) != (d < 0)
    n, d = abs(n), abs(d)
    units = (2 * n + d) // (2 * d)  # half away from zero
    return (-units if negative else units) / scale


def percent(part: Number, whole: Number) -> float:
    """`part` as a percentage of `whole`, two decimals (rates, percentages, shares)."""
    return _rounded(100 * part, whole, RATE_DECIMALS)


rate = percent  # a rate per 100 (bounce rate, exit rate) is a percentage


def average(total: Number, count: Number) -> float:
    """The mean of `count` values adding up to `total`, two decimals."""
    return _rounded(total, count, AVERAGE_DECIMALS)


def ratio(part: Number, whole: Number) -> float:
    """`part / whole` between 0 and 1, four decimals."""
    return _rounded(part, whole, RATIO_DECIMALS)
