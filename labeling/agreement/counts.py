"""Per-item value counts, the common input of every coefficient in this package.

A reliability matrix ``codes`` has shape ``(n_items, n_annotators)``; entries are category
codes ``0..n_categories-1`` or ``-1`` for "this annotator did not code this item".
Everything downstream works on the value-count matrix ``N`` of shape
``(n_items, n_categories)`` where ``N[u, c]`` is how many annotators gave category ``c``
to item ``u`` (Krippendorff 2011, "Computing Krippendorff's Alpha-Reliability", the
"values by units" table).
"""

from __future__ import annotations

import numpy as np

MISSING = -1


def as_codes(
    codes: np.ndarray | list[list[int]], n_categories: int | None = None
) -> tuple[np.ndarray, int]:
    """Validate a reliability matrix and return it (2-D, integer) with its category count."""
    arr = np.asarray(codes)
    if arr.ndim == 1 and arr.size == 0:
        arr = arr.reshape(0, 0)
    if arr.ndim != 2:
        raise ValueError(f"codes must be 2-D (n_items, n_annotators), got shape {arr.shape}")
    if arr.dtype.kind not in "iu":
        if arr.size and not np.all(np.equal(np.mod(arr, 1), 0)):
            raise ValueError("codes must be integer category codes (use -1 for missing)")
        arr = arr.astype(np.int64)
    if arr.size:
        lo, hi = int(arr.min()), int(arr.max())
        if lo < MISSING:
            raise ValueError(f"codes must be >= -1 (missing), found {lo}")
    else:
        hi = -1
    if n_categories is None:
        n_categories = hi + 1
    elif hi >= n_categories:
        raise ValueError(f"code {hi} out of range for {n_categories} categories")
    return arr, int(n_categories)


def value_counts(codes: np.ndarray, n_categories: int) -> np.ndarray:
    """Items x categories count matrix ``N`` (Krippendorff 2011, values-by-units table)."""
    n_items, n_annotators = codes.shape
    if n_items == 0 or n_annotators == 0 or n_categories == 0:
        return np.zeros((n_items, n_categories), dtype=np.int64)
    if n_categories <= 16:
        # Per annotator column and category: a compare and an add over contiguous memory
        # (reductions along the short annotator axis are slow in numpy).
        acc = np.zeros((n_categories, n_items), dtype=np.int32)
        for a in range(n_annotators):
            column = np.ascontiguousarray(codes[:, a])
            for c in range(n_categories):
                acc[c] += column == c
        return acc.T.astype(np.int64)
    width = n_categories + 1
    shifted = np.where(codes < 0, n_categories, codes).astype(np.int64, copy=False)
    shifted += (np.arange(n_items, dtype=np.int64) * width)[:, None]
    flat = np.bincount(shifted.ravel(), minlength=n_items * width)
    return flat.reshape(n_items, width)[:, :n_categories].astype(np.int64, copy=False)


def pair_weights(m: np.ndarray) -> np.ndarray:
    """``1 / (m_u - 1)`` for pairable items (``m_u >= 2``), 0 otherwise (Krippendorff 2011)."""
    m = np.asarray(m, dtype=np.float64)
    w = np.zeros_like(m)
    ok = m >= 2
    w[ok] = 1.0 / (m[ok] - 1.0)
    return w


def coincidences_from_counts(
    counts: np.ndarray, multiplicity: np.ndarray | None = None
) -> np.ndarray:
    """Coincidences ``o_ck = sum_u (n_uc n_uk - [c=k] n_uc) / (m_u - 1)`` (Krippendorff 2011).

    ``multiplicity[u]``, if given, is how many items row ``u`` stands for.
    """
    counts_f = counts.astype(np.float64, copy=False)
    w = pair_weights(counts_f @ np.ones(counts.shape[1]))
    if multiplicity is not None:
        w = w * np.asarray(multiplicity, dtype=np.float64)
    weighted = counts_f * w[:, None]
    o: np.ndarray = counts_f.T @ weighted
    o[np.diag_indices_from(o)] -= weighted.sum(axis=0)
    return o


def unique_rows(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct rows of a count matrix with their multiplicities and the row -> pattern map."""
    n_items, n_categories = counts.shape
    if n_items == 0:
        return counts, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    base = int(counts.max()) + 1
    if n_categories and n_categories * np.log2(max(base, 2)) < 62:
        powers = base ** np.arange(n_categories, dtype=np.int64)
        keys = counts.astype(np.int64, copy=False) @ powers
        _, first, inverse, mult = np.unique(
            keys, return_index=True, return_inverse=True, return_counts=True
        )
        return counts[first], mult, inverse
    patterns, inverse, mult = np.unique(counts, axis=0, return_inverse=True, return_counts=True)
    return patterns, mult, inverse.ravel()
