"""Majority vote and Dawid-Skene: hand-computed cases, a naive reference, simulations."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from labeling.agreement.aggregation import (
    dawid_skene,
    dawid_skene_triples,
    majority_vote,
    vote_counts,
)

# --------------------------------------------------------------------------- majority vote


def test_majority_vote_basic():
    codes = np.array([[0, 0, 1], [2, 2, 2], [1, -1, -1], [-1, -1, -1]])
    labels, confidence = majority_vote(codes, 3, confidence="share")
    assert labels.tolist() == [0, 2, 1, -1]
    assert confidence.tolist() == pytest.approx([2 / 3, 1.0, 1.0, 0.0])
    assert labels.dtype == np.int64
    assert confidence.dtype == np.float64


def test_majority_vote_tie_policies():
    # class 2 is the most frequent overall, then class 1, then class 0
    codes = np.array(
        [
            [0, 1, -1, -1],  # 0-1 tie
            [1, 2, -1, -1],  # 1-2 tie
            [0, 2, -1, -1],  # 0-2 tie
            [2, 2, 2, 1],
            [2, 1, 1, 2],  # 1-2 tie
        ]
    )
    none, conf = majority_vote(codes, 3, confidence="share")
    assert none.tolist() == [-1, -1, -1, 2, -1]
    assert conf.tolist() == pytest.approx([0.5, 0.5, 0.5, 0.75, 0.5])
    first, conf_first = majority_vote(codes, 3, tie="first", confidence="share")
    assert first.tolist() == [0, 1, 0, 2, 1]
    assert conf_first.tolist() == conf.tolist()
    prior, _ = majority_vote(codes, 3, tie="prior")
    assert prior.tolist() == [1, 2, 2, 2, 2]


def test_majority_vote_prior_tie_falls_back_to_schema_order():
    codes = np.array([[0, 1], [1, 0]])  # classes equally frequent overall
    labels, _ = majority_vote(codes, 2, tie="prior")
    assert labels.tolist() == [0, 0]


def test_majority_vote_empty_and_single_annotator():
    labels, confidence = majority_vote(np.empty((0, 4), dtype=int), 3)
    assert labels.shape == confidence.shape == (0,)
    labels, confidence = majority_vote(np.empty((3, 0), dtype=int), 3)
    assert labels.tolist() == [-1, -1, -1]
    assert confidence.tolist() == [0.0, 0.0, 0.0]
    labels, confidence = majority_vote(np.array([[2], [0], [-1]]), 3, confidence="share")
    assert labels.tolist() == [2, 0, -1]
    assert confidence.tolist() == [1.0, 1.0, 0.0]


def test_vote_counts():
    counts = vote_counts(np.array([[0, 0, 1], [-1, 2, -1]]), 3)
    assert counts.tolist() == [[2, 1, 0], [0, 0, 1]]


@pytest.mark.parametrize(
    ("codes", "n_classes", "message"),
    [
        (np.array([0, 1]), 2, "2-D"),
        (np.array([[0.0, 1.0]]), 2, "integers"),
        (np.array([[0, 2]]), 2, r"-1\.\.1"),
        (np.array([[-2, 0]]), 2, r"-1\.\.1"),
        (np.array([[0]]), 0, "at least 1"),
    ],
)
def test_invalid_codes(codes, n_classes, message):
    with pytest.raises(ValueError, match=message):
        majority_vote(codes, n_classes)
    with pytest.raises(ValueError, match=message):
        dawid_skene(codes, n_classes)


def test_invalid_options():
    codes = np.array([[0, 1]])
    with pytest.raises(ValueError, match="tie must be one of none, first, prior"):
        majority_vote(codes, 2, tie="random")
    with pytest.raises(ValueError, match="init"):
        dawid_skene(codes, 2, init="random")
    with pytest.raises(ValueError, match="init array must have shape"):
        dawid_skene(codes, 2, init=np.ones((2, 2)))
    with pytest.raises(ValueError, match="smoothing"):
        dawid_skene(codes, 2, smoothing=-1)
    with pytest.raises(ValueError, match="max_iter"):
        dawid_skene(codes, 2, max_iter=-1)
    with pytest.raises(ValueError, match="same length"):
        dawid_skene_triples([0], [0, 1], [0], n_items=1, n_annotators=2, n_classes=2)


# --------------------------------------------------------------------------- Dawid-Skene


def test_dawid_skene_one_step_by_hand():
    """One M-step from the vote shares, then an E-step, computed on paper.

    Items: (0, 0), (1, 1), (0, 1); initial T = [1, 0], [0, 1], [.5, .5]; priors [.5, .5].
    Annotator 0 answered 0, 1, 0: confusion rows (true 0) [1.5, 0] -> [1, 0],
    (true 1) [0.5, 1] -> [1/3, 2/3]. Annotator 1 answered 0, 1, 1: (true 0) [1, .5] ->
    [2/3, 1/3], (true 1) [0, 1.5] -> [0, 1]. Item 2: class 0 gets .5 * 1 * 1/3 = 1/6,
    class 1 gets .5 * 1/3 * 1 = 1/6, a tie. Each item's evidence is 1/3.
    """
    codes = np.array([[0, 0], [1, 1], [0, 1]])
    r = dawid_skene(codes, 2, max_iter=0, smoothing=0.0)
    assert r.n_iter == 0
    assert r.class_priors.tolist() == pytest.approx([0.5, 0.5])
    np.testing.assert_allclose(r.confusion[0], [[1, 0], [1 / 3, 2 / 3]])
    np.testing.assert_allclose(r.confusion[1], [[2 / 3, 1 / 3], [0, 1]])
    np.testing.assert_allclose(r.posterior, [[1, 0], [0, 1], [0.5, 0.5]], atol=1e-9)
    assert r.labels.tolist() == [0, 1, 0]  # exact tie: first in schema order
    assert r.confidence.tolist() == pytest.approx([1, 1, 0.5])
    assert r.log_likelihood == pytest.approx(3 * math.log(1 / 3), rel=1e-8)
    # accuracy = prior-weighted diagonal
    assert r.annotator_accuracy.tolist() == pytest.approx(
        [0.5 * 1 + 0.5 * 2 / 3, 0.5 * 2 / 3 + 0.5]
    )


def _naive_dawid_skene(codes, K, iters, smoothing):
    """Loop-by-loop EM straight from the paper's equations, as an independent reference."""
    n, A = codes.shape
    T = np.zeros((n, K))
    for i in range(n):
        for a in range(A):
            if codes[i, a] >= 0:
                T[i, codes[i, a]] += 1
        if T[i].sum():
            T[i] /= T[i].sum()
    seen = [i for i in range(n) if (codes[i] >= 0).any()]

    def m_step(T):
        prior = np.array([sum(T[i, k] for i in seen) + smoothing for k in range(K)])
        prior /= prior.sum()
        conf = np.full((A, K, K), smoothing)
        for i in seen:
            for a in range(A):
                if codes[i, a] >= 0:
                    for k in range(K):
                        conf[a, k, codes[i, a]] += T[i, k]
        for a in range(A):
            for k in range(K):
                conf[a, k] /= conf[a, k].sum()
        return prior, conf

    def e_step(prior, conf):
        T = np.zeros((n, K))
        for i in seen:
            logs = [
                math.log(prior[k])
                + sum(math.log(conf[a, k, codes[i, a]]) for a in range(A) if codes[i, a] >= 0)
                for k in range(K)
            ]
            top = max(logs)
            w = [math.exp(x - top) for x in logs]
            T[i] = np.array(w) / sum(w)
        return T

    prior, conf = m_step(T)
    for _ in range(iters):
        T = e_step(prior, conf)
        prior, conf = m_step(T)
    return e_step(prior, conf), prior, conf


