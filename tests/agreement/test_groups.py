"""Agreement per group (per document, by suggestion) and Dawid-Skene accuracy beside alpha."""

import numpy as np
import pytest

from labeling.agreement import summarize_labels
from labeling.agreement.aggregation import dawid_skene, dawid_skene_accuracy
from labeling.agreement.bootstrap import percentile_interval
from labeling.agreement.counts import value_counts
from labeling.agreement.groups import (
    _percentile_columns,
    alpha_by_group,
    alpha_by_origin,
    group_alpha,
)

LABELS = ["a", "b", "c"]


def _codes(rng, n_items, n_annotators, accuracy=0.8, missing=0.0):
    truth = rng.integers(0, 3, n_items)
    right = rng.random((n_items, n_annotators)) < accuracy
    codes = np.where(right, truth[:, None], rng.integers(0, 3, (n_items, n_annotators)))
    codes[rng.random(codes.shape) < missing] = -1
    return codes


# --------------------------------------------------------------------------- per group


def test_each_group_has_the_alpha_counts_and_interval_of_its_own_items():
    rng = np.random.default_rng(7)
    codes = _codes(rng, 600, 4, missing=0.3)
    counts = value_counts(codes, 3)
    groups = rng.integers(0, 9, 600) * 10 + 5  # uneven sizes, ids not 0..n-1
    scores = rng.random(600)
    out = alpha_by_group(
        counts, groups, LABELS, "nominal", draws=1000, seed=3, item_disagreement=scores
    )
    assert [e["group"] for e in out] == sorted(set(groups.tolist()))
    for entry in out:
        rows = np.flatnonzero(groups == entry["group"])
        alone = group_alpha(counts[rows], LABELS, "nominal", None, draws=1000, seed=3)
        assert entry["alpha"] == pytest.approx(alone["alpha"], abs=1e-12)
        for key in ("n_items", "n_pairable_items", "n_pairable_values", "n_annotations"):
            assert entry[key] == alone[key]
        assert [w["code"] for w in entry["warnings"]] == [w["code"] for w in alone["warnings"]]
        # Different resample indices, same bootstrap: the intervals agree closely.
        assert entry["alpha_ci95"] == pytest.approx(alone["alpha_ci95"], abs=0.04)
        assert entry["alpha_interval"]["n_draws"] == 1000
        assert entry["alpha_interval"]["method"] == alone["alpha_interval"]["method"]
        # Disputed rows: the group's own rows, highest score first, at most ten.
        listed = [d["item"] for d in entry["disputed"]]
        expected = rows[np.argsort(-scores[rows], kind="stable")][:10]
        assert listed == expected.tolist()
        assert entry["n_disputed"] == rows.size


def test_ordinal_and_interval_groups_match_their_own_alpha():
    rng = np.random.default_rng(11)
    codes = _codes(rng, 300, 3)
    counts = value_counts(codes, 3)
    groups = np.arange(300) // 50
    values = np.array([0.0, 1.0, 5.0])
    for level, vals in (("ordinal", None), ("interval", values), ("ratio", values + 1)):
        out = alpha_by_group(counts, groups, LABELS, level, vals, draws=200, seed=0)
        for entry in out:
            rows = groups == entry["group"]
            alone = group_alpha(counts[rows], LABELS, level, vals, draws=0, seed=0)
            assert entry["alpha"] == pytest.approx(alone["alpha"], abs=1e-12)


def test_groups_of_sentences_resample_whole_sentences():
    rng = np.random.default_rng(5)
    codes = _codes(rng, 400, 3)
    counts = value_counts(codes, 3)
    groups = np.arange(400) // 100
    sentences = np.arange(400) // 2  # two tasks (targets) per sentence
    out = alpha_by_group(
        counts, groups, LABELS, "nominal", draws=300, clusters=sentences, resampled="sentences"
    )
    assert {e["alpha_interval"]["resampled"] for e in out} == {"sentences"}


