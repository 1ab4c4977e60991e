"""The one rounding rule of the reports (docs/metrics.md, Rounding)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from pulse.query.rollups import Totals
from pulse.query.rounding import average, percent, rate, ratio


@pytest.mark.parametrize(("part", "whole", "expected"), [
    (1, 3, 33.33), (2, 3, 66.67), (1, 8, 12.5), (1, 1, 100.0), (0, 7, 0.0),
    (1, 6, 16.67), (5, 6, 83.33), (1, 7, 14.29),
    (20_001, 60_000, 33.34),  # 33.335 exactly: half away from zero (round() on the float says 33.33)
])
def test_rates_and_percentages_have_two_decimals(part, whole, expected):
    assert percent(part, whole) == expected
    assert rate(part, whole) == expected


@pytest.mark.parametrize(("total", "count", "expected"), [
    (10, 4, 2.5), (1, 3, 0.33), (200, 3, 66.67), (12_345, 1, 12_345.0), (5, 8, 0.63), (2.5, 1, 2.5),
])
def test_averages_have_two_decimals(total, count, expected):
    assert average(total, count) == expected


@pytest.mark.parametrize(("part", "whole", "expected"), [
    (1, 3, 0.3333), (2, 3, 0.6667), (1, 20_000, 0.0001), (1, 40_000, 0.0), (3, 80_000, 0.0), (1, 1, 1.0),
    (Fraction(1, 2), 1, 0.5),
])
def test_ratios_have_four_decimals(part, whole, expected):
    assert ratio(part, whole) == expected


def test_an_empty_denominator_is_zero():
    assert percent(0, 0) == average(0, 0) == ratio(0, 0) == 0.0
    assert percent(3, 0) == average(3, 0) == ratio(3, 0) == 0.0


def test_the_rollup_totals_use_the_rule():
    t = Totals(pageviews=9, sessions=6, bounces=4, duration=301, time_on_page=100, time_on_page_views=3)
    assert (t.bounce_rate, t.avg_duration, t.avg_time_on_page) == (66.67, 50.17, 33.33)
    assert (Totals().bounce_rate, Totals().avg_duration, Totals().avg_time_on_page) == (0.0, 0.0, 0.0)
