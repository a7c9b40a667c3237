"""Pure scoring: Wilson intervals, percentiles, the drift flag (no database)."""

from __future__ import annotations

import numpy as np
import pytest

from labeling.quality.scoring import drifted, percentile, wilson_interval


def test_wilson_interval_matches_the_published_formula() -> None:
    # Newcombe (1998), Table I, example: 81 successes of 263 -> 0.2553 to 0.3662
    low, high = wilson_interval(81, 263)
    assert low == pytest.approx(0.2553, abs=1e-4)
    assert high == pytest.approx(0.3662, abs=1e-4)
    assert wilson_interval(0, 0) is None
    low, high = wilson_interval(10, 10)
    assert high == 1.0
    assert 0.69 < low < 0.73


@pytest.mark.parametrize("q", [0, 10, 50, 90, 99, 100])
def test_percentile_interpolates_like_numpy(q) -> None:
    values = [5, 1, 9, 3, 3, 120, 7]
    assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))
    assert percentile([], q) is None


def test_drift_needs_a_clear_drop_below_the_annotators_own_level() -> None:
    good = [True] * 40
    assert not drifted(good + [True] * 20)
    assert drifted(good + [False] * 12 + [True] * 8)  # 40% recently against 100% before
    earlier = [True] * 36 + [False] * 4  # 90%
    assert not drifted(earlier + [False] * 3 + [True] * 17)  # 85% recently: within chance
    assert not drifted([False] * 10)  # too few answers to say