def test_a_group_without_pairable_values_warns_and_has_no_interval():
    codes = np.array([[0, 0], [1, 1], [0, 1], [2, -1], [-1, 1]])
    counts = value_counts(codes, 3)
    out = alpha_by_group(counts, np.array([1, 1, 1, 2, 2]), LABELS, "nominal", draws=100)
    lonely = out[1]
    assert lonely["alpha"] is None
    assert lonely["alpha_ci95"] is None
    assert lonely["n_pairable_values"] == 0
    assert lonely["n_items"] == 2
    assert [w["code"] for w in lonely["warnings"]] == ["too_few_pairable_values"]
    # The other group has 6 pairable values: below Krippendorff's minimum, so it warns too.
    assert "too_few_pairable_values" in [w["code"] for w in out[0]["warnings"]]


def test_a_degenerate_group_warns_about_its_undefined_draws():
    # Issue 12, D5: 29 items [0, 0] and one [1, 1] give alpha 1.0, but about a third of the
    # resamples have no variation. The per-document figure warns like the headline.
    codes = np.array([[0, 0]] * 29 + [[1, 1]] + [[0, 1], [1, 0]] * 20)
    counts = value_counts(codes, 2)
    groups = np.array([0] * 30 + [1] * 40)
    out = alpha_by_group(counts, groups, ["x", "y"], "nominal", draws=1000)
    assert out[0]["alpha"] == 1.0
    assert 500 < out[0]["alpha_interval"]["n_valid"] < 950
    assert "few_valid_draws" in [w["code"] for w in out[0]["warnings"]]
    assert out[1]["alpha_interval"]["n_valid"] == 1000


def test_percentile_columns_equal_the_headline_percentile_interval():
    rng = np.random.default_rng(2)
    samples = rng.normal(size=(997, 6))
    samples[rng.random(samples.shape) < 0.2] = np.nan
    samples[:, 5] = np.nan
    got = _percentile_columns(samples)
    for j in range(5):
        assert got[:, j].tolist() == pytest.approx(percentile_interval(samples[:, j]), abs=1e-12)
    assert np.isnan(got[:, 5]).all()


def test_rejects_groups_of_the_wrong_length():
    with pytest.raises(ValueError, match="groups"):
        alpha_by_group(np.zeros((3, 2), dtype=int), np.zeros(2), ["x", "y"], "nominal", draws=0)


# ------------------------------------------------------------------------ by suggestion


def test_alpha_by_origin_separates_suggested_answers():
    rng = np.random.default_rng(3)
    n = 400
    truth = rng.integers(0, 3, n)
    codes = np.where(rng.random((n, 4)) < 0.5, truth[:, None], rng.integers(0, 3, (n, 4)))
    suggested = np.zeros((n, 4), dtype=bool)
    suggested[:, :2] = True  # two annotators accept the (right) suggestion every time
    codes[:, :2] = truth[:, None]
    out = alpha_by_origin(codes, suggested, LABELS, "nominal", draws=200)
    assert out["suggested"]["alpha"] == 1.0
    assert out["not_suggested"]["alpha"] < 0.5
    assert out["suggested"]["n_annotations"] == 2 * n
    assert out["not_suggested"]["n_annotations"] == 2 * n
    assert out["share_suggested"] == 0.5
    # Pairs across the groups count in neither.
    mixed = np.zeros((n, 4), dtype=bool)
    mixed[:, 0] = True
    split = alpha_by_origin(codes, mixed, LABELS, "nominal", draws=0)
    assert split["suggested"]["n_pairable_values"] == 0
    assert "too_few_pairable_values" in [w["code"] for w in split["suggested"]["warnings"]]


