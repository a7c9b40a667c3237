"""Agreement within groups of items: per document, or per answer origin (suggested or not).

Each group gets the headline's alpha with the headline's interval (percentile bootstrap
of the group's pairable items, :mod:`labeling.agreement.bootstrap`) and the headline's
warnings (:mod:`labeling.agreement.data_warnings`: too few valid draws, fewer pairable
values than Krippendorff's minimum), plus its items ranked by disagreement.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from labeling.json_types import JSONObject

from .alpha import alpha_from_coincidences, check_level
from .bootstrap import (
    alphas_from_statistics,
    bootstrap_alpha_samples,
    interval_record,
    percentile_interval,
    unit_statistics,
)
from .counts import coincidences_from_counts, value_counts
from .data_warnings import (
    interval_warnings,
    minimum_pairable_values,
    pooled_size_warnings,
    warning,
)

#: Items of a group listed in ``disputed`` (the highest disagreement first).
DISPUTED_PER_GROUP = 10


def _finite(x: float | None) -> float | None:
    return None if x is None or not np.isfinite(x) else float(x)


def _size_warnings(pooled: np.ndarray, labels: Sequence[str], name: str) -> list[JSONObject]:
    """``too_few_pairable_values`` below Krippendorff's minimum sample, and also when the
    pairable values are none or all alike (no minimum exists then: alpha is undefined)."""
    n = int(pooled.sum())
    if n == 0:
        return [warning("too_few_pairable_values", f"{name}: no item has two or more values")]
    used = np.flatnonzero(pooled > 0)
    if used.size < 2:
        return [
            warning(
                "too_few_pairable_values",
                f"{name}: all {n} pairable values are {labels[int(used[0])]!r}; alpha is "
                "undefined without variation (Krippendorff 2011)",
            )
        ]
    return list(pooled_size_warnings(pooled, labels))


def group_alpha(
    counts: np.ndarray,
    labels: Sequence[str],
    level: str,
    values: np.ndarray | None,
    *,
    draws: int,
    seed: int,
    resampled: str = "items",
    clusters: np.ndarray | None = None,
    name: str = "alpha",
) -> JSONObject:
    """Alpha of the items ``counts`` (rows: items, columns: categories) with its interval.

    Keys: ``alpha``, ``alpha_ci95``, ``alpha_interval`` (method, what was resampled,
    draws, valid draws), ``n_items`` (items with a value), ``n_pairable_items``,
    ``n_pairable_values``, ``n_annotations`` and ``warnings``. ``too_few_pairable_values``
    is also given when no item is pairable at all (no alpha can be told).
    """
    m = counts.sum(axis=1)
    pairable = m >= 2
    n_pairable_values = int(m[pairable].sum())
    alpha = alpha_from_coincidences(coincidences_from_counts(counts), level, values)
    warnings: list[JSONObject] = []
    ci = record = None
    if alpha is not None and draws > 0:
        samples = bootstrap_alpha_samples(
            counts, level, values, draws=draws, seed=seed, clusters=clusters
        )
        record = interval_record(samples, draws, resampled)
        warnings.extend(interval_warnings(f"{name}_ci95", record))
        ci = percentile_interval(samples)
    warnings.extend(_size_warnings(counts[pairable].sum(axis=0), labels, name))
    return {
        "alpha": _finite(alpha),
        "alpha_ci95": ci,
        "alpha_interval": record,
        "n_items": int((m >= 1).sum()),
        "n_pairable_items": int(pairable.sum()),
        "n_pairable_values": n_pairable_values,
        "n_annotations": int(m.sum()),
        "warnings": warnings,
    }


def _percentile_columns(samples: np.ndarray, confidence: float = 0.95) -> np.ndarray:
    """Per column of ``(draws, groups)``: the percentile interval over the finite draws.

    numpy's default (linear) quantile of each column's finite values, vectorised; rows of
    NaN where a column has no finite draw. Same figures as ``percentile_interval``.
    """
    ordered = np.sort(np.where(np.isfinite(samples), samples, np.inf), axis=0)
    valid = np.isfinite(samples).sum(axis=0)
    tail = (1.0 - confidence) / 2.0
    out = np.full((2, samples.shape[1]), np.nan)
    ok = valid > 0
    cols = np.flatnonzero(ok)
    for row, q in enumerate((tail, 1.0 - tail)):
        pos = (valid[ok] - 1) * q
        low = np.floor(pos).astype(np.int64)
        high = np.minimum(low + 1, valid[ok] - 1)
        frac = pos - low
        a, b = ordered[low, cols], ordered[high, cols]
        out[row, ok] = a + (b - a) * frac
    return out


def _weights(k: int, draws: int, rng: np.random.Generator) -> np.ndarray:
    """``(draws, k)``: how often each of ``k`` units is drawn in each uniform resample of k."""
    picks = rng.integers(0, k, size=(draws, k)) + (np.arange(draws) * k)[:, None]
    return np.bincount(picks.ravel(), minlength=draws * k).reshape(draws, k).astype(np.float64)


def _bootstrap_by_size(
    stats: list[np.ndarray],
    level: str,
    n_categories: int,
    values: np.ndarray | None,
    *,
    draws: int,
    seed: int,
    chunk_elements: int = 4_000_000,
) -> list[np.ndarray]:
    """Bootstrap alphas ``(draws,)`` of each group from its per-unit statistics.

    Groups with the same number of units ``k`` share one ``(draws, k)`` matrix of resample
    counts (drawn from ``seed`` and ``k``): one matrix product gives all their resampled
    sums. Each group's draws are still an ordinary item bootstrap of that group; only
    groups of equal size see the same resample indices.
    """
    out: list[np.ndarray] = [np.zeros(0)] * len(stats)
    by_size: dict[int, list[int]] = {}
    for g, st in enumerate(stats):
        if st.shape[0]:
            by_size.setdefault(st.shape[0], []).append(g)
    for k, members in sorted(by_size.items()):
        weights = _weights(k, draws, np.random.default_rng([seed, k]))
        width = stats[members[0]].shape[1]
        step = max(1, chunk_elements // max(draws * width, 1))
        for lo in range(0, len(members), step):
            chunk = members[lo : lo + step]
            stacked = np.stack([stats[g] for g in chunk], axis=1)  # (k, groups, width)
            sums = (weights @ stacked.reshape(k, -1)).reshape(draws * len(chunk), width)
            alphas = alphas_from_statistics(sums, level, n_categories, values)
            alphas = alphas.reshape(draws, len(chunk))
            for j, g in enumerate(chunk):
                out[g] = alphas[:, j]
    return out


def alpha_by_group(
    counts: np.ndarray,
    groups: np.ndarray,
    labels: Sequence[str],
    level: str,
    values: np.ndarray | None = None,
    *,
    draws: int,
    seed: int = 0,
    item_disagreement: np.ndarray | None = None,
    clusters: np.ndarray | None = None,
    resampled: str = "items",
    disputed_per_group: int = DISPUTED_PER_GROUP,
) -> list[JSONObject]:
    """:func:`group_alpha` for each distinct value of ``groups`` (one group id per item).

    The same figures, interval method and warnings as :func:`group_alpha`, computed for all
    groups at once (a per-group call costs milliseconds; a project has thousands of
    documents). With ``clusters`` (one id per item) a group resamples its clusters.
    Returns one entry per group in ascending group id, with ``group`` (the id),
    ``n_disputed`` (items with a positive ``item_disagreement``) and ``disputed``: up to
    ``disputed_per_group`` ``{"item", "score"}`` (row indices into ``counts``) ranked by
    disagreement, highest first, ties by row.
    """
    check_level(level)
    groups = np.asarray(groups)
    n_items, n_categories = counts.shape
    if groups.shape != (n_items,):
        raise ValueError(f"groups has shape {groups.shape}, expected ({n_items},)")
    if n_items == 0:
        return []
    if values is not None:
        values = np.asarray(values, dtype=np.float64)
    scores = np.full(n_items, np.nan)
    if item_disagreement is not None:
        scores = np.asarray(item_disagreement, dtype=np.float64)
    hot = np.isfinite(scores) & (scores > 0)
    # One order for everything: by group, then the most disputed first, ties by row.
    order = np.lexsort((np.arange(n_items), -np.where(hot, scores, 0.0), groups))
    sorted_groups = groups[order]
    starts = np.flatnonzero(np.r_[True, sorted_groups[1:] != sorted_groups[:-1]])
    ends = np.r_[starts[1:], n_items]
    per_unit = unit_statistics(counts, level, values)
    m = counts.sum(axis=1)
    pairable = m >= 2

    def per_group(x: np.ndarray) -> np.ndarray:
        summed: np.ndarray = np.add.reduceat(x[order], starts, axis=0)
        return summed

    alphas = alphas_from_statistics(per_group(per_unit), level, n_categories, values)
    pooled = per_group(counts * pairable[:, None])
    n_with_value = per_group((m >= 1).astype(np.int64))
    n_pairable = per_group(pairable.astype(np.int64))
    n_pairable_values = per_group(np.where(pairable, m, 0))
    n_annotations = per_group(m)
    n_hot = per_group(hot.astype(np.int64))
    wanted = np.isfinite(alphas) & (draws > 0)
    # Groups below Krippendorff's minimum sample (the warning is worded per group below).
    used = pooled > 0
    totals = pooled.sum(axis=1).astype(np.float64)
    smallest = np.where(used, pooled, np.iinfo(np.int64).max).min(axis=1)
    short = np.zeros(starts.size, dtype=bool)
    for g in np.flatnonzero((used.sum(axis=1) >= 2) & (totals > 0)).tolist():
        short[g] = totals[g] < minimum_pairable_values(float(smallest[g] / totals[g]))
    # The units each group resamples: its pairable items, or the clusters holding them.
    unit_stats: list[np.ndarray] = []
    clustered = np.zeros(starts.size, dtype=bool)
    cluster_ids = None if clusters is None else np.asarray(clusters)
    for g, (lo, hi) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True)):
        if not wanted[g]:
            unit_stats.append(per_unit[:0])
            continue
        rows = order[lo:hi]
        rows = rows[pairable[rows]]
        if cluster_ids is not None:
            _, index = np.unique(cluster_ids[rows], return_inverse=True)
            if index.size and int(index.max()) + 1 < index.size:
                summed = np.zeros((int(index.max()) + 1, per_unit.shape[1]))
                np.add.at(summed, index.ravel(), per_unit[rows])
                unit_stats.append(summed)
                clustered[g] = True
                continue
        unit_stats.append(per_unit[rows])
    samples = _bootstrap_by_size(
        unit_stats, level, n_categories, values, draws=max(draws, 0), seed=seed
    )
    drawn = np.full((max(draws, 0), starts.size), np.nan)
    for g, sample in enumerate(samples):
        if sample.size:
            drawn[:, g] = sample
    intervals = _percentile_columns(drawn) if drawn.size else np.full((2, starts.size), np.nan)
    n_valid = np.isfinite(drawn).sum(axis=0)
    out = []
    for g, lo in enumerate(starts.tolist()):
        warnings: list[JSONObject] = []
        ci = record = None
        if wanted[g]:
            record = {
                **interval_record(np.zeros(0), draws, resampled if clustered[g] else "items"),
                "n_valid": int(n_valid[g]),
            }
            warnings.extend(interval_warnings("alpha_ci95", record))
            if n_valid[g]:
                ci = [float(intervals[0, g]), float(intervals[1, g])]
        if short[g] or (used[g].sum() < 2):
            warnings.extend(_size_warnings(pooled[g], labels, "alpha"))
        top = order[lo : lo + min(int(n_hot[g]), disputed_per_group)]
        out.append(
            {
                "group": sorted_groups[lo].item(),
                "alpha": _finite(float(alphas[g])),
                "alpha_ci95": ci,
                "alpha_interval": record,
                "n_items": int(n_with_value[g]),
                "n_pairable_items": int(n_pairable[g]),
                "n_pairable_values": int(n_pairable_values[g]),
                "n_annotations": int(n_annotations[g]),
                "warnings": warnings,
                "n_disputed": int(n_hot[g]),
                "disputed": [{"item": int(i), "score": float(scores[i])} for i in top],
            }
        )
    return out


def alpha_by_origin(
    codes: np.ndarray,
    suggested: np.ndarray,
    labels: Sequence[str],
    level: str,
    values: np.ndarray | None = None,
    *,
    draws: int,
    seed: int = 0,
    clusters: np.ndarray | None = None,
    resampled: str = "items",
) -> JSONObject:
    """Alpha of the answers that began from a suggestion and of those that did not.

    ``codes`` is the reliability matrix (``-1`` missing) and ``suggested`` a boolean
    matrix of the same shape. Each group keeps only its own values, so a pair of answers
    counts only when both began from a suggestion (``suggested``) or neither did
    (``not_suggested``); pairs across the groups are in neither. Each group is a
    :func:`group_alpha` record (with ``too_few_pairable_values`` when it is too small to
    tell) with ``n_annotations``; ``share_suggested`` is the share of all annotations
    that began from a suggestion. Suggestion bias shows as a higher alpha among the
    suggested answers than among the others.
    """
    arr = np.asarray(codes)
    flags = np.asarray(suggested, dtype=bool)
    if flags.shape != arr.shape:
        raise ValueError(f"suggested has shape {flags.shape}, codes {arr.shape}")
    present = arr >= 0
    out: JSONObject = {}
    for name, mask in (("suggested", flags & present), ("not_suggested", ~flags & present)):
        sub = np.where(mask, arr, -1)
        counts = value_counts(sub, len(labels))
        keep = clusters
        if keep is not None and np.unique(keep).size == keep.size:
            keep = None
        out[name] = group_alpha(
            counts,
            labels,
            level,
            values,
            draws=draws,
            seed=seed,
            clusters=keep,
            resampled=resampled if keep is not None else "items",
            name=f"{name} alpha",
        )
    total = int(present.sum())
    out["share_suggested"] = float((flags & present).sum() / total) if total else None
    return out
