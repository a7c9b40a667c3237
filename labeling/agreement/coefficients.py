"""Chance-corrected agreement coefficients other than alpha, from a reliability matrix.

All functions take ``codes`` of shape ``(n_items, n_annotators)`` with ``-1`` for missing
and return a python float, or ``None`` when the coefficient is undefined (no pairable
item, or chance agreement equal to 1 so the coefficient is 0/0).

An item is *pairable* when at least two annotators coded it.
"""

from __future__ import annotations

import numpy as np

from .counts import as_codes, value_counts


def _none_if_nan(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def _chance_corrected(observed: float, expected: float) -> float | None:
    if not expected < 1.0 - 1e-15:
        return None
    return float((observed - expected) / (1.0 - expected))


def item_agreement_from_counts(counts: np.ndarray) -> np.ndarray:
    """Per-item agreeing pair share ``sum_k r_ik (r_ik - 1) / (r_i (r_i - 1))`` (Fleiss 1971)."""
    counts_f = counts.astype(np.float64, copy=False)
    m = counts_f.sum(axis=1)
    out = np.full(m.shape, np.nan)
    ok = m >= 2
    agree = (counts_f[ok] * (counts_f[ok] - 1.0)).sum(axis=1)
    out[ok] = agree / (m[ok] * (m[ok] - 1.0))
    return out


def percent_agreement_from_counts(counts: np.ndarray) -> float | None:
    """Mean over pairable items of the item's pairwise agreement (Fleiss 1971's P-bar)."""
    per_item = item_agreement_from_counts(counts)
    per_item = per_item[np.isfinite(per_item)]
    return float(per_item.mean()) if per_item.size else None


def percent_agreement(codes: np.ndarray, n_categories: int | None = None) -> float | None:
    """Pairwise percent agreement, mean over pairable items (Fleiss 1971 P-bar; Gwet 2014 p_a)."""
    arr, n_categories = as_codes(codes, n_categories)
    return percent_agreement_from_counts(value_counts(arr, n_categories))


def _rated_shares(counts: np.ndarray) -> np.ndarray:
    """``pi_k = (1/n) sum_i r_ik / r_i`` over items with at least one rating (Gwet 2014)."""
    counts_f = counts.astype(np.float64, copy=False)
    m = counts_f.sum(axis=1)
    rated = m >= 1
    if not rated.any():
        return np.zeros(counts.shape[1])
    return (counts_f[rated] / m[rated, None]).mean(axis=0)


def fleiss_kappa_from_counts(counts: np.ndarray) -> float | None:
    """Fleiss' kappa (Fleiss 1971), generalised to missing ratings as in Gwet (2014) / irrCAC."""
    p_a = percent_agreement_from_counts(counts)
    if p_a is None:
        return None
    pi = _rated_shares(counts)
    return _chance_corrected(p_a, float((pi**2).sum()))


def fleiss_kappa(codes: np.ndarray, n_categories: int | None = None) -> float | None:
    """Fleiss' kappa: Fleiss (1971) on complete data, Gwet (2014) generalisation with gaps."""
    arr, n_categories = as_codes(codes, n_categories)
    return fleiss_kappa_from_counts(value_counts(arr, n_categories))


def gwet_ac1_from_counts(counts: np.ndarray) -> float | None:
    """Gwet's AC1 ``(p_a - p_e)/(1 - p_e)``, ``p_e = sum_k pi_k (1 - pi_k)/(q - 1)`` (Gwet 2008)."""
    q = counts.shape[1]
    p_a = percent_agreement_from_counts(counts)
    if p_a is None or q < 2:
        return None
    pi = _rated_shares(counts)
    p_e = float((pi * (1.0 - pi)).sum() / (q - 1))
    return _chance_corrected(p_a, p_e)


def gwet_ac1(codes: np.ndarray, n_categories: int | None = None) -> float | None:
    """Gwet's AC1 for any number of raters with missing ratings (Gwet 2008; Gwet 2014 eq. 2.9)."""
    arr, n_categories = as_codes(codes, n_categories)
    return gwet_ac1_from_counts(value_counts(arr, n_categories))


def confusion_matrix(a: np.ndarray, b: np.ndarray, n_categories: int) -> np.ndarray:
    """Counts ``C[x, y]`` of items coded ``x`` by ``a`` and ``y`` by ``b`` (Cohen 1960)."""
    a = np.asarray(a)
    b = np.asarray(b)
    both = (a >= 0) & (b >= 0)
    flat = a[both].astype(np.int64) * n_categories + b[both]
    return np.bincount(flat, minlength=n_categories * n_categories).reshape(
        n_categories, n_categories
    )


def kappa_from_confusion(confusion: np.ndarray, weights: str | None = None) -> float | None:
    """Cohen's kappa ``1 - sum w C / sum w E`` of a 2-rater table (Cohen 1960; weighted 1968)."""
    c = np.asarray(confusion, dtype=np.float64)
    n = c.sum()
    if not n > 0:
        return None
    k = c.shape[0]
    idx = np.arange(k)
    if weights is None:
        w = 1.0 - np.eye(k)
    elif weights == "linear":
        w = np.abs(idx[:, None] - idx[None, :]).astype(np.float64)
    elif weights == "quadratic":
        w = ((idx[:, None] - idx[None, :]) ** 2).astype(np.float64)
    else:
        raise ValueError(f"weights must be None, 'linear' or 'quadratic', got {weights!r}")
    expected = np.outer(c.sum(axis=1), c.sum(axis=0)) / n
    denom = float((w * expected).sum())
    if not denom > 1e-12 * n:
        return None
    return float(1.0 - (w * c).sum() / denom)


def cohen_kappa(
    codes: np.ndarray, n_categories: int | None = None, *, weights: str | None = None
) -> float | None:
    """Cohen's kappa of a two-column matrix over items both annotators coded (Cohen 1960/1968)."""
    arr, n_categories = as_codes(codes, n_categories)
    if arr.shape[1] != 2:
        raise ValueError(f"cohen_kappa needs exactly two annotators, got {arr.shape[1]}")
    return kappa_from_confusion(confusion_matrix(arr[:, 0], arr[:, 1], n_categories), weights)


def scott_pi_from_confusions(
    confusions: dict[tuple[int, int], np.ndarray], counts: np.ndarray
) -> float | None:
    """Multi-pi: mean pair agreement vs pooled chance (Scott 1955; Artstein & Poesio 2008)."""
    agreements = [float(np.trace(c)) / float(c.sum()) for c in confusions.values() if c.sum() > 0]
    if not agreements:
        return None
    pairable = counts.sum(axis=1) >= 2
    pooled = counts[pairable].sum(axis=0).astype(np.float64)
    p = pooled / pooled.sum()
    return _chance_corrected(float(np.mean(agreements)), float((p**2).sum()))


def scott_pi(codes: np.ndarray, n_categories: int | None = None) -> float | None:
    """Scott's pi (Scott 1955); for more than two annotators multi-pi (Artstein & Poesio 2008)."""
    from .pairwise import pair_confusions

    arr, n_categories = as_codes(codes, n_categories)
    return scott_pi_from_confusions(
        pair_confusions(arr, n_categories), value_counts(arr, n_categories)
    )