def test_alpha_by_origin_warns_when_a_group_is_small():
    codes = np.array([[0, 1, 1]] * 2 + [[0, 0, 1]] * 8 + [[1, 1, 1]] * 10)
    suggested = np.zeros(codes.shape, dtype=bool)
    suggested[:3, :2] = True
    out = alpha_by_origin(codes, suggested, ["x", "y"], "nominal", draws=100)
    assert out["suggested"]["n_pairable_values"] == 6
    assert "too_few_pairable_values" in [w["code"] for w in out["suggested"]["warnings"]]
    with pytest.raises(ValueError, match="suggested"):
        alpha_by_origin(codes, suggested[:, :2], ["x", "y"], "nominal", draws=0)


# ------------------------------------------------------------------------ Dawid-Skene


def test_dawid_skene_accuracy_on_distinct_rows_is_the_full_fit():
    rng = np.random.default_rng(4)
    codes = _codes(rng, 3000, 5, accuracy=0.7, missing=0.3)
    codes[:, 4] = np.where(codes[:, 4] >= 0, rng.integers(0, 3, 3000), -1)  # a spammer
    full = dawid_skene(codes, 3)
    collapsed = dawid_skene_accuracy(codes, 3)
    np.testing.assert_allclose(collapsed.accuracy, full.annotator_accuracy, atol=1e-9)
    assert collapsed.n_iter == full.n_iter
    np.testing.assert_array_equal(collapsed.counts, (codes >= 0).sum(axis=0))
    assert collapsed.accuracy[4] < 0.45 < 0.6 < collapsed.accuracy[:4].min()


def test_dawid_skene_accuracy_of_an_empty_column_is_nan():
    codes = np.array([[0, 0, -1], [1, 1, -1], [1, 0, -1]])
    out = dawid_skene_accuracy(codes, 2)
    assert np.isnan(out.accuracy[2])
    assert out.counts.tolist() == [3, 3, 0]


@pytest.mark.filterwarnings("ignore::Warning:crowdkit")  # its pandas deprecations
def test_dawid_skene_accuracy_matches_crowdkit():
    """Reference: crowd-kit 1.4.2 ``DawidSkene`` (pinned in requirements-dev.txt)."""
    crowdkit = pytest.importorskip("crowdkit.aggregation")
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(2024)
    codes = _codes(rng, 500, 5, accuracy=0.75, missing=0.4)
    codes[:, 0] = np.where(codes[:, 0] >= 0, rng.integers(0, 3, 500), -1)
    items, annotators = np.nonzero(codes >= 0)
    frame = pd.DataFrame({"task": items, "worker": annotators, "label": codes[items, annotators]})
    theirs = crowdkit.DawidSkene(n_iter=2000, tol=1e-12).fit(frame)
    priors = theirs.priors_
    expected = [sum(priors[k] * theirs.errors_.loc[(w, k), k] for k in range(3)) for w in range(5)]
    ours = dawid_skene_accuracy(codes, 3, smoothing=0.0, max_iter=2000, tol=1e-12)
    np.testing.assert_allclose(ours.accuracy, expected, atol=1e-3)


def test_the_summary_puts_dawid_skene_beside_leave_one_out():
    # Issue 12, D4: with two annotations per item a majority including one's own vote gives
    # everyone 1.0; Dawid-Skene tells the spammer apart.
    rng = np.random.default_rng(9)
    n = 600
    truth = rng.integers(0, 3, n)
    codes = np.full((n, 4), -1)
    for i in range(n):
        pair = rng.choice(4, size=2, replace=False)
        for a in pair:
            good = a != 3
            codes[i, a] = truth[i] if (good and rng.random() < 0.9) else rng.integers(0, 3)
    summary = summarize_labels(codes, LABELS, bootstrap_draws=0)
    rows = {e["index"]: e for e in summary["per_annotator"]}
    assert set(rows) == {0, 1, 2, 3}
    assert rows[3]["dawid_skene_accuracy"] < 0.55
    assert min(rows[a]["dawid_skene_accuracy"] for a in (0, 1, 2)) > 0.8
    assert rows[3]["alpha_without"] > summary["alpha"]  # leave-one-out agrees: better without
    assert summary["dawid_skene"]["converged"] is True
