"""Bootstrap intervals of benchmark averages and paired differences (generated cases)."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skillmap.evaluation.uncertainty import bootstrap_interval, paired_difference

CI = "CI" in os.environ
PROPERTY = settings(deadline=None, max_examples=60, derandomize=CI, print_blob=CI)

# per-item metric values as benchmarks produce them: RP@5 is a multiple of 1/5 .. 1/1
scores = st.lists(st.sampled_from([0.0, 0.2, 0.25, 1 / 3, 0.5, 2 / 3, 0.75, 1.0]),
                  min_size=1, max_size=80)


@PROPERTY
@given(scores)
def test_the_interval_holds_the_mean_and_stays_within_the_items(values):
    low, high = bootstrap_interval(values, resamples=300)
    mean = float(np.mean(values))
    assert min(values) - 1e-12 <= low <= mean + 1e-12
    assert mean - 1e-12 <= high <= max(values) + 1e-12


@PROPERTY
@given(scores, st.integers(0, 2**31))
def test_the_interval_is_reproducible_from_its_seed(values, seed):
    assert bootstrap_interval(values, resamples=200, seed=seed) == \
        bootstrap_interval(values, resamples=200, seed=seed)


def test_nothing_to_resample_gives_the_mean_itself():
    assert bootstrap_interval([0.4]) == (0.4, 0.4)
    assert bootstrap_interval([1.0] * 30) == (1.0, 1.0)
    with pytest.raises(ValueError, match="no values"):
        bootstrap_interval([])


@PROPERTY
@given(scores.filter(lambda v: len(set(v)) > 1), st.sampled_from([0.02, 0.05, 0.1]))
def test_pairing_cancels_what_two_systems_share(values, gain):
    """A system better by the same amount on every item: each separate interval is wide,
    the paired difference is exact and clearly not noise."""
    better = [v + gain for v in values]
    difference = paired_difference(better, values)
    assert difference.mean == pytest.approx(gain)
    assert difference.low == pytest.approx(gain) and difference.high == pytest.approx(gain)
    assert difference.clear
    low, high = bootstrap_interval(values, resamples=300)
    assert high - low > 0


def test_a_difference_within_noise_is_not_clear():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 2, 61).astype(float)          # two unrelated systems of equal skill
    b = rng.integers(0, 2, 61).astype(float)
    difference = paired_difference(a, b)
    assert difference.low < difference.mean < difference.high and not difference.clear
    with pytest.raises(ValueError, match="differ in length"):
        paired_difference(a, b[:-1])
