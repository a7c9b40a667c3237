"""Bootstrap confidence interval for Krippendorff's alpha, resampling items.

Each bootstrap draw resamples the pairable items (units with at least two values) with
replacement, recomputes alpha from the resampled coincidence matrix (the ordinal metric
is recomputed from the resampled marginals) and the interval is the percentile interval
of the draws (Efron & Tibshirani 1993, ch. 13). This is the plain nonparametric item
bootstrap, not Krippendorff's (2011, sec. F) resampling of pairable values.

Vectorisation: alpha depends on the data only through sums over items of a few per-item
statistics (``n_uc`` and the item's ``sum o_ck d_ck``, or the full per-item coincidences
for ordinal). Items with the same value counts contribute the same statistics, so the
items are collapsed into distinct count patterns and a draw is a multinomial vector of
pattern counts: resampling ``n`` items uniformly with replacement draws each pattern
``Multinomial(n, mult / n)`` times, exactly. Draws are processed in chunks so that memory
stays bounded by ``chunk_elements`` numbers.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from labeling.json_types import JSONObject

from .alpha import check_level, distance_matrix
from .counts import pair_weights, unique_rows

DEFAULT_DRAWS = 1000


def unit_statistics(counts: np.ndarray, level: str, values: np.ndarray | None = None) -> np.ndarray:
    """Per-item additive statistics from which alpha is recomputed (see module docstring).

    Nominal/interval/ratio: ``[n_u1 .. n_uV, sum_ck o_uck d_ck]`` (fixed distances).
    Ordinal: the flattened per-item coincidences ``o_uck`` (distances depend on marginals).
    Unpairable items get all-zero statistics.
    """
    check_level(level)
    counts_f = counts.astype(np.float64, copy=False)
    m = counts_f.sum(axis=1)
    w = pair_weights(m)
    pairable = (m >= 2)[:, None]
    n_categories = counts.shape[1]
    if level == "ordinal":
        o = counts_f[:, :, None] * counts_f[:, None, :]
        o[:, np.arange(n_categories), np.arange(n_categories)] -= counts_f
        stats: np.ndarray = (o * w[:, None, None]).reshape(counts.shape[0], -1)
        return stats
    d = distance_matrix(level, np.ones(n_categories), values)
    observed = np.einsum("uc,ck,uk->u", counts_f, d, counts_f, optimize=True) * w
    return np.concatenate([counts_f * pairable, observed[:, None]], axis=1)


def alphas_from_statistics(
    stats: np.ndarray, level: str, n_categories: int, values: np.ndarray | None = None
) -> np.ndarray:
    """Alpha for each row of summed unit statistics; NaN where undefined (Krippendorff 2011)."""
    stats = np.atleast_2d(stats)
    if level == "ordinal":
        o = stats.reshape(-1, n_categories, n_categories)
        marginals = o.sum(axis=1)
        d = distance_matrix(level, marginals, values)
        observed = np.einsum("bck,bck->b", o, d)
        expected = np.einsum("bc,bck,bk->b", marginals, d, marginals)
    else:
        marginals = stats[:, :n_categories]
        observed = stats[:, n_categories]
        fixed = distance_matrix(level, np.ones(n_categories), values)
        expected = np.einsum("bc,ck,bk->b", marginals, fixed, marginals, optimize=True)
    n = marginals.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        out: np.ndarray = 1.0 - (n - 1.0) * observed / expected
    out[~(expected > 0) | ~(n > 0)] = np.nan
    return out


def draw_weights(
    multiplicity: np.ndarray,
    *,
    draws: int,
    seed: int,
    width: int,
    chunk_elements: int = 4_000_000,
) -> Iterator[np.ndarray]:
    """Yield ``(size, n_patterns)`` float matrices: how often each pattern is drawn per resample.

    Resampling ``n`` units uniformly with replacement draws pattern ``p`` (standing for
    ``multiplicity[p]`` units) ``Multinomial(n, multiplicity / n)`` times, exactly.
    """
    multiplicity = np.asarray(multiplicity, dtype=np.int64)
    n_units = int(multiplicity.sum())
    if draws <= 0 or n_units == 0:
        return
    rng = np.random.default_rng(seed)
    n_patterns = multiplicity.shape[0]
    # Exact multinomial pattern counts either way: numpy's multinomial costs one binomial
    # per pattern per draw; drawing unit indices and counting costs one integer per unit.
    by_index = n_units < 8 * n_patterns
    owner = np.repeat(np.arange(n_patterns), multiplicity) if by_index else None
    probs = multiplicity / n_units
    per_draw = n_units if by_index else n_patterns
    chunk = max(1, chunk_elements // max(per_draw, width, 1))
    done = 0
    while done < draws:
        size = min(chunk, draws - done)
        if owner is not None:  # by_index
            picks = owner[rng.integers(0, n_units, size=(size, n_units))]
            picks += (np.arange(size) * n_patterns)[:, None]
            weights = np.bincount(picks.ravel(), minlength=size * n_patterns)
            yield weights.reshape(size, n_patterns).astype(np.float64)
        else:
            yield rng.multinomial(n_units, probs, size=size).astype(np.float64)
        done += size


def bootstrap_sums(
    stats: np.ndarray, multiplicity: np.ndarray, *, draws: int = DEFAULT_DRAWS, seed: int = 0
) -> np.ndarray:
    """``(draws, n_stats)`` resampled sums of per-unit statistics (row ``p`` counts ``mult[p]``)."""
    parts = [
        weights @ stats
        for weights in draw_weights(multiplicity, draws=draws, seed=seed, width=stats.shape[1])
    ]
    return np.concatenate(parts) if parts else np.zeros((0, stats.shape[1]))


def bootstrap_alphas(
    stats: np.ndarray,
    multiplicity: np.ndarray,
    level: str,
    n_categories: int,
    values: np.ndarray | None = None,
    *,
    draws: int = DEFAULT_DRAWS,
    seed: int = 0,
    chunk_elements: int = 4_000_000,
) -> np.ndarray:
    """Alpha of ``draws`` resamples; row ``p`` of ``stats`` stands for ``multiplicity[p]`` units."""
    out = [
        alphas_from_statistics(weights @ stats, level, n_categories, values)
        for weights in draw_weights(
            multiplicity,
            draws=draws,
            seed=seed,
            width=stats.shape[1],
            chunk_elements=chunk_elements,
        )
    ]
    return np.concatenate(out) if out else np.zeros(0)


def percentile_interval(samples: np.ndarray, confidence: float = 0.95) -> list[float] | None:
    """Percentile bootstrap interval over the finite draws, or None if there are none."""
    finite = samples[np.isfinite(samples)]
    if finite.size == 0:
        return None
    tail = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(finite, [tail, 1.0 - tail])
    return [float(lo), float(hi)]


PERCENTILE_METHOD = "percentile bootstrap (Efron & Tibshirani 1993, ch. 13)"


def interval_record(samples: np.ndarray, draws: int, resampled: str) -> JSONObject:
    """How an interval was made: method, what was resampled, draws asked and valid."""
    return {
        "method": PERCENTILE_METHOD,
        "resampled": resampled,
        "n_draws": int(draws),
        "n_valid": int(np.isfinite(samples).sum()) if samples.size else 0,
        "confidence": 0.95,
    }


def cluster_patterns(
    per_unit: np.ndarray, clusters: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Per-cluster summed statistics collapsed to distinct rows, with their multiplicities.

    Without ``clusters`` every unit is its own cluster. Identical clusters are resampled
    together exactly (see :func:`draw_weights`), which keeps the cost bounded by the number
    of distinct clusters.
    """
    if clusters is None:
        stats = per_unit
    else:
        _, index = np.unique(np.asarray(clusters), return_inverse=True)
        n_clusters = int(index.max()) + 1 if index.size else 0
        stats = np.zeros((n_clusters, per_unit.shape[1]))
        np.add.at(stats, index.ravel(), per_unit)
    if stats.shape[0] == 0:
        return stats, np.zeros(0, dtype=np.int64)
    patterns, mult = np.unique(stats, axis=0, return_counts=True)
    return patterns, mult


