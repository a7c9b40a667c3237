"""Krippendorff's alpha from the coincidence matrix, at the four classic levels.

Reference: K. Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability",
Annenberg School for Communication, University of Pennsylvania, sections A-E.

``alpha = 1 - D_o / D_e = 1 - (n.. - 1) * sum_ck o_ck d_ck / sum_ck n_c n_k d_ck``
where ``o`` is the coincidence matrix over pairable items (items with at least two
values; the others are left out), ``n_c`` its marginals and ``d`` the level's distance.

Conventions (the same as the ``krippendorff`` package, which returns NaN or raises, and
Krippendorff's text, where alpha = 0/0 is undefined): alpha is ``None`` when there is no
pairable value (``n.. = 0``) or when the expected disagreement is 0, i.e. every pairable
value falls in one category (or, at interval/ratio level, on one numeric value). When the
annotators agree perfectly and the data vary, alpha is 1.0.
"""

from __future__ import annotations

import numpy as np

from .counts import as_codes, coincidences_from_counts, value_counts

LEVELS: tuple[str, ...] = ("nominal", "ordinal", "interval", "ratio")


def check_level(level: str) -> str:
    """Return ``level`` if it is one of Krippendorff's four levels of measurement."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
    return level


def category_values(values: np.ndarray | list[float] | None, n_categories: int) -> np.ndarray:
    """Numeric value of each category code for interval/ratio (default: the code itself)."""
    if values is None:
        return np.arange(n_categories, dtype=np.float64)
    vals = np.asarray(values, dtype=np.float64).ravel()
    if vals.shape[0] < n_categories:
        raise ValueError(f"values has {vals.shape[0]} entries for {n_categories} categories")
    return vals


def distance_matrix(
    level: str, marginals: np.ndarray, values: np.ndarray | None = None
) -> np.ndarray:
    """Squared distance ``d_ck`` of Krippendorff (2011) sections B-E; batched over leading axes.

    nominal: ``[c != k]``; ordinal: ``(sum_{g=c..k} n_g - (n_c + n_k) / 2)^2`` from the
    category marginals ``n_g`` in schema order; interval: ``(v_c - v_k)^2``; ratio:
    ``((v_c - v_k) / (v_c + v_k))^2`` (0 when ``v_c + v_k = 0``, as the ``krippendorff``
    package does).
    """
    marginals = np.asarray(marginals, dtype=np.float64)
    n_categories = marginals.shape[-1]
    if level == "nominal":
        return 1.0 - np.eye(n_categories)
    if level == "ordinal":
        idx = np.arange(n_categories)
        lo = np.minimum(idx[:, None], idx[None, :])
        hi = np.maximum(idx[:, None], idx[None, :])
        cum = np.concatenate([np.zeros(marginals.shape[:-1] + (1,)), np.cumsum(marginals, -1)], -1)
        between = cum[..., hi + 1] - cum[..., lo]
        half = (marginals[..., lo] + marginals[..., hi]) / 2.0
        out: np.ndarray = (between - half) ** 2
        out[..., idx, idx] = 0.0  # exactly, whatever the rounding of the cumulative sums
        return out
    vals = category_values(values, n_categories)[:n_categories]
    diff: np.ndarray = vals[:, None] - vals[None, :]
    if level == "interval":
        return diff**2
    if level == "ratio":
        total = vals[:, None] + vals[None, :]
        out = np.zeros_like(diff)
        np.divide(diff, total, out=out, where=total != 0)
        squared: np.ndarray = out**2
        return squared
    raise ValueError(f"level must be one of {LEVELS}, got {level!r}")


def alpha_from_coincidences(
    o: np.ndarray, level: str = "nominal", values: np.ndarray | None = None
) -> float | None:
    """Alpha ``1 - (n-1) sum o d / sum n_c n_k d`` from coincidences (Krippendorff 2011)."""
    o = np.asarray(o, dtype=np.float64)
    marginals = o.sum(axis=0)
    n = marginals.sum()
    if not n > 0:
        return None
    d = distance_matrix(check_level(level), marginals, values)
    expected = marginals @ d @ marginals
    if not expected > 0:
        return None
    observed = float((o * d).sum())
    return float(1.0 - (n - 1.0) * observed / expected)


def alphas_from_coincidences(
    o: np.ndarray, level: str = "nominal", values: np.ndarray | None = None
) -> np.ndarray:
    """Alpha of stacked coincidences ``(..., V, V)``, NaN if undefined (Krippendorff 2011)."""
    o = np.asarray(o, dtype=np.float64)
    marginals = o.sum(axis=-2)
    n = marginals.sum(axis=-1)
    d = distance_matrix(check_level(level), marginals, values)
    if d.ndim == 2:
        d = np.broadcast_to(d, o.shape)
    expected = np.einsum("...c,...ck,...k->...", marginals, d, marginals)
    observed = np.einsum("...ck,...ck->...", o, d)
    with np.errstate(divide="ignore", invalid="ignore"):
        out: np.ndarray = 1.0 - (n - 1.0) * observed / expected
    out[~(expected > 0) | ~(n > 0)] = np.nan
    return out


def coincidence_matrix(codes: np.ndarray, n_categories: int | None = None) -> np.ndarray:
    """Coincidence matrix ``o_ck`` of a reliability matrix (Krippendorff 2011, sec. A)."""
    arr, n_categories = as_codes(codes, n_categories)
    return coincidences_from_counts(value_counts(arr, n_categories))


def krippendorff_alpha(
    codes: np.ndarray,
    level: str = "nominal",
    *,
    values: np.ndarray | None = None,
    n_categories: int | None = None,
) -> float | None:
    """Krippendorff's alpha of a reliability matrix with -1 for missing (Krippendorff 2011)."""
    check_level(level)
    if n_categories is None and values is not None:
        n_categories = len(values)
    arr, n_categories = as_codes(codes, n_categories)
    counts = value_counts(arr, n_categories)
    return alpha_from_coincidences(coincidences_from_counts(counts), level, values)