def test_dawid_skene_matches_naive_reference():
    rng = np.random.default_rng(42)
    codes = rng.integers(0, 3, size=(25, 4))
    codes[rng.random(codes.shape) < 0.3] = -1
    codes[3] = -1  # an item nobody labelled
    T, prior, conf = _naive_dawid_skene(codes, 3, iters=7, smoothing=0.5)
    r = dawid_skene(codes, 3, max_iter=7, tol=0.0, smoothing=0.5)
    assert r.n_iter == 7
    assert not r.converged
    seen = (codes >= 0).any(axis=1)
    np.testing.assert_allclose(r.posterior[seen], T[seen], atol=1e-12)
    np.testing.assert_allclose(r.class_priors, prior, atol=1e-12)
    np.testing.assert_allclose(r.confusion, conf, atol=1e-12)
    np.testing.assert_allclose(r.posterior[3], r.class_priors)
    assert r.labels[3] == -1
    assert r.confidence[3] == 0.0


def test_unanimous_data_equals_majority_vote():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 4, 500)
    codes = np.repeat(truth[:, None], 5, axis=1)
    codes[rng.random(codes.shape) < 0.3] = -1
    codes[:, 0] = truth  # at least one annotation per item
    r = dawid_skene(codes, 4)
    mv, _ = majority_vote(codes, 4)
    assert (r.labels == mv).all()
    assert (r.labels == truth).all()
    assert r.confidence.min() > 0.99
    assert r.converged


