"""Hypothesis strategies and converters shared by the agreement tests (no Django)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st


@st.composite
def reliability_matrices(
    draw,
    max_items: int = 25,
    max_annotators: int = 6,
    min_annotators: int = 1,
    max_categories: int = 5,
    allow_missing: bool = True,
) -> tuple[np.ndarray, int]:
    """A codes matrix (items x annotators, -1 = missing) and its category count."""
    n_items = draw(st.integers(1, max_items))
    n_annotators = draw(st.integers(min_annotators, max_annotators))
    n_categories = draw(st.integers(2, max_categories))
    low = -1 if allow_missing else 0
    flat = draw(
        st.lists(
            st.integers(low, n_categories - 1),
            min_size=n_items * n_annotators,
            max_size=n_items * n_annotators,
        )
    )
    return np.asarray(flat, dtype=np.int64).reshape(n_items, n_annotators), n_categories


def to_reliability_data(codes: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The ``krippendorff`` package's layout: annotators x items floats, NaN for missing."""
    return np.where(codes < 0, np.nan, values[np.clip(codes, 0, None)]).T


def close(a: float | None, b: float, tol: float = 1e-9) -> bool:
    """Equal to ``tol`` relative (absolute below 1), with None standing for NaN."""
    if a is None or b is None or not np.isfinite(b):
        return a is None and (b is None or not np.isfinite(b))
    return abs(a - b) <= tol * max(1.0, abs(b))
