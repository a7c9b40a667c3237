"""Gamma (Mathet et al. 2015): exact alignment, pygamma-agreement's sampler, the contract."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest

from labeling.agreement import gamma_agreement
from labeling.agreement.alignment import best_alignment_disorder, dissimilarity, hungarian
from labeling.agreement.gamma import sampler_statistics, units_array


def random_units(rng: np.random.Generator, m: int, per: int, length: int = 200) -> list:
    units = []
    for a in range(m):
        for _ in range(int(rng.integers(0, per + 1))):
            start = int(rng.integers(0, length))
            end = start + int(rng.integers(1, 30))
            units.append((f"a{a}", start, end, str(rng.choice(list("xyz")))))
    return units


def test_hungarian_matches_scipy_linear_sum_assignment() -> None:
    optimize = pytest.importorskip("scipy.optimize")
    rng = np.random.default_rng(3)
    for n in (1, 2, 5, 9, 17):
        cost = rng.random((n, n)) * rng.integers(1, 5)
        rows, cols = optimize.linear_sum_assignment(cost)
        ours = hungarian(cost)
        assert cost[np.arange(n), ours].sum() == pytest.approx(cost[rows, cols].sum())
        assert sorted(ours.tolist()) == list(range(n))


def test_two_annotator_alignment_matches_an_assignment_solved_by_scipy() -> None:
    optimize = pytest.importorskip("scipy.optimize")
    rng = np.random.default_rng(5)
    for _ in range(20):
        units = random_units(rng, 2, 8)
        arr, listed, _ = units_array(units, ["a0", "a1"])
        if arr.shape[0] == 0:
            continue
        a, b = arr[arr[:, 0] == 0], arr[arr[:, 0] == 1]
        d = dissimilarity(a[:, None, :], b[None, :, :], 1.0, 1.0)
        n1, n2 = d.shape
        big = 1e6
        cost = np.full((n1 + n2, n1 + n2), big)
        cost[:n1, :n2] = d
        cost[:n1, n2:][np.eye(n1, dtype=bool)] = 1.0
        cost[n1:, :n2][np.eye(n2, dtype=bool)] = 1.0
        cost[n1:, n2:] = 0.0
        rows, cols = optimize.linear_sum_assignment(cost)
        expected = cost[rows, cols].sum() / (arr.shape[0] / 2)
        assert best_alignment_disorder(arr, 2) == pytest.approx(expected)


def test_hand_computed_disorders() -> None:
    # Identical units: nothing to disagree about.
    same = [("x", 0, 10, "s"), ("y", 0, 10, "s")]
    result = gamma_agreement(same, n_samples=5)
    assert result["observed_disorder"] == 0.0
    assert result["gamma"] == 1.0
    # Two annotators, [0, 10) vs [2, 10): positional ((2 + 0) / 18)^2 = 1/81, one unitary
    # alignment, 1 unit per annotator on average.
    shifted = [("x", 0, 10, "s"), ("y", 2, 10, "s")]
    assert gamma_agreement(shifted, n_samples=1)["observed_disorder"] == pytest.approx(1 / 81)
    # Far apart: aligning would cost ((100 + 100) / 20)^2 = 100 > 2 singletons at 1 each.
    far = [("x", 0, 10, "s"), ("y", 100, 110, "s")]
    assert gamma_agreement(far, n_samples=1)["observed_disorder"] == pytest.approx(2.0)
    # Three annotators, the third marked nothing: one unitary alignment (x, y, empty)
    # with (0 + 1 + 1) / 3, units per annotator 2/3, disorder 1.
    silent = gamma_agreement(same, n_samples=1, annotators=["x", "y", "z"])
    assert silent["observed_disorder"] == pytest.approx(1.0)


def test_swapped_categories_are_disorder() -> None:
    right = [("x", 0, 5, "source"), ("x", 6, 10, "cue"), ("y", 0, 5, "source"), ("y", 6, 10, "cue")]
    swapped = right[:2] + [("y", 0, 5, "cue"), ("y", 6, 10, "source")]
    assert gamma_agreement(right, n_samples=3)["gamma"] == 1.0
    assert gamma_agreement(swapped, n_samples=3)["observed_disorder"] > 0.5


def test_same_seed_same_result_and_one_sample_is_accepted() -> None:
    units = [("x", 0, 10, "s"), ("x", 30, 34, "c"), ("y", 2, 10, "s"), ("z", 31, 40, "s")]
    a = gamma_agreement(units, n_samples=7, seed=4)
    assert a == gamma_agreement(units, n_samples=7, seed=4)
    assert a["n_samples"] == 7
    assert set(a) == {"gamma", "observed_disorder", "expected_disorder", "n_samples"}
    one = gamma_agreement(units, n_samples=1, seed=0)
    assert one["n_samples"] == 1
    assert math.isfinite(one["expected_disorder"])


def test_undefined_without_two_annotators_or_units() -> None:
    assert gamma_agreement([("x", 0, 3, "c")], n_samples=2)["gamma"] is None
    assert gamma_agreement([], n_samples=2, annotators=["x", "y"])["gamma"] is None
    with pytest.raises(ValueError, match="n_samples"):
        gamma_agreement([("x", 0, 3, "c")], n_samples=0)
    with pytest.raises(ValueError, match="annotators"):
        gamma_agreement([("x", 0, 3, "c")], annotators=["y", "z"])


def test_sampler_statistics_follow_pygamma_rules() -> None:
    # Gaps: a 0, consecutive units of one annotator (20 - 10), first starts > 0 (5);
    # units per annotator include the one who marked nothing (2, 1, 0).
    units = [("x", 0, 10, "s"), ("x", 20, 25, "c"), ("y", 5, 9, "s")]
    arr, _, _ = units_array(units, ["x", "y", "z"])
    stats = sampler_statistics(arr, 3)
    assert stats["gap"] == pytest.approx((np.mean([0, 10, 5]), np.std([0, 10, 5])))
    assert stats["count"] == pytest.approx((1.0, np.std([2, 1, 0])))
    assert stats["duration"] == pytest.approx((np.mean([10, 5, 4]), np.std([10, 5, 4])))


def test_offsets_are_code_points_of_text_outside_the_bmp() -> None:
    text = "Sie sagte 👍: „die 🇺🇦 Lage 👩‍💻 ist 例えば café\u0301 ruhig“."
    cue = (text.index("sagte"), text.index("sagte") + 5)
    content = (text.index("die"), text.index("“"))
    units = [(a, *cue, "cue") for a in "xy"] + [(a, *content, "content") for a in "xy"]
    assert gamma_agreement(units, n_samples=2)["gamma"] == 1.0
    units[-1] = ("y", content[0] + 1, content[1], "content")  # one code point off
    assert 0 < gamma_agreement(units, n_samples=2)["observed_disorder"] < 0.01


@pytest.fixture(scope="module")
def pygamma():
    module = pytest.importorskip("pygamma_agreement")
    logging.getLogger().setLevel(logging.ERROR)  # "CBC solver not installed" warnings
    return module


def pygamma_continuum(pygamma, units: list, annotators: list):
    from pyannote.core import Segment

    continuum = pygamma.Continuum()
    for a in annotators:
        continuum.add_annotator(a)
    for a, s, e, c in units:
        continuum.add(a, Segment(s, e), c)
    return continuum


def test_observed_disorder_equals_pygamma_best_alignment(pygamma) -> None:
    rng = np.random.default_rng(1)
    dissim = pygamma.CombinedCategoricalDissimilarity(alpha=1, beta=1)
    for m in (2, 3, 3, 4, 3):
        annotators = [f"a{i}" for i in range(m)]
        units = random_units(rng, m, 5)
        if not units:
            continue
        reference = pygamma_continuum(pygamma, units, annotators).get_best_alignment(dissim)
        ours = gamma_agreement(units, n_samples=1, annotators=annotators)
        assert ours["observed_disorder"] == pytest.approx(reference.disorder, rel=1e-5)


def test_expected_disorder_matches_pygamma_default_sampler(pygamma) -> None:
    units = [
        ("a", 0, 10, "x"), ("a", 20, 25, "y"), ("a", 40, 60, "x"),
        ("b", 1, 10, "x"), ("b", 19, 26, "y"), ("b", 45, 60, "y"),
        ("c", 0, 9, "x"), ("c", 70, 80, "x"),
    ]  # fmt: skip
    np.random.seed(0)  # pygamma-agreement draws from numpy's global generator
    dissim = pygamma.CombinedCategoricalDissimilarity(alpha=1, beta=1)
    reference = pygamma_continuum(pygamma, units, ["a", "b", "c"]).compute_gamma(
        dissim, n_samples=150
    )
    draws = np.array([a.disorder for a in reference.chance_alignments])
    ours = gamma_agreement(units, n_samples=1500, seed=1)
    standard_error = math.hypot(draws.std() / math.sqrt(150), draws.std() / math.sqrt(1500))
    assert ours["observed_disorder"] == pytest.approx(reference.observed_disorder, rel=1e-5)
    assert abs(ours["expected_disorder"] - reference.expected_disorder) < 4 * standard_error


def test_observed_disorder_equals_pygamma_on_attribution_like_documents(pygamma) -> None:
    """Triples (source, cue, content) of three annotators with jittered boundaries: the
    components chain several triples, where the dynamic programme has real work."""
    rng = np.random.default_rng(11)
    dissim = pygamma.CombinedCategoricalDissimilarity(alpha=1, beta=1)
    annotators = ["a0", "a1", "a2"]
    for _ in range(2):
        units = []
        for sentence in range(12):
            base = sentence * 40
            if rng.random() < 0.5:
                continue
            true = [
                (base + 1, base + 6, "source"),
                (base + 7, base + 11, "cue"),
                (base + 12, base + 38, "content"),
            ]
            for a in annotators:
                if rng.random() < 0.85:
                    for start, end, role in true:
                        jb, je = rng.integers(-2, 3, size=2)
                        begin = start + int(jb)
                        units.append((a, begin, max(end + int(je), begin + 1), role))
        reference = pygamma_continuum(pygamma, units, annotators).get_best_alignment(dissim)
        ours = gamma_agreement(units, n_samples=1, annotators=annotators)
        assert ours["observed_disorder"] == pytest.approx(reference.disorder, rel=1e-5)
