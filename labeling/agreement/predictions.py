"""Agreement of a model's predictions with a human reference (pure numpy, no Django).

A model is never one of the coders of the human figures (alpha, kappa, ...): it is
compared with them from outside, item by item, against a reference per item (the
annotators' majority, or the gold label) or against every single annotation:

* ``accuracy``: the share of compared items (or pairs) where the model's answer equals
  the reference;
* ``kappa``: Cohen's (1960) kappa of the model against the reference over the same items
  (categorical answers only; None for span answers, whose exact-match categories are
  not a fixed set);
* intervals: percentile bootstrap (Efron & Tibshirani 1993, ch. 13) over clusters (the
  items themselves, or the tasks when every annotation is a pair), ``draws`` draws with
  ``seed``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from labeling.agreement.bootstrap import PERCENTILE_METHOD, percentile_interval
from labeling.agreement.coefficients import confusion_matrix, kappa_from_confusion


def compare_with_reference(
    predicted: np.ndarray,
    reference: np.ndarray,
    *,
    n_categories: int,
    categorical: bool = True,
    clusters: np.ndarray | None = None,
    draws: int = 200,
    seed: int = 0,
) -> dict[str, Any]:
    """Accuracy and Cohen's kappa of ``predicted`` against ``reference`` (codes; -1 missing).

    ``clusters`` (one id per position, e.g. the task of each annotation) is what the
    bootstrap resamples; default: every position on its own. Returns ``n``, ``accuracy``,
    ``accuracy_ci95``, ``kappa``, ``kappa_ci95`` and ``interval`` (method and draws).
    """
    predicted = np.asarray(predicted, dtype=np.int64)
    reference = np.asarray(reference, dtype=np.int64)
    if predicted.shape != reference.shape:
        raise ValueError("predicted and reference must have the same length")
    both = (predicted >= 0) & (reference >= 0)
    pred, ref = predicted[both], reference[both]
    n = int(pred.size)
    out: dict[str, Any] = {
        "n": n,
        "accuracy": None,
        "accuracy_ci95": None,
        "kappa": None,
        "kappa_ci95": None,
        "interval": None,
    }
    if n == 0:
        return out
    hits = pred == ref
    out["accuracy"] = float(hits.mean())
    if categorical:
        out["kappa"] = kappa_from_confusion(confusion_matrix(pred, ref, n_categories))
    if draws <= 0:
        return out
    groups = (
        np.arange(n)
        if clusters is None
        else np.unique(np.asarray(clusters)[both], return_inverse=True)[1]
    )
    n_groups = int(groups.max()) + 1
    rng = np.random.default_rng(seed)
    cells = pred * n_categories + ref
    accuracy = np.empty(draws)
    kappa = np.full(draws, np.nan)
    for d in range(draws):
        weights = np.bincount(rng.integers(0, n_groups, n_groups), minlength=n_groups)[groups]
        total = weights.sum()
        accuracy[d] = (weights * hits).sum() / total if total else np.nan
        if categorical and total:
            table = np.bincount(cells, weights=weights, minlength=n_categories * n_categories)
            value = kappa_from_confusion(table.reshape(n_categories, n_categories))
            kappa[d] = np.nan if value is None else value
    out["accuracy_ci95"] = percentile_interval(accuracy)
    if categorical:
        out["kappa_ci95"] = percentile_interval(kappa)
    out["interval"] = {
        "method": PERCENTILE_METHOD,
        "resampled": "items" if clusters is None else "tasks",
        "n_draws": draws,
        "n_valid": int(np.isfinite(kappa if categorical else accuracy).sum()),
        "confidence": 0.95,
    }
    return out


def majority_codes(
    items: np.ndarray, codes: np.ndarray, n_items: int, n_categories: int
) -> np.ndarray:
    """Each item's most frequent code among its answers; -1 with no answer or a tie."""
    valid = (codes >= 0) & (items >= 0)
    counts = np.zeros((n_items, max(n_categories, 1)), dtype=np.int64)
    np.add.at(counts, (items[valid], codes[valid]), 1)
    top = counts.max(axis=1)
    winners = counts.argmax(axis=1)
    tied = (counts == top[:, None]).sum(axis=1) > 1
    return np.where((top > 0) & ~tied, winners, -1)