def _simulate(rng, n_items, accuracies, K, missing=0.0):
    truth = rng.integers(0, K, n_items)
    acc = np.asarray(accuracies)
    correct = rng.random((n_items, len(acc))) < acc
    random_answers = rng.integers(0, K, (n_items, len(acc)))
    codes = np.where(correct, truth[:, None], random_answers)
    codes[rng.random(codes.shape) < missing] = -1
    return truth, codes


def test_spammers_get_low_accuracy_and_dawid_skene_beats_majority_vote():
    rng = np.random.default_rng(7)
    K = 3
    # three careful annotators, four who answer at random (accuracy 0 beyond chance)
    truth, codes = _simulate(rng, 2000, [0.85, 0.8, 0.75, 0.0, 0.0, 0.0, 0.0], K)
    r = dawid_skene(codes, K)
    assert r.converged
    good, spam = r.annotator_accuracy[:3], r.annotator_accuracy[3:]
    assert good.min() > 0.75
    assert spam.max() < 0.45  # chance is 1/3
    ds_accuracy = (r.labels == truth).mean()
    mv_labels, _ = majority_vote(codes, K, tie="first")
    mv_accuracy = (mv_labels == truth).mean()
    assert ds_accuracy > mv_accuracy + 0.05, (ds_accuracy, mv_accuracy)
    assert ds_accuracy > 0.9


def test_single_annotator_gold_is_their_answer():
    codes = np.array([[2], [0], [1], [-1], [0]])
    r = dawid_skene(codes, 3)
    assert r.labels.tolist() == [2, 0, 1, -1, 0]
    assert np.isfinite(r.posterior).all()
    assert r.annotator_counts.tolist() == [4]


def test_empty_inputs():
    for shape in [(0, 0), (0, 3), (4, 0), (4, 3)]:
        codes = np.full(shape, -1, dtype=np.int64)
        r = dawid_skene(codes, 3)
        assert r.labels.tolist() == [-1] * shape[0]
        assert r.posterior.shape == (shape[0], 3)
        assert r.confusion.shape == (shape[1], 3, 3)
        assert r.annotator_accuracy.shape == (shape[1],)
        for array in (r.posterior, r.confidence, r.class_priors, r.confusion):
            assert np.isfinite(array).all()
        assert r.confidence.tolist() == [0.0] * shape[0]
        assert r.n_iter == 0
        assert r.log_likelihood == 0.0


def test_annotator_without_annotations():
    codes = np.array([[0, -1], [1, -1], [0, -1]])
    r = dawid_skene(codes, 2)
    assert r.annotator_counts.tolist() == [3, 0]
    np.testing.assert_allclose(r.confusion[1], 0.5)
    assert r.annotator_accuracy[1] == pytest.approx(0.5)


def test_triples_equal_matrix():
    rng = np.random.default_rng(3)
    _, codes = _simulate(rng, 200, [0.9, 0.6, 0.5, 0.3], 3, missing=0.4)
    items, annotators = np.nonzero(codes >= 0)
    perm = rng.permutation(len(items))  # order of annotations must not matter
    r1 = dawid_skene(codes, 3)
    r2 = dawid_skene_triples(
        items[perm],
        annotators[perm],
        codes[items, annotators][perm],
        n_items=200,
        n_annotators=4,
        n_classes=3,
    )
    np.testing.assert_allclose(r1.posterior, r2.posterior, atol=1e-12)
    assert r1.n_iter == r2.n_iter


