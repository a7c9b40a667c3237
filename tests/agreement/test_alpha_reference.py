"""Krippendorff's alpha against the ``krippendorff`` package and published worked examples."""

from __future__ import annotations

import warnings

import krippendorff
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labeling.agreement import (
    LEVELS,
    coincidence_matrix,
    krippendorff_alpha,
    per_label_alpha,
)
from labeling.agreement.alpha import alphas_from_coincidences

from .strategies import close, reliability_matrices, to_reliability_data

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", sec. C (ordinal
# example data, reused in D and E): 4 observers x 12 units, values 1..5, missing cells.
K2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]
K2011_CODES = np.array([[-1 if v is None else v - 1 for v in row] for row in K2011]).T
K2011_VALUES = np.array([1.0, 2.0, 3.0, 4.0, 5.0])


def reference_alpha(codes: np.ndarray, level: str, values: np.ndarray) -> float | None:
    """``krippendorff.alpha`` with the schema's full value domain, None where it fails/NaN."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = krippendorff.alpha(
                to_reliability_data(codes, values),
                value_domain=values,
                level_of_measurement=level,
            )
    except ValueError:
        return None
    return float(ref) if np.isfinite(ref) else None


@pytest.mark.parametrize(
    ("level", "expected"),
    [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)],
)
def test_krippendorff_2011_worked_example(level: str, expected: float) -> None:
    """Krippendorff (2011) sections C-E: alpha = .743 nominal, .815 ordinal, .849 interval,
    .797 ratio for the 4 observers x 12 units example (also checked against the package)."""
    ours = krippendorff_alpha(K2011_CODES, level, values=K2011_VALUES)
    assert round(ours, 3) == expected
    assert close(ours, reference_alpha(K2011_CODES, level, K2011_VALUES))


def test_krippendorff_2011_coincidences() -> None:
    """Krippendorff (2011) sec. A coincidence matrix: n_c = 9, 13, 10, 5, 3 (n.. = 40)."""
    o = coincidence_matrix(K2011_CODES, 5)
    np.testing.assert_allclose(o.sum(axis=0), [9, 13, 10, 5, 3])
    np.testing.assert_allclose(o, o.T)
    np.testing.assert_allclose(np.diag(o), [7, 10, 8, 4, 3])


def test_package_docstring_example_three_coders() -> None:
    """The ``krippendorff`` package's doctest (3 coders x 15 units): nominal .691358,
    interval .810845."""
    rows = [
        [None, None, None, None, None, 3, 4, 1, 2, 1, 1, 3, 3, None, 3],
        [1, None, 2, 1, 3, 3, 4, 3, None, None, None, None, None, None, None],
        [None, None, 2, 1, 3, 4, 4, None, 2, 1, 1, 3, 3, None, 4],
    ]
    codes = np.array([[-1 if v is None else v - 1 for v in row] for row in rows]).T
    values = np.array([1.0, 2.0, 3.0, 4.0])
    assert round(krippendorff_alpha(codes, "nominal", values=values), 6) == 0.691358
    assert round(krippendorff_alpha(codes, "interval", values=values), 6) == 0.810845


@settings(max_examples=60, deadline=None)
@given(data=reliability_matrices(), level=st.sampled_from(LEVELS))
def test_alpha_matches_krippendorff_package(data: tuple[np.ndarray, int], level: str) -> None:
    codes, n_categories = data
    values = np.arange(n_categories, dtype=np.float64)
    assert close(
        krippendorff_alpha(codes, level, n_categories=n_categories),
        reference_alpha(codes, level, values),
    )


@settings(max_examples=40, deadline=None)
@given(
    data=reliability_matrices(),
    level=st.sampled_from(["interval", "ratio"]),
    raw=st.lists(st.integers(0, 50), min_size=5, max_size=5, unique=True),
)
def test_alpha_with_category_values(
    data: tuple[np.ndarray, int], level: str, raw: list[int]
) -> None:
    codes, n_categories = data
    values = np.sort(np.asarray(raw[:n_categories], dtype=np.float64))
    assert close(
        krippendorff_alpha(codes, level, values=values), reference_alpha(codes, level, values)
    )


@settings(max_examples=40, deadline=None)
@given(data=reliability_matrices())
def test_per_label_alpha_is_one_vs_rest_alpha(data: tuple[np.ndarray, int]) -> None:
    codes, n_categories = data
    per_label = per_label_alpha(codes, n_categories)
    for c in range(n_categories):
        binary = np.where(codes < 0, -1, (codes == c).astype(np.int64))
        assert close(per_label[c], krippendorff_alpha(binary, "nominal", n_categories=2))


@settings(max_examples=30, deadline=None)
@given(data=reliability_matrices(), level=st.sampled_from(LEVELS))
def test_batched_alpha_matches_scalar(data: tuple[np.ndarray, int], level: str) -> None:
    codes, n_categories = data
    o = coincidence_matrix(codes, n_categories)
    batched = alphas_from_coincidences(np.stack([o, o]), level)
    scalar = krippendorff_alpha(codes, level, n_categories=n_categories)
    assert close(scalar, batched[0])
    assert close(scalar, batched[1])


def test_large_random_matrix_matches_package() -> None:
    rng = np.random.default_rng(7)
    codes = rng.integers(0, 5, (3000, 8))
    codes[rng.random(codes.shape) < 0.3] = -1
    values = np.arange(5.0)
    for level in LEVELS:
        assert close(krippendorff_alpha(codes, level), reference_alpha(codes, level, values))
