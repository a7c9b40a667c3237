"""Codes-level wrappers for per-item disagreement, per-label alpha and pair counts."""

from __future__ import annotations

import numpy as np

from .alpha import item_disagreement_from_counts, per_label_alpha_from_counts
from .counts import as_codes, value_counts


def item_disagreement(
    codes: np.ndarray,
    level: str = "nominal",
    *,
    values: np.ndarray | None = None,
    n_categories: int | None = None,
) -> list[float | None]:
    """Per-item mean pair distance / max category distance in [0, 1] (Krippendorff 2011 D_o)."""
    if n_categories is None and values is not None:
        n_categories = len(values)
    arr, n_categories = as_codes(codes, n_categories)
    out = item_disagreement_from_counts(value_counts(arr, n_categories), level, values)
    return [float(x) if np.isfinite(x) else None for x in out.tolist()]


def per_label_alpha(codes: np.ndarray, n_categories: int | None = None) -> list[float | None]:
    """One-vs-rest nominal alpha for each category code (Krippendorff 2011, binary nominal)."""
    arr, n_categories = as_codes(codes, n_categories)
    out = per_label_alpha_from_counts(value_counts(arr, n_categories))
    return [float(x) if np.isfinite(x) else None for x in out.tolist()]


def pair_count_matrix(codes: np.ndarray, n_categories: int | None = None) -> np.ndarray:
    """Confusion matrix summed over ordered annotator pairs in items: ``N^T N - diag(sum N)``."""
    arr, n_categories = as_codes(codes, n_categories)
    counts = value_counts(arr, n_categories)
    out: np.ndarray = counts.T @ counts
    out[np.diag_indices_from(out)] -= counts.sum(axis=0)
    return out