def test_init_options_and_log_likelihood_increases():
    rng = np.random.default_rng(5)
    _, codes = _simulate(rng, 300, [0.8, 0.7, 0.6, 0.2], 3, missing=0.2)
    lls = [dawid_skene(codes, 3, max_iter=i, tol=0.0).log_likelihood for i in range(8)]
    # EM never decreases the (penalised) objective; with small smoothing the likelihood
    # itself rises monotonically here too
    assert all(b >= a - 1e-9 for a, b in zip(lls, lls[1:], strict=False))
    hard = dawid_skene(codes, 3, init="hard_majority")
    soft = dawid_skene(codes, 3)
    assert (hard.labels == soft.labels).mean() > 0.95
    given_init = dawid_skene(codes, 3, init=np.eye(3)[np.maximum(majority_vote(codes, 3)[0], 0)])
    assert given_init.converged


@given(
    codes=hnp.arrays(
        np.int64,
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=0, max_side=12),
        elements=st.integers(min_value=-1, max_value=3),
    ),
    smoothing=st.sampled_from([0.0, 0.01, 1.0]),
)
@settings(max_examples=150, deadline=None)
def test_dawid_skene_properties(codes, smoothing):
    r = dawid_skene(codes, 4, smoothing=smoothing)
    n_items = codes.shape[0]
    assert r.posterior.shape == (n_items, 4)
    for array in (r.posterior, r.confidence, r.class_priors, r.confusion, r.annotator_accuracy):
        assert np.isfinite(array).all()
    np.testing.assert_allclose(r.posterior.sum(axis=1), 1.0, atol=1e-9)
    np.testing.assert_allclose(r.confusion.sum(axis=2), 1.0, atol=1e-9)
    seen = (codes >= 0).any(axis=1)
    assert ((r.labels == -1) == ~seen).all()
    assert ((r.confidence >= 0) & (r.confidence <= 1 + 1e-12)).all()
    assert np.isfinite(r.log_likelihood)
    labels, confidence = majority_vote(codes, 4)
    assert ((labels >= -1) & (labels < 4)).all()
    assert ((labels == -1) | seen).all()


def test_million_annotations_in_a_few_seconds():
    rng = np.random.default_rng(11)
    _, codes = _simulate(rng, 200_000, [0.9, 0.8, 0.7, 0.6, 0.3], 3)
    assert (codes >= 0).sum() == 1_000_000
    start = time.perf_counter()
    r = dawid_skene(codes, 3)
    elapsed = time.perf_counter() - start
    assert r.converged
    assert elapsed < 10.0, elapsed


@pytest.mark.filterwarnings("ignore::Warning:crowdkit")  # its pandas deprecations
def test_matches_crowdkit_dawid_skene():
    crowdkit = pytest.importorskip("crowdkit.aggregation")
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(2024)
    _, codes = _simulate(rng, 400, [0.9, 0.75, 0.6, 0.5, 0.2, 0.0], 3, missing=0.5)
    items, annotators = np.nonzero(codes >= 0)
    frame = pd.DataFrame({"task": items, "worker": annotators, "label": codes[items, annotators]})
    theirs = crowdkit.DawidSkene(n_iter=2000, tol=1e-12).fit(frame)
    ours = dawid_skene(codes, 3, smoothing=0.0, max_iter=2000, tol=1e-12)
    probas = theirs.probas_.reindex(columns=range(3), fill_value=0.0).sort_index()
    seen = np.unique(items)
    np.testing.assert_allclose(ours.posterior[seen], probas.to_numpy(), atol=1e-3)
    assert (ours.labels[seen] == probas.to_numpy().argmax(axis=1)).mean() > 0.99
    priors = theirs.priors_.reindex(range(3)).to_numpy()
    np.testing.assert_allclose(ours.class_priors, priors, atol=1e-3)