def bootstrap_alpha_samples(
    counts: np.ndarray,
    level: str,
    values: np.ndarray | None = None,
    *,
    draws: int = DEFAULT_DRAWS,
    seed: int = 0,
    clusters: np.ndarray | None = None,
) -> np.ndarray:
    """Alpha of each resample of the pairable items, or of whole clusters of items if given."""
    n_categories = counts.shape[1]
    pairable = counts.sum(axis=1) >= 2
    if clusters is not None:
        stats, mult = cluster_patterns(
            unit_statistics(counts[pairable], level, values), np.asarray(clusters)[pairable]
        )
    else:
        patterns, mult, _ = unique_rows(counts[pairable])
        stats = unit_statistics(patterns, level, values)
    return bootstrap_alphas(stats, mult, level, n_categories, values, draws=draws, seed=seed)


def bootstrap_alpha_ci_from_counts(
    counts: np.ndarray,
    level: str,
    values: np.ndarray | None = None,
    *,
    draws: int = DEFAULT_DRAWS,
    seed: int = 0,
    confidence: float = 0.95,
    clusters: np.ndarray | None = None,
) -> list[float] | None:
    """Percentile CI of alpha resampling pairable items, or whole clusters of items if given."""
    samples = bootstrap_alpha_samples(
        counts, level, values, draws=draws, seed=seed, clusters=clusters
    )
    return percentile_interval(samples, confidence)


def bootstrap_alpha_ci(
    codes: np.ndarray,
    level: str = "nominal",
    *,
    values: np.ndarray | None = None,
    n_categories: int | None = None,
    draws: int = DEFAULT_DRAWS,
    seed: int = 0,
    confidence: float = 0.95,
) -> list[float] | None:
    """Seeded percentile CI ``[low, high]`` of alpha, items resampled (Efron & Tibshirani 1993)."""
    from .counts import as_codes, value_counts

    if n_categories is None and values is not None:
        n_categories = len(values)
    arr, n_categories = as_codes(codes, n_categories)
    counts = value_counts(arr, n_categories)
    return bootstrap_alpha_ci_from_counts(
        counts, level, values, draws=draws, seed=seed, confidence=confidence
    )
