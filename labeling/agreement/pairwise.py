"""Agreement between every pair of annotators.

For two annotators each shared item holds exactly two values, so the pair's coincidence
matrix is ``C + C^T`` where ``C`` is their confusion matrix (Krippendorff 2011, sec. A:
each pairable unit with two values adds 1/(2-1) per ordered pair of values).
"""

from __future__ import annotations

import numpy as np

from labeling.json_types import JSONObject

from .alpha import alpha_from_coincidences, check_level
from .coefficients import kappa_from_confusion
from .counts import as_codes


def pair_confusions(codes: np.ndarray, n_categories: int) -> dict[tuple[int, int], np.ndarray]:
    """Confusion matrix of every annotator pair ``a < b`` that shares at least one item."""
    n_items, n_annotators = codes.shape
    out: dict[tuple[int, int], np.ndarray] = {}
    if n_items == 0 or n_categories == 0:
        return out
    width = n_categories + 1  # last column collects "b did not code it"
    block = n_categories * width
    valid = codes >= 0
    for a in range(n_annotators - 1):
        rows = valid[:, a]
        if not rows.any():
            continue
        others = codes[rows, a + 1 :]
        n_other = others.shape[1]
        keys = np.where(others < 0, n_categories, others).astype(np.int64)
        keys += codes[rows, a].astype(np.int64)[:, None] * width
        keys += np.arange(n_other, dtype=np.int64)[None, :] * block
        tables = np.bincount(keys.ravel(), minlength=n_other * block).reshape(
            n_other, n_categories, width
        )[:, :, :n_categories]
        shared = tables.sum(axis=(1, 2))
        for j in np.flatnonzero(shared):
            out[(a, a + 1 + int(j))] = tables[j]
    return out


def pairwise_agreement(
    codes: np.ndarray,
    level: str = "nominal",
    *,
    values: np.ndarray | None = None,
    n_categories: int | None = None,
    min_shared: int = 2,
    confusions: dict[tuple[int, int], np.ndarray] | None = None,
) -> list[JSONObject]:
    """Alpha (at ``level``, Krippendorff 2011) and Cohen's kappa (Cohen 1960) per annotator pair.

    One entry ``{"a", "b", "n_shared", "alpha", "kappa"}`` per pair ``a < b`` of annotator
    indices sharing at least one item; ``alpha``/``kappa`` are ``None`` when the pair
    shares fewer than ``min_shared`` items or the coefficient is undefined.
    """
    check_level(level)
    if n_categories is None and values is not None:
        n_categories = len(values)
    arr, n_categories = as_codes(codes, n_categories)
    if confusions is None:
        confusions = pair_confusions(arr, n_categories)
    result = []
    for (a, b), table in sorted(confusions.items()):
        n_shared = int(table.sum())
        alpha = kappa = None
        if n_shared >= max(min_shared, 1):
            alpha = alpha_from_coincidences(table + table.T, level, values)
            kappa = kappa_from_confusion(table)
        result.append({"a": a, "b": b, "n_shared": n_shared, "alpha": alpha, "kappa": kappa})
    return result


def pairwise_matrices(
    codes: np.ndarray,
    level: str = "nominal",
    *,
    values: np.ndarray | None = None,
    n_categories: int | None = None,
    min_shared: int = 2,
) -> dict[str, np.ndarray]:
    """Square ``n_shared``, ``alpha``, ``kappa`` annotator x annotator matrices (NaN: undefined)."""
    if n_categories is None and values is not None:
        n_categories = len(values)
    arr, n_categories = as_codes(codes, n_categories)
    m = arr.shape[1]
    shared = np.zeros((m, m), dtype=np.int64)
    alpha = np.full((m, m), np.nan)
    kappa = np.full((m, m), np.nan)
    entries = pairwise_agreement(
        arr, level, values=values, n_categories=n_categories, min_shared=min_shared
    )
    for e in entries:
        a, b = e["a"], e["b"]
        shared[a, b] = shared[b, a] = e["n_shared"]
        if e["alpha"] is not None:
            alpha[a, b] = alpha[b, a] = e["alpha"]
        if e["kappa"] is not None:
            kappa[a, b] = kappa[b, a] = e["kappa"]
    return {"n_shared": shared, "alpha": alpha, "kappa": kappa}


def mean_pairwise_kappa(
    confusions: dict[tuple[int, int], np.ndarray],
    *,
    min_shared: int = 1,
    weights: str | np.ndarray | None = None,
) -> float | None:
    """Light's kappa: the mean of the defined pairwise Cohen's kappas (Light 1971).

    Only pairs sharing at least ``min_shared`` items count: the rule ``pairwise`` uses to
    show a pair's kappa, so the headline and the matrix agree.
    """
    value: float | None = light_kappa(confusions, min_shared=min_shared, weights=weights)["value"]
    return value


def light_kappa(
    confusions: dict[tuple[int, int], np.ndarray],
    *,
    min_shared: int = 1,
    weights: str | np.ndarray | None = None,
) -> JSONObject:
    """Light's (1971) mean pairwise (weighted, Cohen 1968) kappa with the pairs it used.

    ``{"value", "n_pairs", "n_pairs_excluded"}``; a pair is excluded when it shares fewer
    than ``min_shared`` items or its kappa is undefined.
    """
    kappas = []
    excluded = 0
    for table in confusions.values():
        kappa = kappa_from_confusion(table, weights) if table.sum() >= max(min_shared, 1) else None
        if kappa is None:
            excluded += 1
        else:
            kappas.append(kappa)
    return {
        "value": float(np.mean(kappas)) if kappas else None,
        "n_pairs": len(kappas),
        "n_pairs_excluded": excluded,
    }
