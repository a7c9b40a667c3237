"""Bootstrap CI for alpha: exact statistics, coverage of the estimate, seeding, narrowing."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labeling.agreement import LEVELS, bootstrap_alpha_ci, krippendorff_alpha
from labeling.agreement.bootstrap import alphas_from_statistics, unit_statistics
from labeling.agreement.counts import value_counts

from .strategies import close, reliability_matrices


def noisy_codes(n_items: int, n_annotators: int, seed: int, p_agree: float = 0.8) -> np.ndarray:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 4, n_items)
    codes = np.where(
        rng.random((n_items, n_annotators)) < p_agree,
        truth[:, None],
        rng.integers(0, 4, (n_items, n_annotators)),
    )
    codes[rng.random(codes.shape) < 0.2] = -1
    return codes


@settings(max_examples=40, deadline=None)
@given(
    data=reliability_matrices(max_items=12),
    level=st.sampled_from(LEVELS),
    weights=st.lists(st.integers(0, 3), min_size=12, max_size=12),
)
def test_weighted_statistics_equal_alpha_of_resampled_data(
    data: tuple[np.ndarray, int], level: str, weights: list[int]
) -> None:
    """A draw's alpha from summed unit statistics equals alpha of the replicated items."""
    codes, n_categories = data
    w = np.asarray(weights[: codes.shape[0]])
    stats = unit_statistics(value_counts(codes, n_categories), level)
    from_stats = alphas_from_statistics(w @ stats, level, n_categories)[0]
    replicated = np.repeat(codes, w, axis=0)
    assert close(krippendorff_alpha(replicated, level, n_categories=n_categories), from_stats)


@pytest.mark.parametrize("level", LEVELS)
def test_ci_contains_estimate_and_is_seeded(level: str) -> None:
    codes = noisy_codes(400, 4, seed=1)
    alpha = krippendorff_alpha(codes, level, n_categories=4)
    ci = bootstrap_alpha_ci(codes, level, n_categories=4, draws=500, seed=3)
    assert ci[0] <= alpha <= ci[1]
    assert ci == bootstrap_alpha_ci(codes, level, n_categories=4, draws=500, seed=3)
    assert ci != bootstrap_alpha_ci(codes, level, n_categories=4, draws=500, seed=4)


@pytest.mark.parametrize("level", LEVELS)
def test_ci_narrows_with_more_items(level: str) -> None:
    small = bootstrap_alpha_ci(noisy_codes(150, 4, seed=2), level, n_categories=4, seed=0)
    large = bootstrap_alpha_ci(noisy_codes(6000, 4, seed=2), level, n_categories=4, seed=0)
    assert (large[1] - large[0]) < 0.5 * (small[1] - small[0])


def test_ci_independent_of_chunking() -> None:
    from labeling.agreement.bootstrap import bootstrap_alphas
    from labeling.agreement.counts import unique_rows

    counts = value_counts(noisy_codes(300, 5, seed=5), 4)
    patterns, mult, _ = unique_rows(counts[counts.sum(axis=1) >= 2])
    stats = unit_statistics(patterns, "ordinal")
    one = bootstrap_alphas(stats, mult, "ordinal", 4, draws=200, seed=9)
    # Draws come from one generator in order, so chunking the draws changes nothing.
    chunked = bootstrap_alphas(stats, mult, "ordinal", 4, draws=200, seed=9, chunk_elements=1)
    assert one.shape == (200,)
    np.testing.assert_allclose(one, chunked, rtol=1e-12)


def test_zero_draws_gives_none() -> None:
    assert bootstrap_alpha_ci(noisy_codes(50, 3, seed=0), n_categories=4, draws=0) is None


def test_large_bootstrap_is_fast() -> None:
    """1,000,000 annotations with 1000 draws stays within a few seconds."""
    import time

    rng = np.random.default_rng(0)
    codes = rng.integers(0, 5, (100_000, 10))
    started = time.perf_counter()
    ci = bootstrap_alpha_ci(codes, "nominal", n_categories=5, draws=1000, seed=0)
    assert time.perf_counter() - started < 10.0
    assert ci is not None
