"""Kappas, pi, AC1 and percent agreement against sklearn, statsmodels, nltk and published data."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from nltk.metrics.agreement import AnnotationTask
from nltk.metrics.distance import binary_distance, interval_distance
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import aggregate_raters
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa

from labeling.agreement import (
    cohen_kappa,
    fleiss_kappa,
    gwet_ac1,
    krippendorff_alpha,
    percent_agreement,
    scott_pi,
)
from labeling.agreement.counts import value_counts
from labeling.agreement.pairwise import mean_pairwise_kappa, pair_confusions

from .strategies import close, reliability_matrices
from .test_alpha_reference import K2011_CODES

# Fleiss (1971): 30 patients x 6 psychiatrists, 5 diagnoses, as R irr's `diagnoses` data
# (copied from statsmodels' test suite); kappa = 0.430 (R irr kappam.fleiss: 0.4302445).
DIAGNOSES = np.array(
    [
        [4, 4, 4, 4, 4, 4],
        [2, 2, 2, 5, 5, 5],
        [2, 3, 3, 3, 3, 5],
        [5, 5, 5, 5, 5, 5],
        [2, 2, 2, 4, 4, 4],
        [1, 1, 3, 3, 3, 3],
        [3, 3, 3, 3, 5, 5],
        [1, 1, 3, 3, 3, 4],
        [1, 1, 4, 4, 4, 4],
        [5, 5, 5, 5, 5, 5],
        [1, 4, 4, 4, 4, 4],
        [1, 2, 4, 4, 4, 4],
        [2, 2, 2, 3, 3, 3],
        [1, 4, 4, 4, 4, 4],
        [2, 2, 4, 4, 4, 5],
        [3, 3, 3, 3, 3, 5],
        [1, 1, 1, 4, 5, 5],
        [1, 1, 1, 1, 1, 2],
        [2, 2, 4, 4, 4, 4],
        [1, 3, 3, 5, 5, 5],
        [5, 5, 5, 5, 5, 5],
        [2, 4, 4, 4, 4, 4],
        [2, 2, 4, 5, 5, 5],
        [1, 1, 4, 4, 4, 4],
        [1, 4, 4, 4, 4, 5],
        [2, 2, 2, 2, 2, 4],
        [1, 1, 1, 1, 5, 5],
        [2, 2, 4, 4, 4, 4],
        [1, 3, 3, 3, 3, 3],
        [5, 5, 5, 5, 5, 5],
    ]
)

# Wikipedia "Fleiss' kappa" worked example (also statsmodels' test table): 10 subjects,
# 14 raters, 5 categories, given as counts per category; kappa = 0.210.
WIKIPEDIA_TABLE = np.array(
    [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
)


def table_to_codes(table: np.ndarray) -> np.ndarray:
    """Expand per-category counts into a reliability matrix (rater order is irrelevant)."""
    return np.array([np.repeat(np.arange(table.shape[1]), row) for row in table])


def test_fleiss_1971_diagnoses() -> None:
    """Fleiss (1971) psychiatric diagnoses: kappa = 0.430 (statsmodels/R irr 0.4302445)."""
    codes = DIAGNOSES - 1
    ours = fleiss_kappa(codes, 5)
    assert round(ours, 3) == 0.430
    assert abs(ours - 0.4302445) < 1e-7
    assert close(ours, sm_fleiss_kappa(aggregate_raters(codes)[0]))


def test_fleiss_wikipedia_example() -> None:
    """Wikipedia's Fleiss' kappa example: P-bar = 0.378, P_e = 0.213, kappa = 0.210."""
    codes = table_to_codes(WIKIPEDIA_TABLE)
    assert round(fleiss_kappa(codes, 5), 3) == 0.210
    assert round(percent_agreement(codes, 5), 3) == 0.378
    assert close(fleiss_kappa(codes, 5), sm_fleiss_kappa(WIKIPEDIA_TABLE))


def test_gwet_and_fleiss_on_krippendorff_example_match_irrcac() -> None:
    """Gwet's irrCAC (v0.4.4, dataset ``raw_4raters`` = Krippendorff 2011's 4 x 12 data):
    AC1 = 0.77544 (p_a 0.81818, p_e 0.19032); Fleiss' kappa = 0.76117 (p_e 0.23872).
    Values computed with irrCAC by hand for this test, then frozen here."""
    assert round(gwet_ac1(K2011_CODES, 5), 5) == 0.77544
    assert round(fleiss_kappa(K2011_CODES, 5), 5) == 0.76117
    assert round(percent_agreement(K2011_CODES, 5), 5) == 0.81818


@settings(max_examples=60, deadline=None)
@given(
    data=reliability_matrices(min_annotators=2, max_annotators=2),
    weights=st.sampled_from([None, "linear", "quadratic"]),
)
def test_cohen_kappa_matches_sklearn(data: tuple[np.ndarray, int], weights: str | None) -> None:
    codes, n_categories = data
    both = (codes >= 0).all(axis=1)
    ours = cohen_kappa(codes, n_categories, weights=weights)
    if not both.any():
        assert ours is None
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = cohen_kappa_score(
            codes[both, 0], codes[both, 1], labels=list(range(n_categories)), weights=weights
        )
    assert close(ours, ref)


@settings(max_examples=60, deadline=None)
@given(data=reliability_matrices(min_annotators=2, allow_missing=False))
def test_fleiss_kappa_matches_statsmodels(data: tuple[np.ndarray, int]) -> None:
    codes, n_categories = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = sm_fleiss_kappa(aggregate_raters(codes)[0])
    assert close(fleiss_kappa(codes, n_categories), ref)


def nltk_task(codes: np.ndarray, distance=binary_distance) -> AnnotationTask:
    triples = [
        (str(a), str(u), int(codes[u, a]))
        for u in range(codes.shape[0])
        for a in range(codes.shape[1])
        if codes[u, a] >= 0
    ]
    return AnnotationTask(data=triples, distance=distance)


@settings(max_examples=40, deadline=None)
@given(
    data=reliability_matrices(min_annotators=2),
    level=st.sampled_from(["nominal", "interval"]),
)
def test_alpha_matches_nltk_with_missing_data(data: tuple[np.ndarray, int], level: str) -> None:
    codes, n_categories = data
    counts = value_counts(codes, n_categories)
    pairable = counts.sum(axis=1) >= 2
    # nltk returns 1 (we return None) when a single value is used; nothing to compare then.
    assume(pairable.any() and (counts[pairable].sum(axis=0) > 0).sum() >= 2)
    distance = binary_distance if level == "nominal" else interval_distance
    ours = krippendorff_alpha(codes, level, n_categories=n_categories)
    assert close(ours, nltk_task(codes, distance).alpha())


@settings(max_examples=40, deadline=None)
@given(data=reliability_matrices(min_annotators=2, allow_missing=False))
def test_pi_and_mean_kappa_match_nltk_on_complete_data(data: tuple[np.ndarray, int]) -> None:
    codes, n_categories = data
    task = nltk_task(codes)
    confusions = pair_confusions(codes, n_categories)
    ours_pi = scott_pi(codes, n_categories)
    ours_kappa = mean_pairwise_kappa(confusions)
    assume(ours_pi is not None)
    assert close(ours_pi, task.pi())
    kappas = [cohen_kappa(codes[:, [a, b]], n_categories) for (a, b) in confusions]
    assume(all(k is not None for k in kappas))
    assert close(ours_kappa, task.kappa())


def test_scott_pi_two_annotators_textbook() -> None:
    """Scott (1955) for two coders: pi = (A_o - A_e)/(1 - A_e), A_e from pooled marginals."""
    a = np.array([0, 0, 0, 1, 1, 2, 2, 2, 0, 1])
    b = np.array([0, 0, 1, 1, 1, 2, 2, 0, 0, 1])
    codes = np.stack([a, b], axis=1)
    observed = np.mean(a == b)
    pooled = np.bincount(np.concatenate([a, b]), minlength=3) / 20
    expected = (pooled**2).sum()
    assert close(scott_pi(codes, 3), (observed - expected) / (1 - expected))
    # With two coders and no gaps, Fleiss' kappa is Scott's pi.
    assert close(fleiss_kappa(codes, 3), scott_pi(codes, 3))


@settings(max_examples=40, deadline=None)
@given(data=reliability_matrices())
def test_percent_agreement_is_mean_pairwise_item_agreement(data: tuple[np.ndarray, int]) -> None:
    codes, n_categories = data
    per_item = []
    for row in codes:
        vals = row[row >= 0]
        pairs = [(i, j) for i in range(len(vals)) for j in range(len(vals)) if i != j]
        if pairs:
            per_item.append(np.mean([vals[i] == vals[j] for i, j in pairs]))
    expected = float(np.mean(per_item)) if per_item else None
    assert close(percent_agreement(codes, n_categories), expected)


def test_gwet_ac1_two_raters_textbook() -> None:
    """Gwet (2008) two raters, two categories: AC1 = (p_a - p_e)/(1 - p_e) with
    p_e = 2 pi (1 - pi), pi the mean of the raters' 'yes' shares."""
    a = np.array([1, 1, 1, 1, 1, 1, 1, 1, 0, 0])
    b = np.array([1, 1, 1, 1, 1, 1, 1, 0, 1, 0])
    p_a = np.mean(a == b)
    pi = (a.mean() + b.mean()) / 2
    p_e = 2 * pi * (1 - pi)
    ac1 = gwet_ac1(np.stack([a, b], axis=1), 2)
    assert ac1 == pytest.approx((p_a - p_e) / (1 - p_e), abs=1e-12)
