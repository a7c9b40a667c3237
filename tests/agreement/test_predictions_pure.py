"""Model vs reference figures (pure): accuracy and kappa against scikit-learn, majority ties."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, cohen_kappa_score

from labeling.agreement.predictions import compare_with_reference, majority_codes


def test_accuracy_and_kappa_match_scikit_learn_on_the_compared_items():
    rng = np.random.default_rng(3)
    reference = rng.integers(0, 3, 300)
    predicted = np.where(rng.random(300) < 0.7, reference, rng.integers(0, 3, 300))
    predicted[:10] = -1  # no prediction
    reference[290:] = -1  # no reference
    out = compare_with_reference(predicted, reference, n_categories=3, draws=300, seed=1)
    both = (predicted >= 0) & (reference >= 0)
    assert out["n"] == int(both.sum()) == 280
    assert out["accuracy"] == pytest.approx(accuracy_score(reference[both], predicted[both]))
    assert out["kappa"] == pytest.approx(cohen_kappa_score(predicted[both], reference[both]))
    for key in ("accuracy", "kappa"):
        low, high = out[f"{key}_ci95"]
        assert low < out[key] < high
        assert high - low < 0.25
    assert out["interval"]["n_draws"] == 300
    assert out["interval"]["resampled"] == "items"
    again = compare_with_reference(predicted, reference, n_categories=3, draws=300, seed=1)
    assert again == out  # the same seed gives the same interval


def test_clusters_widen_the_interval_when_pairs_are_not_independent():
    reference = np.repeat(np.arange(40) % 2, 5)  # 40 tasks, 5 annotations each, all alike
    predicted = np.repeat(np.where(np.arange(40) < 30, np.arange(40) % 2, 1 - np.arange(40) % 2), 5)
    tasks = np.repeat(np.arange(40), 5)
    flat = compare_with_reference(predicted, reference, n_categories=2, draws=400, seed=0)
    clustered = compare_with_reference(
        predicted, reference, n_categories=2, draws=400, seed=0, clusters=tasks
    )
    assert flat["accuracy"] == clustered["accuracy"] == 0.75
    width = lambda o: o["accuracy_ci95"][1] - o["accuracy_ci95"][0]  # noqa: E731
    assert width(clustered) > 1.5 * width(flat)
    assert clustered["interval"]["resampled"] == "tasks"


def test_span_answers_get_accuracy_but_no_kappa_and_empty_input_gives_nones():
    out = compare_with_reference(
        np.array([0, 1, 2]), np.array([0, 1, 3]), n_categories=4, categorical=False, draws=50
    )
    assert out["accuracy"] == pytest.approx(2 / 3)
    assert out["kappa"] is None
    assert out["kappa_ci95"] is None
    empty = compare_with_reference(np.array([-1]), np.array([0]), n_categories=2)
    assert (empty["n"], empty["accuracy"], empty["kappa"]) == (0, None, None)
    with pytest.raises(ValueError, match="same length"):
        compare_with_reference(np.array([0]), np.array([0, 1]), n_categories=2)


def test_majority_leaves_ties_and_unanswered_items_out():
    items = np.array([0, 0, 0, 1, 1, 2, 3])
    codes = np.array([1, 1, 0, 0, 1, 2, -1])
    assert majority_codes(items, codes, 5, 3).tolist() == [1, -1, 2, -1, -1]
