"""Gold labels by aggregating annotations: majority vote and Dawid-Skene EM.

Pure numpy. The input is a reliability matrix ``codes`` of shape
``(n_items, n_annotators)`` with integer class codes ``0..n_classes-1`` in the order of
the project's label schema and ``-1`` for "this annotator did not label this item".
:func:`dawid_skene_triples` takes the same data as parallel ``(item, annotator, label)``
arrays, which stays small when there are many annotators who each labelled few items.

Conventions shared by both methods:

* ``labels`` is ``-1`` where no gold label is decided (no annotation, or a tie under
  ``tie="none"``).
* Outputs are NaN-free: items with no annotation get confidence ``0.0``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from .counts import unique_rows

__all__ = [
    "AnnotatorAccuracy",
    "DawidSkeneResult",
    "dawid_skene",
    "dawid_skene_accuracy",
    "dawid_skene_triples",
    "leave_one_out_accuracy",
    "majority_vote",
    "vote_counts",
]

TiePolicy = Literal["none", "first", "prior"]
_TIE_POLICIES = ("none", "first", "prior")
# Floor for probabilities before taking logs when smoothing is 0 (as in crowd-kit).
_EPS = 1e-10


def _check_codes(codes: np.ndarray, n_classes: int) -> np.ndarray:
    if isinstance(n_classes, bool) or not isinstance(n_classes, int | np.integer):
        raise ValueError(f"n_classes must be an int, got {n_classes!r}")
    if n_classes < 1:
        raise ValueError(f"n_classes must be at least 1, got {n_classes}")
    arr = np.asarray(codes)
    if arr.ndim != 2:
        raise ValueError(f"codes must be 2-D (n_items, n_annotators), got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"codes must be integers (-1 for missing), got dtype {arr.dtype}")
    arr = arr.astype(np.int64, copy=False)
    if arr.size:
        low, high = int(arr.min()), int(arr.max())
        if low < -1 or high >= n_classes:
            raise ValueError(
                f"codes must lie in -1..{n_classes - 1} (-1 = missing), found {low}..{high}"
            )
    return arr


def vote_counts(codes: np.ndarray, n_classes: int) -> np.ndarray:
    """Per-item vote counts, shape ``(n_items, n_classes)`` (``-1`` entries ignored)."""
    arr = _check_codes(codes, n_classes)
    n_items = arr.shape[0]
    rows, cols = np.nonzero(arr >= 0)
    flat = rows * n_classes + arr[rows, cols]
    return np.bincount(flat, minlength=n_items * n_classes).reshape(n_items, n_classes)


def majority_vote(
    codes: np.ndarray,
    n_classes: int,
    *,
    tie: TiePolicy = "none",
    confidence: Literal["laplace", "share"] = "laplace",
) -> tuple[np.ndarray, np.ndarray]:
    """Plurality vote per item.

    Tie policy (several classes share the highest count):

    * ``"none"`` (default): no gold label, ``-1``. A tie is a dispute for a lead to
      adjudicate, not something to decide by an arbitrary rule.
    * ``"first"``: the tied class that comes first in the schema order.
    * ``"prior"``: the tied class that is most frequent over all annotations in
      ``codes`` (the empirical prior); if that ties too, the first in schema order.

    Returns:
        ``(labels, confidence)``: ``labels`` int64 ``(n_items,)``, ``-1`` where
        undecided; ``confidence`` float64 ``(n_items,)``, ``0.0`` for items with no
        annotation. ``confidence="laplace"`` (default) is ``(top + 1) / (n + K)``, the
        posterior mean of the winning label's probability under a uniform Dirichlet prior
        (Laplace's rule of succession), so it grows with the number of votes: 1 vote of 1
        gives 0.5 with three labels, 3 of 3 gives 0.667, 10 of 10 0.846.
        ``confidence="share"`` is the winning share ``top / n`` (1.0 for a single vote).
    """
    if tie not in _TIE_POLICIES:
        raise ValueError(f"tie must be one of {', '.join(_TIE_POLICIES)}; got {tie!r}")
    counts = vote_counts(codes, n_classes)
    n_items = counts.shape[0]
    if n_items == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
    n_votes = counts.sum(axis=1)
    top = counts.max(axis=1)
    is_top = counts == top[:, None]
    n_top = is_top.sum(axis=1)
    if tie == "prior":
        prior = counts.sum(axis=0)
        # Rank classes by prior frequency, then schema order; pick the best-ranked tied class.
        best_first = np.lexsort((np.arange(n_classes), -prior))
        place = np.empty(n_classes, dtype=np.int64)  # place[c] = rank of class c
        place[best_first] = np.arange(n_classes)
        labels = np.where(is_top, place[None, :], n_classes).argmin(axis=1)
    else:
        labels = counts.argmax(axis=1)  # first maximum = first in schema order
        if tie == "none":
            labels = np.where(n_top > 1, -1, labels)
    labels = np.where(n_votes > 0, labels, -1).astype(np.int64)
    if confidence == "share":
        conf = np.where(n_votes > 0, top / np.maximum(n_votes, 1), 0.0)
    elif confidence == "laplace":
        conf = np.where(n_votes > 0, (top + 1.0) / (n_votes + n_classes), 0.0)
    else:
        raise ValueError(f"confidence must be 'laplace' or 'share'; got {confidence!r}")
    return labels, conf.astype(np.float64)


def leave_one_out_accuracy(
    items: np.ndarray,
    annotators: np.ndarray,
    labels: np.ndarray,
    *,
    n_items: int,
    n_annotators: int,
    n_classes: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Each annotator's agreement with the majority of the *other* annotators of each item.

    Parallel ``(item, annotator, label)`` arrays. An annotation is scored when the other
    annotators of its item have a strict plurality (no tie, at least one other vote);
    returns ``(accuracy, n_scored)`` per annotator, accuracy NaN where nothing was scored.
    Scoring against a majority that includes one's own vote makes everyone look right
    when two annotators label each item.
    """
    items = np.asarray(items, dtype=np.int64)
    annotators = np.asarray(annotators, dtype=np.int64)
    labels = np.asarray(labels, dtype=np.int64)
    counts = np.bincount(items * n_classes + labels, minlength=n_items * n_classes).reshape(
        n_items, n_classes
    )
    others = counts[items].copy()
    others[np.arange(items.size), labels] -= 1
    top = others.max(axis=1) if items.size else np.zeros(0, dtype=np.int64)
    strict = (others == top[:, None]).sum(axis=1) == 1
    scored = (top > 0) & strict
    hit = scored & (others.argmax(axis=1) == labels)
    n_scored = np.bincount(annotators[scored], minlength=n_annotators)
    hits = np.bincount(annotators[hit], minlength=n_annotators)
    with np.errstate(invalid="ignore", divide="ignore"):
        accuracy = np.where(n_scored > 0, hits / np.maximum(n_scored, 1), np.nan)
    return accuracy, n_scored


@dataclass(frozen=True)
class DawidSkeneResult:
    """The fitted Dawid-Skene model.

    Attributes:
        labels: ``(n_items,)`` int64, the class with the highest posterior (the first in
            schema order on an exact tie); ``-1`` for items with no annotation.
        posterior: ``(n_items, n_classes)`` posterior class probabilities; rows sum to 1.
            Items with no annotation get the class priors.
        confidence: ``(n_items,)`` the maximum posterior; ``0.0`` for items with no
            annotation.
        class_priors: ``(n_classes,)`` estimated class prevalence.
        confusion: ``(n_annotators, n_classes, n_classes)``; ``confusion[a, k, l]`` is
            the estimated probability that annotator ``a`` answers ``l`` when the true
            class is ``k`` (rows, indexed by the true class, sum to 1).
        annotator_accuracy: ``(n_annotators,)`` ``sum_k prior[k] * confusion[a, k, k]``,
            the probability that the annotator is right on an item drawn from the
            priors. Annotators with no annotation have uniform confusion rows, so
            ``1 / n_classes``; use ``annotator_counts`` to tell them apart.
        annotator_counts: ``(n_annotators,)`` number of annotations by each annotator.
        n_iter: EM iterations run.
        converged: whether the change in log-likelihood per annotation fell below
            ``tol`` before ``max_iter``.
        log_likelihood: observed-data log-likelihood ``sum_i log p(answers of item i)``
            under the final parameters (natural log; the smoothing prior not included).
    """

    labels: np.ndarray
    posterior: np.ndarray
    confidence: np.ndarray
    class_priors: np.ndarray
    confusion: np.ndarray
    annotator_accuracy: np.ndarray
    annotator_counts: np.ndarray
    n_iter: int
    converged: bool
    log_likelihood: float


def dawid_skene(
    codes: np.ndarray,
    n_classes: int,
    *,
    max_iter: int = 100,
    tol: float = 1e-6,
    init: Literal["majority", "hard_majority"] | np.ndarray = "majority",
    smoothing: float = 0.01,
) -> DawidSkeneResult:
    """Dawid-Skene EM over a reliability matrix ``codes`` ``(n_items, n_annotators)``.

    A. P. Dawid and A. M. Skene, "Maximum Likelihood Estimation of Observer Error-Rates
    Using the EM Algorithm", Journal of the Royal Statistical Society, Series C (Applied
    Statistics) 28(1), 1979, pp. 20-28, https://doi.org/10.2307/2346806.

    Each annotator ``a`` has a confusion matrix ``pi[a, k, l] = P(answer l | true k)``
    and classes have priors ``p[k]``; the true classes are latent. EM alternates:

    * M-step: ``p[k] ∝ sum_i T[i, k] + smoothing`` and
      ``pi[a, k, l] ∝ sum_{i: a answered l on i} T[i, k] + smoothing``
      (``smoothing`` is an additive Dirichlet pseudo-count: a MAP estimate that keeps
      every probability positive; ``0`` is the paper's maximum likelihood, with
      probabilities floored at 1e-10 before logs).
    * E-step (log space, normalised with log-sum-exp):
      ``log T[i, k] = log p[k] + sum_{(a, l) on i} log pi[a, k, l] - log Z_i``.

    Initialisation (``init``): ``"majority"`` uses each item's vote shares as ``T``, as
    the paper does; ``"hard_majority"`` the one-hot majority class (ties shared
    equally); or an array ``(n_items, n_classes)`` of initial posteriors. Iteration
    stops when the observed-data log-likelihood per annotation changes by less than
    ``tol``, or after ``max_iter`` iterations; a last E-step then makes the posterior
    consistent with the returned parameters.

    Everything is vectorised over annotations (gathers, ``bincount`` and
    ``add.reduceat``; the only Python loops are EM's own and one over classes), about
    0.1 s per iteration for a million annotations with three classes; see
    ``bench/writers_bench.py``.
    """
    arr = _check_codes(codes, n_classes)
    items, annotators = np.nonzero(arr >= 0)
    labels = arr[items, annotators]
    return dawid_skene_triples(
        items,
        annotators,
        labels,
        n_items=arr.shape[0],
        n_annotators=arr.shape[1],
        n_classes=n_classes,
        max_iter=max_iter,
        tol=tol,
        init=init,
        smoothing=smoothing,
    )


def _check_int_array(name: str, values: np.ndarray, upper: int) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must be integers, got dtype {arr.dtype}")
    arr = arr.astype(np.int64, copy=False)
    if arr.size and (arr.min() < 0 or arr.max() >= upper):
        raise ValueError(f"{name} must lie in 0..{upper - 1}, found {arr.min()}..{arr.max()}")
    return arr


def dawid_skene_triples(
    items: np.ndarray,
    annotators: np.ndarray,
    labels: np.ndarray,
    *,
    n_items: int,
    n_annotators: int,
    n_classes: int,
    max_iter: int = 100,
    tol: float = 1e-6,
    init: Literal["majority", "hard_majority"] | np.ndarray = "majority",
    smoothing: float = 0.01,
    item_weights: np.ndarray | None = None,
) -> DawidSkeneResult:
    """:func:`dawid_skene` on parallel arrays of observed ``(item, annotator, label)``.

    Each triple is one annotation (indices ``0..n-1``). One annotation per
    (item, annotator) is expected, as in the data model; repeated pairs are counted as
    independent answers. ``item_weights[i]`` (default 1) makes item ``i`` stand for that
    many identical items: items with the same answers by the same annotators have the
    same posterior, so a matrix collapsed to its distinct rows with their multiplicities
    gives the same fit (priors, confusions, log-likelihood) as the full one, at the cost
    of the distinct rows only (see :func:`dawid_skene_accuracy`).
    """
    if isinstance(n_classes, bool) or not isinstance(n_classes, int | np.integer):
        raise ValueError(f"n_classes must be an int, got {n_classes!r}")
    if n_classes < 1:
        raise ValueError(f"n_classes must be at least 1, got {n_classes}")
    if n_items < 0 or n_annotators < 0:
        raise ValueError("n_items and n_annotators must be non-negative")
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 0:
        raise ValueError(f"max_iter must be a non-negative int, got {max_iter!r}")
    if not (tol >= 0):
        raise ValueError(f"tol must be non-negative, got {tol!r}")
    if not (np.isfinite(smoothing) and smoothing >= 0):
        raise ValueError(f"smoothing must be a finite non-negative number, got {smoothing!r}")
    it = _check_int_array("items", items, max(n_items, 1))
    an = _check_int_array("annotators", annotators, max(n_annotators, 1))
    lab = _check_int_array("labels", labels, n_classes)
    if not (len(it) == len(an) == len(lab)):
        raise ValueError("items, annotators and labels must have the same length")
    K = int(n_classes)
    n_obs = len(it)
    if item_weights is None:
        weight = np.ones(n_items)
    else:
        weight = np.asarray(item_weights, dtype=np.float64)
        if weight.shape != (n_items,) or not np.all(np.isfinite(weight)) or (weight < 0).any():
            raise ValueError(f"item_weights must be {n_items} finite non-negative numbers")

    # Sort annotations by item once: the E-step sums log-likelihoods per item with
    # add.reduceat over contiguous runs.
    order = np.argsort(it, kind="stable")
    it, an, lab = it[order], an[order], lab[order]
    has_obs = np.zeros(n_items, dtype=bool)
    has_obs[it] = True
    observed_items = np.flatnonzero(has_obs)
    run_starts = np.flatnonzero(np.r_[True, it[1:] != it[:-1]]) if n_obs else np.empty(0, int)
    # Position of each annotation's item among the observed items.
    obs_row = np.cumsum(np.r_[False, it[1:] != it[:-1]]) if n_obs else np.empty(0, int)
    cell = an * K + lab  # (annotator, answered label) cell of each annotation
    obs_weight = weight[it]  # the weight of each annotation's item
    annotator_counts = np.rint(np.bincount(an, weights=obs_weight, minlength=n_annotators)).astype(
        np.int64
    )
    n_weighted = float(obs_weight.sum()) or 1.0
    seen_weight = weight[observed_items][:, None]

    # Initial posteriors over observed items.
    n_seen = len(observed_items)
    if isinstance(init, str):
        if init not in ("majority", "hard_majority"):
            raise ValueError(f"init must be 'majority', 'hard_majority' or an array, got {init!r}")
        counts = np.bincount(obs_row * K + lab, minlength=n_seen * K).reshape(n_seen, K)
        counts = counts.astype(np.float64)
        if init == "hard_majority":
            counts = (counts == counts.max(axis=1, keepdims=True)).astype(np.float64)
        T = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1.0)
    else:
        T0 = np.asarray(init, dtype=np.float64)
        if T0.shape != (n_items, K):
            raise ValueError(f"init array must have shape {(n_items, K)}, got {T0.shape}")
        if not np.all(np.isfinite(T0)) or (T0 < 0).any():
            raise ValueError("init array must hold finite non-negative values")
        T = T0[observed_items]
        T = T / np.where(T.sum(axis=1, keepdims=True) > 0, T.sum(axis=1, keepdims=True), 1.0)

    def m_step(T: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        prior = (T * seen_weight).sum(axis=0) + smoothing
        prior = prior / prior.sum() if prior.sum() > 0 else np.full(K, 1.0 / K)
        Tobs = T[obs_row] * obs_weight[:, None]  # (n_obs, K): weighted item posteriors
        conf = np.empty((n_annotators, K, K))  # [a, true k, answered l]
        for k in range(K):
            conf[:, k, :] = np.bincount(
                cell, weights=Tobs[:, k], minlength=n_annotators * K
            ).reshape(n_annotators, K)
        conf += smoothing
        row_sum = conf.sum(axis=2, keepdims=True)
        conf = np.divide(conf, row_sum, out=np.full_like(conf, 1.0 / K), where=row_sum > 0)
        return prior, conf

    def e_step(prior: np.ndarray, conf: np.ndarray) -> tuple[np.ndarray, float]:
        log_prior = np.log(np.maximum(prior, _EPS))
        # (n_annotators * K_answered, K_true) table of log pi[a, k, l] for the gather.
        log_conf = np.log(np.maximum(conf, _EPS)).transpose(0, 2, 1).reshape(-1, K)
        per_obs = log_conf[cell]  # (n_obs, K)
        log_joint = np.add.reduceat(per_obs, run_starts, axis=0) + log_prior
        top = log_joint.max(axis=1, keepdims=True)
        log_z = top + np.log(np.exp(log_joint - top).sum(axis=1, keepdims=True))
        return np.exp(log_joint - log_z), float((log_z * seen_weight).sum())

    if n_obs == 0:
        prior = np.full(K, 1.0 / K)
        conf = np.full((n_annotators, K, K), 1.0 / K)
        return _result(
            n_items,
            K,
            observed_items,
            np.empty((0, K)),
            prior,
            conf,
            annotator_counts,
            0,
            True,
            0.0,
        )

    prior, conf = m_step(T)
    log_likelihood = -np.inf
    converged = False
    n_iter = 0
    for n_iter in range(1, max_iter + 1):  # noqa: B007 (n_iter is reported)
        T, new_ll = e_step(prior, conf)
        prior, conf = m_step(T)
        change = abs(new_ll - log_likelihood) / n_weighted
        log_likelihood = new_ll
        if change < tol:
            converged = True
            break
    T, log_likelihood = e_step(prior, conf)
    return _result(
        n_items,
        K,
        observed_items,
        T,
        prior,
        conf,
        annotator_counts,
        n_iter,
        converged,
        log_likelihood,
    )


def _result(
    n_items: int,
    K: int,
    observed_items: np.ndarray,
    T: np.ndarray,
    prior: np.ndarray,
    conf: np.ndarray,
    annotator_counts: np.ndarray,
    n_iter: int,
    converged: bool,
    log_likelihood: float,
) -> DawidSkeneResult:
    posterior = np.tile(prior, (n_items, 1)) if n_items else np.empty((0, K))
    posterior[observed_items] = T
    labels = np.full(n_items, -1, dtype=np.int64)
    confidence = np.zeros(n_items, dtype=np.float64)
    if len(observed_items):
        labels[observed_items] = T.argmax(axis=1)
        confidence[observed_items] = T.max(axis=1)
    diag = np.diagonal(conf, axis1=1, axis2=2)  # (n_annotators, K)
    accuracy = diag @ prior if conf.shape[0] else np.empty(0)
    return DawidSkeneResult(
        labels=labels,
        posterior=posterior,
        confidence=confidence,
        class_priors=prior,
        confusion=conf,
        annotator_accuracy=accuracy,
        annotator_counts=annotator_counts,
        n_iter=n_iter,
        converged=converged,
        log_likelihood=log_likelihood,
    )


@dataclass(frozen=True)
class AnnotatorAccuracy:
    """Dawid-Skene accuracy per annotator column, with how the fit went."""

    accuracy: np.ndarray  # (n_annotators,) NaN for a column without annotations
    counts: np.ndarray  # (n_annotators,) annotations per column
    n_iter: int
    converged: bool


def dawid_skene_accuracy(
    codes: np.ndarray,
    n_classes: int,
    *,
    max_iter: int = 100,
    tol: float = 1e-6,
    smoothing: float = 0.01,
) -> AnnotatorAccuracy:
    """Each annotator's Dawid-Skene accuracy ``sum_k prior[k] * confusion[a, k, k]``.

    The same fit as :func:`dawid_skene` (Dawid & Skene 1979; checked against crowd-kit's
    ``DawidSkene`` in ``tests/agreement/test_aggregation.py``), computed on the distinct
    rows of ``codes`` weighted by their multiplicity: with a few annotators per item a
    million items collapse to a few hundred rows. Columns without annotations get NaN.
    """
    arr = _check_codes(codes, n_classes)
    if arr.size == 0:
        empty = np.full(arr.shape[1], np.nan)
        return AnnotatorAccuracy(empty, np.zeros(arr.shape[1], dtype=np.int64), 0, True)
    shifted, multiplicity, _ = unique_rows(arr + 1)
    rows = shifted - 1
    items, annotators = np.nonzero(rows >= 0)
    fit = dawid_skene_triples(
        items,
        annotators,
        rows[items, annotators],
        n_items=rows.shape[0],
        n_annotators=arr.shape[1],
        n_classes=n_classes,
        max_iter=max_iter,
        tol=tol,
        smoothing=smoothing,
        item_weights=multiplicity,
    )
    accuracy = np.where(fit.annotator_counts > 0, fit.annotator_accuracy, np.nan)
    return AnnotatorAccuracy(accuracy, fit.annotator_counts, fit.n_iter, fit.converged)