def item_disagreement_from_counts(
    counts: np.ndarray, level: str, values: np.ndarray | None = None
) -> np.ndarray:
    """Per-item observed disagreement, normalised to [0, 1]; NaN for unpairable items.

    ``D_u = sum_ck n_uc n_uk d_ck / (m_u (m_u - 1)) / max_ck d_ck``: the mean distance
    between the item's ordered pairs of values (Krippendorff 2011's per-unit term of
    ``D_o``), divided by the largest distance between two categories of the schema, so 0
    means unanimous and 1 means every pair of values sits at the two most distant
    categories. Ordinal distances use the marginals of the whole data set.
    """
    counts_f = counts.astype(np.float64, copy=False)
    o = coincidences_from_counts(counts)
    d = distance_matrix(check_level(level), o.sum(axis=0), values)
    m = counts_f.sum(axis=1)
    pair_sum = np.einsum("uc,uc->u", counts_f @ d, counts_f)
    out = np.full(m.shape, np.nan)
    ok = m >= 2
    dmax = float(d.max()) if d.size else 0.0
    if dmax > 0:
        out[ok] = pair_sum[ok] / (m[ok] * (m[ok] - 1.0)) / dmax
    else:
        out[ok] = 0.0
    return out


def per_label_alpha_from_counts(counts: np.ndarray) -> np.ndarray:
    """One-vs-rest nominal alpha per category (binary 'c' vs 'not c'); NaN where undefined.

    For a binary variable alpha reduces to ``1 - (n-1) o_{c,not c} / (n_c n_not_c)``
    (Krippendorff 2011, nominal case with two values).
    """
    counts_f = counts.astype(np.float64, copy=False)
    m = counts_f.sum(axis=1)
    ok = m >= 2
    w = np.zeros_like(m)
    w[ok] = 1.0 / (m[ok] - 1.0)
    sub = counts_f[ok]
    mm = m[ok][:, None]
    wo = w[ok][:, None]
    off = (wo * sub * (mm - sub)).sum(axis=0)  # o_{c, not c}
    n_c = sub.sum(axis=0)  # pairable values that are c
    n = float(m[ok].sum())
    n_rest = n - n_c
    with np.errstate(divide="ignore", invalid="ignore"):
        out: np.ndarray = 1.0 - (n - 1.0) * off / (n_c * n_rest)
    out[~((n_c > 0) & (n_rest > 0))] = np.nan
    return out
