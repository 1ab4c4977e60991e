"""SessionValues (pulse.ingest.sessionsets): a map of session numbers to counts as roaring bitmaps."""

from __future__ import annotations

import random

import pytest
from pyroaring import BitMap

from pulse.ingest.sessionsets import SessionValues


def filled(seed: int) -> tuple[SessionValues, dict[int, int]]:
    rng = random.Random(seed)
    values, truth = SessionValues(), {}
    for _ in range(3000):  # changes in any order, some taking values back to zero
        session, delta = rng.randint(1, 500), rng.choice([1, 1, 2, 7, 300, 4096, -1, -2])
        truth[session] = max(0, truth.get(session, 0) + delta)
        values.put(session, truth[session])
    return values, {s: v for s, v in truth.items() if v}


@pytest.mark.parametrize("seed", range(3))
def test_values_sums_and_comparisons_are_exact(seed):
    values, truth = filled(seed)
    assert set(values.members) == set(truth)
    assert all(values.get(s) == v for s, v in truth.items())
    within = BitMap(s for s in truth if s % 3)
    assert values.total() == sum(truth.values())
    assert values.total(within) == sum(v for s, v in truth.items() if s in within)
    for threshold in (0, 1, 2, 3, 7, 8, 300, 301, 4096, 4097, 10**6):
        assert set(values.at_least(threshold)) == {s for s, v in truth.items() if v >= threshold}
    again = SessionValues.load(values.dump())
    assert {s: again.get(s) for s in again.members} == truth


def test_a_set_only_notes_who_joined_and_left():
    values = SessionValues()
    values.apply({1: 1, 2: 3, 3: -1}, counted=False)
    values.apply({2: -1, 4: 0}, counted=False)
    assert list(values.members) == [1] and values.slices == []


def test_counted_changes_add_to_stored_values():
    values = SessionValues()
    values.apply({1: 5, 2: 1}, counted=True)
    values.apply({1: -2, 2: -1, 3: 4}, counted=True)
    assert {s: values.get(s) for s in values.members} == {1: 3, 3: 4}
    values.remove(BitMap([3]))
    assert list(values.members) == [1] and values.total() == 3
