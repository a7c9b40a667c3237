"""Bootstrap intervals of the coefficients other than alpha, and Hayes & Krippendorff's q.

Every coefficient here is a function of sums over items of a few per-item statistics, so
a resample is a weighted sum (``bootstrap.draw_weights``), items or whole clusters of items
(sentences, documents) being what is resampled.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .bootstrap import bootstrap_sums, cluster_patterns
from .counts import unique_rows

ALPHA_MINIMA: tuple[float, ...] = (0.667, 0.8)
MAX_PAIR_CELLS = 4000  # kappa intervals need pairs x categories^2 sums per item


def coefficient_statistics(counts: np.ndarray) -> np.ndarray:
    """Per-item sums behind pi, Fleiss' kappa, AC1 and Brennan-Prediger (see module doc).

    Columns: agreeing pairs, pairs, pairable indicator, item agreement share, rated
    indicator, then the pairable values per category, then the item's category shares.
    """
    c = counts.astype(np.float64, copy=False)
    m = c.sum(axis=1)
    pairable = m >= 2
    agree = (c * (c - 1.0)).sum(axis=1)
    pairs = m * (m - 1.0)
    share = np.zeros_like(m)
    share[pairable] = agree[pairable] / pairs[pairable]
    rated = m >= 1
    shares = np.zeros_like(c)
    shares[rated] = c[rated] / m[rated, None]
    return np.column_stack(
        [agree, pairs, pairable, share, rated, c * pairable[:, None], shares]
    ).astype(np.float64)


def _chance_corrected(observed: np.ndarray, expected: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out: np.ndarray = (observed - expected) / (1.0 - expected)
    out[~(expected < 1.0 - 1e-15) | ~np.isfinite(observed)] = np.nan
    return out


def coefficients_from_sums(sums: np.ndarray, n_categories: int) -> dict[str, np.ndarray]:
    """Scott's pi (pairs pooled), Fleiss' kappa and Gwet's AC1 of each row of summed statistics."""
    q = n_categories
    agree, pairs, n_pairable, share_sum, n_rated = (sums[:, i] for i in range(5))
    pooled = sums[:, 5 : 5 + q]
    rated_shares = sums[:, 5 + q : 5 + 2 * q]
    with np.errstate(divide="ignore", invalid="ignore"):
        pair_agreement = agree / pairs
        p = pooled / pooled.sum(axis=1, keepdims=True)
        p_a = share_sum / n_pairable
        pi_k = rated_shares / n_rated[:, None]
    out = {
        "scott_pi": _chance_corrected(pair_agreement, (p**2).sum(axis=1)),
        "fleiss_kappa": _chance_corrected(p_a, (pi_k**2).sum(axis=1)),
    }
    if q >= 2:
        out["gwet_ac1"] = _chance_corrected(p_a, (pi_k * (1.0 - pi_k)).sum(axis=1) / (q - 1))
    return out


MAX_STAT_ELEMENTS = 20_000_000  # memory bound of the per-pattern statistics (8 bytes each)


