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


def rated_shares(counts: np.ndarray) -> np.ndarray:
    """``pi_k = (1/n) sum_i r_ik / r_i`` over items with at least one rating (Gwet 2014)."""
    counts_f = counts.astype(np.float64, copy=False)
    m = counts_f.sum(axis=1)
    rated = m >= 1
    if not rated.any():
        return np.zeros(counts.shape[1])
    shares: np.ndarray = (counts_f[rated] / m[rated, None]).mean(axis=0)
    return shares


def fleiss_kappa_from_counts(
    counts: np.ndarray, p_a: float | None = None, pi: np.ndarray | None = None
) -> float | None:
    """Fleiss' kappa (Fleiss 1971), generalised to missing ratings as in Gwet (2014) / irrCAC."""
    p_a = percent_agreement_from_counts(counts) if p_a is None else p_a
    if p_a is None:
        return None
    pi = rated_shares(counts) if pi is None else pi
    return _chance_corrected(p_a, float((pi**2).sum()))


def fleiss_kappa(codes: np.ndarray, n_categories: int | None = None) -> float | None:
    """Fleiss' kappa: Fleiss (1971) on complete data, Gwet (2014) generalisation with gaps."""
    arr, n_categories = as_codes(codes, n_categories)
    return fleiss_kappa_from_counts(value_counts(arr, n_categories))


def gwet_ac1_from_counts(
    counts: np.ndarray, p_a: float | None = None, pi: np.ndarray | None = None
) -> float | None:
    """Gwet's AC1 ``(p_a - p_e)/(1 - p_e)``, ``p_e = sum_k pi_k (1 - pi_k)/(q - 1)`` (Gwet 2008)."""
    q = counts.shape[1]
    p_a = percent_agreement_from_counts(counts) if p_a is None else p_a
    if p_a is None or q < 2:
        return None
    pi = rated_shares(counts) if pi is None else pi
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


def kappa_weights(kind: str | np.ndarray | None, n_categories: int) -> np.ndarray:
    """Disagreement weights ``w_kl`` (0 on the diagonal) of Cohen's (1968) weighted kappa.

    ``None``: ``[k != l]``; ``"linear"``: ``|k - l|``; ``"quadratic"``: ``(k - l)^2`` on the
    category ranks; or the numeric values of the categories as an array, then
    ``(v_k - v_l)^2`` (interval).
    """
    idx = np.arange(n_categories, dtype=np.float64)
    if kind is None:
        return 1.0 - np.eye(n_categories)
    if isinstance(kind, str):
        if kind == "linear":
            return np.abs(idx[:, None] - idx[None, :])
        if kind == "quadratic":
            return (idx[:, None] - idx[None, :]) ** 2
        raise ValueError(f"weights must be None, 'linear' or 'quadratic', got {kind!r}")
    values = np.asarray(kind, dtype=np.float64)[:n_categories]
    return (values[:, None] - values[None, :]) ** 2


def kappa_from_confusion(
    confusion: np.ndarray, weights: str | np.ndarray | None = None
) -> float | None:
    """Cohen's kappa ``1 - sum w C / sum w E`` of a 2-rater table (Cohen 1960; weighted 1968)."""
    c = np.asarray(confusion, dtype=np.float64)
    n = c.sum()
    if not n > 0:
        return None
    w = kappa_weights(weights, c.shape[0])
    expected = np.outer(c.sum(axis=1), c.sum(axis=0)) / n
    denom = float((w * expected).sum())
    if not denom > 1e-12 * n:
        return None
    return float(1.0 - (w * c).sum() / denom)


def cohen_kappa(
    codes: np.ndarray, n_categories: int | None = None, *, weights: str | np.ndarray | None = None
) -> float | None:
    """Cohen's kappa of a two-column matrix over items both annotators coded (Cohen 1960/1968)."""
    arr, n_categories = as_codes(codes, n_categories)
    if arr.shape[1] != 2:
        raise ValueError(f"cohen_kappa needs exactly two annotators, got {arr.shape[1]}")
    return kappa_from_confusion(confusion_matrix(arr[:, 0], arr[:, 1], n_categories), weights)


def pair_agreement_from_counts(counts: np.ndarray) -> float | None:
    """Share of agreeing pairs among all pairs of values on the same item (pairs pooled).

    ``sum_u sum_k n_uk (n_uk - 1) / sum_u m_u (m_u - 1)``: every pair of annotators counts
    once per item they share, so a pair weighs by its number of shared items.
    """
    counts_f = counts.astype(np.float64, copy=False)
    m = counts_f.sum(axis=1)
    pairs = float((m * (m - 1.0)).sum())
    if not pairs > 0:
        return None
    return float((counts_f * (counts_f - 1.0)).sum()) / pairs


def pooled_shares(counts: np.ndarray) -> np.ndarray | None:
    """Category shares of the pairable values (items with at least two values)."""
    pairable = counts.sum(axis=1) >= 2
    pooled = counts[pairable].sum(axis=0).astype(np.float64)
    total = pooled.sum()
    return pooled / total if total > 0 else None


