"""Issue 12's defects reproduced (D2-D5) and the coefficients a methods section asks for."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

from labeling.agreement import scott_pi, summarize_labels
from labeling.agreement.aggregation import leave_one_out_accuracy, majority_vote
from labeling.agreement.coefficients import (
    agreement_weights,
    brennan_prediger_from_counts,
    gwet_ac1_from_counts,
    gwet_ac2_from_counts,
    observed_agreement_from_coincidences,
    per_category_fleiss_kappa_from_counts,
    percent_agreement_from_counts,
)
from labeling.agreement.counts import coincidences_from_counts, value_counts
from labeling.agreement.data_warnings import minimum_pairable_values
from labeling.agreement.intervals import hayes_krippendorff_q

LABELS = ["a", "b", "c"]


def two_annotators_with_strays() -> tuple[np.ndarray, np.ndarray]:
    """50 items coded by two annotators who agree on 45; a third adds two stray codes."""
    first = np.array([i % 3 for i in range(50)])
    second = first.copy()
    second[:5] = (second[:5] + 1) % 3
    base = np.stack([first, second, np.full(50, -1)], axis=1)
    return base, np.vstack([base, [[0, -1, 1], [-1, 2, 0]]])


def mean_pair_agreement_pi(codes: np.ndarray) -> float:
    """The old multi-pi: every annotator pair weighs the same, whatever it shares."""
    agreements = []
    for a in range(codes.shape[1]):
        for b in range(a + 1, codes.shape[1]):
            both = (codes[:, a] >= 0) & (codes[:, b] >= 0)
            if both.any():
                agreements.append(np.mean(codes[both, a] == codes[both, b]))
    counts = value_counts(codes, 3)
    pooled = counts[counts.sum(axis=1) >= 2].sum(axis=0) / counts[counts.sum(axis=1) >= 2].sum()
    expected = (pooled**2).sum()
    return (np.mean(agreements) - expected) / (1 - expected)


def test_d2_multi_rater_pi_does_not_collapse_on_two_stray_annotations() -> None:
    base, strays = two_annotators_with_strays()
    before, after = scott_pi(base, 3), scott_pi(strays, 3)
    assert mean_pair_agreement_pi(strays) < 0.1  # the old definition collapses
    assert before == pytest.approx(0.85, abs=1e-3)
    assert after > 0.75
    assert abs(after - before) < 0.06


def test_d3_headline_kappa_uses_the_pairs_pairwise_shows() -> None:
    base, strays = two_annotators_with_strays()
    two = summarize_labels(base, LABELS, bootstrap_draws=0)
    three = summarize_labels(strays, LABELS, bootstrap_draws=0)
    shown = [p for p in three["pairwise"] if p["kappa"] is not None]
    assert len(shown) == 1
    assert three["cohen_kappa"] == pytest.approx(shown[0]["kappa"])
    assert three["cohen_kappa"] == pytest.approx(two["cohen_kappa"])  # not (0.85 + 0 + 0) / 3
    assert three["cohen_kappa_pairs"] == {"n_pairs": 1, "n_pairs_excluded": 2, "min_shared": 2}


def test_d4_leave_one_out_accuracy_unmasks_a_spammer_at_overlap_two() -> None:
    rng = np.random.default_rng(0)
    n_items, truth = 600, rng.integers(0, 3, 600)
    skill = np.array([0.9, 0.9, 0.9, 0.42])  # annotator 3 is right 42% of the time
    items, annotators, labels = [], [], []
    for u in range(n_items):
        for a in rng.choice(4, 2, replace=False):
            right = rng.random() < skill[a]
            items.append(u)
            annotators.append(a)
            labels.append(truth[u] if right else rng.choice([c for c in range(3) if c != truth[u]]))
    items, annotators, labels = map(np.array, (items, annotators, labels))
    codes = np.full((n_items, 4), -1)
    codes[items, annotators] = labels
    winners, _ = majority_vote(codes, 3, confidence="share")
    decided = winners[items] >= 0
    hits = winners[items][decided] == labels[decided]
    with_own_vote = np.bincount(annotators[decided], weights=hits) / np.bincount(
        annotators[decided]
    )
    assert with_own_vote[3] == 1.0  # the old score: everyone is always right
    accuracy, scored = leave_one_out_accuracy(
        items, annotators, labels, n_items=n_items, n_annotators=4, n_classes=3
    )
    assert scored.min() > 200
    assert accuracy[3] < 0.5
    assert accuracy[:3].min() > accuracy[3] + 0.2


def test_d4_majority_confidence_grows_with_the_number_of_votes() -> None:
    codes = np.array([[0, -1, -1], [0, 0, 0], [0, 0, 1], [-1, -1, -1]])
    _, confidence = majority_vote(codes, 3)
    assert confidence.tolist() == pytest.approx([2 / 4, 4 / 6, 3 / 6, 0.0])
    assert confidence[0] < confidence[1]  # one vote is not unanimity
    _, share = majority_vote(codes, 3, confidence="share")
    assert share.tolist() == pytest.approx([1.0, 1.0, 2 / 3, 0.0])


def test_d5_degenerate_interval_states_its_draws_and_warns() -> None:
    codes = np.array([[0, 0]] * 29 + [[1, 1]])
    s = summarize_labels(codes, ["x", "y"], bootstrap_draws=1000, seed=0)
    assert s["alpha"] == 1.0
    assert s["alpha_ci95"] == [1.0, 1.0]
    record = s["alpha_interval"]
    assert record["n_draws"] == 1000
    assert record["n_valid"] == 674  # 326 draws had no "y" at all
    assert record["resampled"] == "items"
    assert "percentile bootstrap" in record["method"]
    codes_ = {w["code"] for w in s["warnings"]}
    assert {"few_valid_draws", "too_few_pairable_values"} <= codes_
    assert all(set(w) == {"code", "message"} for w in s["warnings"])


def test_d5_no_warning_on_plenty_of_balanced_data() -> None:
    rng = np.random.default_rng(1)
    truth = rng.integers(0, 3, 400)
    codes = np.where(rng.random((400, 3)) < 0.85, truth[:, None], rng.integers(0, 3, (400, 3)))
    s = summarize_labels(codes, LABELS, bootstrap_draws=300)
    assert s["warnings"] == []
    for name in ("alpha", "cohen_kappa", "scott_pi", "fleiss_kappa", "gwet_ac1"):
        low, high = s[f"{name}_ci95"]
        assert low < s[name] < high
        assert s[f"{name}_interval"]["n_valid"] == 300


def test_krippendorff_minimum_sample_reproduces_the_published_table() -> None:
    """Krippendorff (2004) Table 11.3 (Bloch & Kraemer 1989): p = .25, p-level .05."""
    assert minimum_pairable_values(0.25, 0.8) == 139
    assert minimum_pairable_values(0.25, 0.667) == 81


def test_cluster_bootstrap_widens_the_interval_of_repeated_sentences() -> None:
    """Three stance targets per sentence judged alike: resampling tasks as independent
    items understates the uncertainty; resampling sentences does not."""
    rng = np.random.default_rng(2)
    n_sentences = 150
    truth = rng.integers(0, 3, n_sentences)
    noise = rng.integers(0, 3, (n_sentences, 3))
    noisy = np.where(rng.random((n_sentences, 3)) < 0.7, truth[:, None], noise)
    codes = np.repeat(noisy, 3, axis=0)  # each sentence's three targets coded the same
    sentences = np.repeat(np.arange(n_sentences), 3)
    by_item = summarize_labels(codes, LABELS, bootstrap_draws=400)
    by_sentence = summarize_labels(codes, LABELS, bootstrap_draws=400, clusters=sentences)
    width = lambda s: s["alpha_ci95"][1] - s["alpha_ci95"][0]  # noqa: E731
    assert by_sentence["alpha_interval"]["resampled"] == "sentences"
    assert width(by_sentence) > 1.4 * width(by_item)


def test_weighted_kappa_matches_sklearn() -> None:
    rng = np.random.default_rng(3)
    a = rng.integers(0, 4, 80)
    b = np.clip(a + rng.integers(-1, 2, 80), 0, 3)
    s = summarize_labels(np.stack([a, b], axis=1), list("wxyz"), "ordinal", bootstrap_draws=0)
    for w in ("linear", "quadratic"):
        assert s["weighted_kappa"][w] == pytest.approx(cohen_kappa_score(a, b, weights=w))
    nominal = summarize_labels(np.stack([a, b], 1), list("wxyz"), bootstrap_draws=0)
    assert nominal["weighted_kappa"] is None


def test_brennan_prediger_is_randolphs_free_marginal_kappa_on_complete_data() -> None:
    rng = np.random.default_rng(4)
    codes = rng.integers(0, 3, (60, 4))
    table, _ = aggregate_raters(codes, n_cat=3)
    ours = brennan_prediger_from_counts(value_counts(codes, 3))
    assert ours == pytest.approx(fleiss_kappa(table, method="randolph"))


def test_gwet_ac2_reduces_to_ac1_with_identity_weights_and_credits_near_misses() -> None:
    rng = np.random.default_rng(5)
    truth = rng.integers(0, 5, 100)
    codes = np.clip(truth[:, None] + rng.integers(-1, 2, (100, 3)), 0, 4)
    counts = value_counts(codes, 5)
    assert gwet_ac2_from_counts(counts, np.eye(5)) == pytest.approx(gwet_ac1_from_counts(counts))
    ordinal = gwet_ac2_from_counts(counts, agreement_weights("ordinal", 5))
    assert ordinal > gwet_ac1_from_counts(counts)
    weights = agreement_weights("interval", 3, np.array([0.0, 1.0, 4.0]))
    np.testing.assert_allclose(weights, [[1, 15 / 16, 0], [15 / 16, 1, 7 / 16], [0, 7 / 16, 1]])


def test_observed_agreement_is_not_the_percent_agreement() -> None:
    """A_o pools pairs (items weighted by their values); percent agreement averages items."""
    codes = np.array([[0, 0, 0, 0], [0, 1, -1, -1]])
    counts = value_counts(codes, 2)
    a_o = observed_agreement_from_coincidences(coincidences_from_counts(counts))
    assert a_o == pytest.approx(4 / 6)  # 4 values paired with their own, 2 not
    assert percent_agreement_from_counts(counts) == pytest.approx(0.5)  # (1 + 0) / 2


def test_per_category_fleiss_kappa_equals_fleiss_on_binary_data() -> None:
    rng = np.random.default_rng(6)
    codes = rng.integers(0, 2, (70, 5))
    table, _ = aggregate_raters(codes, n_cat=2)
    per = per_category_fleiss_kappa_from_counts(value_counts(codes, 2))
    assert per == pytest.approx([fleiss_kappa(table)] * 2)
    s = summarize_labels(codes, ["no", "yes"], bootstrap_draws=0)
    assert s["per_category_fleiss_kappa"]["yes"] == pytest.approx(fleiss_kappa(table))


def test_hayes_krippendorff_q_is_the_share_of_draws_below_the_minimum() -> None:
    samples = np.array([0.5, 0.7, 0.79, 0.81, 0.9, np.nan])
    assert hayes_krippendorff_q(samples, 0.8) == pytest.approx(3 / 5)
    assert hayes_krippendorff_q(samples, 0.667) == pytest.approx(1 / 5)
    rng = np.random.default_rng(7)
    truth = rng.integers(0, 3, 300)
    codes = np.where(rng.random((300, 3)) < 0.9, truth[:, None], rng.integers(0, 3, (300, 3)))
    s = summarize_labels(codes, LABELS, bootstrap_draws=300)
    assert set(s["alpha_q"]) == {"0.667", "0.8"}
    assert s["alpha_q"]["0.667"] <= s["alpha_q"]["0.8"]


def test_leave_one_out_alpha_points_at_the_annotator_who_disagrees() -> None:
    rng = np.random.default_rng(8)
    truth = rng.integers(0, 3, 200)
    codes = np.stack([truth, truth, truth, rng.integers(0, 3, 200)], axis=1)
    codes[rng.random(codes.shape) < 0.05] = -1
    s = summarize_labels(codes, LABELS, bootstrap_draws=0)
    by_index = {e["index"]: e for e in s["per_annotator"]}
    assert by_index[3]["alpha_without"] == pytest.approx(1.0)
    assert by_index[3]["alpha_delta"] < -0.2
    assert all(by_index[a]["alpha_without"] < s["alpha"] for a in range(3))
    direct = summarize_labels(codes[:, :3], LABELS, bootstrap_draws=0)["alpha"]
    assert by_index[3]["alpha_without"] == pytest.approx(direct)