def _patterns(
    rows: np.ndarray, clusters: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Distinct rows, each row's pattern, and ``(cluster, pattern)`` pairs with their counts."""
    low = int(rows.min()) if rows.size else 0
    shifted, _, inverse = unique_rows(rows.astype(np.int64) - low)  # integer keys: fast
    patterns = (shifted + low).astype(rows.dtype)
    if clusters is None:
        return patterns, None, np.bincount(inverse, minlength=patterns.shape[0])
    _, cluster_index = np.unique(np.asarray(clusters), return_inverse=True)
    keys = cluster_index.ravel().astype(np.int64) * patterns.shape[0] + inverse
    pairs, counts = np.unique(keys, return_counts=True)
    return (
        patterns,
        np.column_stack([pairs // patterns.shape[0], pairs % patterns.shape[0]]),
        counts,
    )


def _resampled_sums(
    rows: np.ndarray,
    clusters: np.ndarray | None,
    to_stats: Callable[[np.ndarray], np.ndarray],
    *,
    draws: int,
    seed: int,
) -> np.ndarray | None:
    """Bootstrap sums of ``to_stats(pattern rows)``; None when too large to hold in memory."""
    patterns, pairs, counts = _patterns(rows, clusters)
    stats = to_stats(patterns)
    if pairs is None:
        return bootstrap_sums(stats, counts, draws=draws, seed=seed)
    n_clusters = int(pairs[:, 0].max()) + 1 if pairs.size else 0
    if max(pairs.shape[0], n_clusters) * stats.shape[1] > MAX_STAT_ELEMENTS:
        return None
    per_cluster = np.zeros((n_clusters, stats.shape[1]))
    np.add.at(per_cluster, pairs[:, 0], stats[pairs[:, 1]] * counts[:, None])
    cluster_stats, mult = cluster_patterns(per_cluster, None)
    return bootstrap_sums(cluster_stats, mult, draws=draws, seed=seed)


def bootstrap_coefficients(
    counts: np.ndarray, *, draws: int, seed: int, clusters: np.ndarray | None = None
) -> dict[str, np.ndarray] | None:
    """Resampled pi, Fleiss' kappa and AC1 (items, or clusters of items, with replacement)."""
    rated = counts.sum(axis=1) >= 1
    sums = _resampled_sums(
        counts[rated],
        None if clusters is None else np.asarray(clusters)[rated],
        coefficient_statistics,
        draws=draws,
        seed=seed,
    )
    return None if sums is None else coefficients_from_sums(sums, counts.shape[1])


def bootstrap_light_kappa(
    codes: np.ndarray,
    n_categories: int,
    pairs: list[tuple[int, int]],
    *,
    draws: int,
    seed: int,
    clusters: np.ndarray | None = None,
) -> np.ndarray | None:
    """Resampled Light's kappa over ``pairs`` (Cohen's kappa for one pair); None if too large."""
    k = n_categories
    if not pairs or len(pairs) * k * k > MAX_PAIR_CELLS:
        return None
    involved = sorted({a for pair in pairs for a in pair})
    column = {a: i for i, a in enumerate(involved)}
    sub = codes[:, involved]
    used = (sub >= 0).sum(axis=1) >= 2

    def to_stats(rows: np.ndarray) -> np.ndarray:
        stats = np.zeros((rows.shape[0], len(pairs) * k * k))
        for p, (a, b) in enumerate(pairs):
            x, y = rows[:, column[a]], rows[:, column[b]]
            both = (x >= 0) & (y >= 0)
            stats[np.flatnonzero(both), p * k * k + x[both] * k + y[both]] = 1.0
        return stats

    sums = _resampled_sums(
        sub[used],
        None if clusters is None else np.asarray(clusters)[used],
        to_stats,
        draws=draws,
        seed=seed,
    )
    if sums is None or sums.shape[0] == 0:
        return None
    tables = sums.reshape(-1, len(pairs), k, k)
    n = tables.sum(axis=(2, 3))
    with np.errstate(divide="ignore", invalid="ignore"):
        observed = np.trace(tables, axis1=2, axis2=3) / n
        expected = np.einsum("dpk,dpk->dp", tables.sum(axis=3), tables.sum(axis=2)) / n**2
        kappa = (observed - expected) / (1.0 - expected)
    kappa[~(expected < 1.0 - 1e-15)] = np.nan
    defined = np.isfinite(kappa)
    total = np.where(defined, kappa, 0.0).sum(axis=1)
    n_defined = defined.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n_defined > 0, total / n_defined, np.nan)


def hayes_krippendorff_q(samples: np.ndarray, alpha_min: float) -> float | None:
    """``q = P(alpha < alpha_min)``: share of valid bootstrap alphas below the minimum.

    Hayes & Krippendorff (2007), "Answering the call for a standard reliability measure
    for coding data", Communication Methods and Measures 1(1):77-89: the probability of
    failing to reach the smallest acceptable alpha.
    """
    finite = samples[np.isfinite(samples)]
    return float((finite < alpha_min).mean()) if finite.size else None