def scott_pi_from_counts(counts: np.ndarray) -> float | None:
    """Multi-rater Scott's pi with pairs pooled over items (Scott 1955; Fleiss 1971; Conger 1980).

    ``A_o`` is :func:`pair_agreement_from_counts` (each annotator pair weighted by the
    items it shares, Artstein & Poesio 2008 sec. 2.5 extended to missing values by pooling
    pairs) and ``A_e = sum_k p_k^2`` from the pooled shares of the pairable values. With two
    annotators this is Scott's pi; without missing values, multi-pi (Artstein & Poesio).
    """
    observed = pair_agreement_from_counts(counts)
    shares = pooled_shares(counts)
    if observed is None or shares is None:
        return None
    return _chance_corrected(observed, float((shares**2).sum()))


def scott_pi(codes: np.ndarray, n_categories: int | None = None) -> float | None:
    """Scott's pi (Scott 1955); for more annotators pairs pooled over items (see above)."""
    arr, n_categories = as_codes(codes, n_categories)
    return scott_pi_from_counts(value_counts(arr, n_categories))


def brennan_prediger_from_counts(counts: np.ndarray, p_a: float | None = None) -> float | None:
    """Brennan & Prediger's (1981) kappa_n, Bennett et al.'s (1954) S: chance = 1/q.

    ``(p_a - 1/q) / (1 - 1/q)`` with ``p_a`` the mean-over-items percent agreement and
    ``q`` the number of categories of the schema.
    """
    q = counts.shape[1]
    p_a = percent_agreement_from_counts(counts) if p_a is None else p_a
    if p_a is None or q < 2:
        return None
    return _chance_corrected(p_a, 1.0 / q)


def observed_agreement_from_coincidences(o: np.ndarray) -> float | None:
    """Krippendorff's A_o = sum_c o_cc / n.. : share of pairable values paired with their own.

    Not the percent agreement (a mean over items): A_o pools the pairs of all items, each
    item weighted by its number of values (Krippendorff 2011, nominal ``1 - D_o``).
    """
    o = np.asarray(o, dtype=np.float64)
    n = o.sum()
    return float(np.trace(o) / n) if n > 0 else None


def per_category_fleiss_kappa_from_counts(counts: np.ndarray) -> np.ndarray:
    """Fleiss' (1971, eq. 10) kappa of each category against the rest; NaN where undefined.

    ``kappa_j = 1 - sum_u x_uj (m_u - x_uj) / (m_u (m_u - 1)) / (N p_j (1 - p_j))`` over
    the ``N`` pairable items, ``p_j`` the share of pairable values in ``j`` (Fleiss's formula
    for a constant number of ratings ``m``, generalised to a varying ``m_u``).
    """
    counts_f = counts.astype(np.float64, copy=False)
    m = counts_f.sum(axis=1)
    ok = m >= 2
    sub = counts_f[ok]
    mm = m[ok][:, None]
    n_items = sub.shape[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        disagree = (sub * (mm - sub) / (mm * (mm - 1.0))).sum(axis=0)
        p = sub.sum(axis=0) / mm.sum()
        out: np.ndarray = 1.0 - disagree / (n_items * p * (1.0 - p))
    out[~((p > 0) & (p < 1))] = np.nan
    return out


def agreement_weights(
    level: str, n_categories: int, values: np.ndarray | None = None
) -> np.ndarray:
    """Gwet's (2014, ch. 3, Table 3.6) agreement weights ``w_kl`` (1 on the diagonal) per level.

    nominal: identity; ordinal: quadratic on the ranks; interval: quadratic on the values,
    ``1 - (v_k - v_l)^2 / (v_max - v_min)^2``; ratio:
    ``1 - ((v_k - v_l) / (v_k + v_l))^2 / max_kl ((v_k - v_l) / (v_k + v_l))^2``.
    """
    if level == "nominal" or n_categories < 2:
        return np.eye(n_categories)
    v = (
        np.arange(n_categories, dtype=np.float64)
        if level == "ordinal" or values is None
        else np.asarray(values, dtype=np.float64)[:n_categories]
    )
    diff = v[:, None] - v[None, :]
    if level == "ratio":
        total = v[:, None] + v[None, :]
        d = np.zeros_like(diff)
        np.divide(diff, total, out=d, where=total != 0)
        d = d**2
    else:
        d = diff**2
    top = d.max()
    return 1.0 - d / top if top > 0 else np.ones_like(d)


def gwet_ac2_from_counts(
    counts: np.ndarray, weights: np.ndarray, pi: np.ndarray | None = None
) -> float | None:
    """Gwet's AC2 with agreement weights ``w`` (Gwet 2014, ch. 3; AC1 when ``w`` = identity).

    ``p_a`` = mean over pairable items of ``sum_k r_ik (r*_ik - 1) / (r_i (r_i - 1))`` with
    ``r*_ik = sum_l w_kl r_il``; ``p_e = T_w / (q (q - 1)) sum_k pi_k (1 - pi_k)`` with
    ``T_w = sum_kl w_kl`` and ``pi_k`` the mean share of ``k`` per rated item.
    """
    c = counts.astype(np.float64, copy=False)
    q = c.shape[1]
    m = c.sum(axis=1)
    ok = m >= 2
    if q < 2 or not ok.any():
        return None
    weighted = c[ok] @ np.asarray(weights, dtype=np.float64).T
    p_a = float(((c[ok] * (weighted - 1.0)).sum(axis=1) / (m[ok] * (m[ok] - 1.0))).mean())
    pi = rated_shares(counts) if pi is None else pi
    p_e = float(np.sum(weights)) / (q * (q - 1)) * float((pi * (1.0 - pi)).sum())
    return _chance_corrected(p_a, p_e)
