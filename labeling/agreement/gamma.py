"""Mathet et al.'s gamma agreement over one continuum of character offsets.

Y. Mathet, A. Widlöcher, J.-P. Métivier (2015), "The Unified and Holistic Method Gamma
for Inter-Annotator Agreement Measure and Alignment", Computational Linguistics 41(3):
437-479. ``gamma = 1 - observed disorder / expected disorder``. The observed disorder is
that of the exact optimal alignment (``labeling.agreement.alignment``). The expected
disorder is the mean disorder of ``n_samples`` random continua drawn like
pygamma-agreement's default ``StatisticalContinuumSampler`` (Titeux & Riad 2021,
"pygamma-agreement: Gamma γ measure for inter/intra-annotator agreement in Python",
JOSS 6(62):2989): every annotator draws ``|int(N(mean, sd))|`` units (the first at least
one), placed one after the other with gaps ``N(mean, sd)`` and lengths ``|N(mean, sd)|``,
categories drawn with their observed frequencies; the means and standard deviations are
those of the data (units per annotator, including annotators who marked nothing; gaps
between an annotator's consecutive units plus each annotator's first start when positive,
and a 0; unit lengths). As there, a gamma of 1 is returned when the observed disorder is 0.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence

import numpy as np

from labeling.json_types import JSONObject

from .alignment import best_alignment_disorder
from .unitizing import UnitInput

DEFAULT_SAMPLES = 30  # pygamma-agreement's default
SEGMENT_PRECISION = 1e-6  # pyannote.core's shortest legal segment


def units_array(
    units: Iterable[UnitInput], annotators: Sequence[Hashable] | None = None
) -> tuple[np.ndarray, list[Hashable], list[Hashable]]:
    """Rows ``(annotator index, start, end, category index)``, the annotators and categories.

    Identical units of one annotator count once (as in pygamma-agreement's continuum).
    """
    rows = []
    for i, unit in enumerate(units):
        if len(unit) != 4:
            raise ValueError(f"units[{i}] must be (annotator, start, end, category)")
        annotator, start, end, category = unit
        if not float(end) > float(start):
            raise ValueError(f"units[{i}] is empty or reversed: start {start}, end {end}")
        rows.append((annotator, float(start), float(end), category))
    rows = list(dict.fromkeys(rows))
    present = list(dict.fromkeys(r[0] for r in rows))
    if annotators is None:
        listed = present
    else:
        listed = list(dict.fromkeys(annotators))
        known = set(listed)
        for a in present:
            if a not in known:
                raise ValueError(f"annotators does not list {a!r}, who has units")
    categories = list(dict.fromkeys(r[3] for r in rows))
    a_index = {a: i for i, a in enumerate(listed)}
    c_index = {c: i for i, c in enumerate(categories)}
    arr = np.array(
        [(a_index[a], s, e, c_index[c]) for a, s, e, c in rows], dtype=np.float64
    ).reshape(-1, 4)
    return arr, listed, categories


def sampler_statistics(units: np.ndarray, n_annotators: int) -> dict[str, np.ndarray | float]:
    """The means, deviations and category weights the statistical sampler draws from."""
    order = np.lexsort((units[:, 3], units[:, 2], units[:, 1], units[:, 0]))
    u = units[order]
    same = u[1:, 0] == u[:-1, 0]
    between = (u[1:, 1] - u[:-1, 2])[same]
    first = np.r_[True, ~same]
    starts = u[first, 1]
    gaps = np.concatenate([[0.0], between, starts[starts > 0]])
    counts = np.bincount(u[:, 0].astype(np.int64), minlength=n_annotators)
    durations = u[:, 2] - u[:, 1]
    n_categories = int(u[:, 3].max()) + 1 if u.size else 0
    weights = np.bincount(u[:, 3].astype(np.int64), minlength=n_categories) / u.shape[0]
    return {
        "gap": (float(gaps.mean()), float(gaps.std())),
        "count": (float(counts.mean()), float(counts.std())),
        "duration": (float(durations.mean()), float(durations.std())),
        "weights": weights,
    }


def sample_continuum(stats: JSONObject, n_annotators: int, rng: np.random.Generator) -> np.ndarray:
    """One random continuum drawn like pygamma-agreement's StatisticalContinuumSampler."""
    count_mean, count_sd = stats["count"]
    counts = np.abs(rng.normal(count_mean, count_sd, size=n_annotators).astype(np.int64))
    counts[0] = max(1, counts[0])  # the sampler never returns an empty continuum
    total = int(counts.sum())
    gap_mean, gap_sd = stats["gap"]
    dur_mean, dur_sd = stats["duration"]
    gaps = rng.normal(gap_mean, gap_sd, size=total)
    durations = np.abs(rng.normal(dur_mean, dur_sd, size=total))
    short = durations < SEGMENT_PRECISION
    while short.any():
        durations[short] = np.abs(rng.normal(dur_mean, dur_sd, size=int(short.sum())))
        short = durations < SEGMENT_PRECISION
    weights = stats["weights"]
    categories = rng.choice(len(weights), size=total, p=weights)
    owner = np.repeat(np.arange(n_annotators), counts)
    steps = gaps + durations
    ends = np.cumsum(steps)
    first = np.cumsum(counts) - counts
    ends = ends - np.repeat(np.r_[0.0, ends][first], counts)
    starts = ends - durations
    return np.column_stack([owner, starts, ends, categories]).astype(np.float64)


def expected_disorder(
    units: np.ndarray,
    n_annotators: int,
    *,
    alpha: float,
    beta: float,
    n_samples: int,
    seed: int,
) -> float:
    """Mean optimal-alignment disorder of ``n_samples`` sampled continua (seeded)."""
    stats = sampler_statistics(units, n_annotators)
    rng = np.random.default_rng(seed)
    disorders = [
        best_alignment_disorder(
            sample_continuum(stats, n_annotators, rng), n_annotators, alpha=alpha, beta=beta
        )
        for _ in range(n_samples)
    ]
    return float(np.mean(disorders))


def gamma_agreement(
    units: Iterable[UnitInput],
    *,
    alpha: float = 1.0,
    beta: float = 1.0,
    n_samples: int = DEFAULT_SAMPLES,
    seed: int = 0,
    annotators: Sequence[Hashable] | None = None,
) -> JSONObject:
    """Gamma of ``(annotator, start, end, category)`` units (Mathet et al. 2015).

    ``alpha``/``beta`` weight the positional and categorical dissimilarities;
    ``annotators`` lists everyone who worked on the continuum (default: those in
    ``units``). Returns ``{"gamma", "observed_disorder", "expected_disorder",
    "n_samples"}``; values are ``None`` when undefined (fewer than two annotators, no unit,
    or an expected disorder of 0 with disagreement observed). Seeded: same seed, same result.
    """
    n_samples = int(n_samples)
    if n_samples < 1:
        raise ValueError(f"n_samples must be at least 1, got {n_samples}")
    if not (alpha >= 0 and beta >= 0):
        raise ValueError("alpha and beta must be non-negative")
    arr, listed, _ = units_array(units, annotators)
    m = len(listed)
    if m < 2 or arr.shape[0] == 0:
        return {
            "gamma": None,
            "observed_disorder": None,
            "expected_disorder": None,
            "n_samples": n_samples,
        }
    observed = float(best_alignment_disorder(arr, m, alpha=alpha, beta=beta))
    expected = expected_disorder(arr, m, alpha=alpha, beta=beta, n_samples=n_samples, seed=seed)
    if observed == 0:
        gamma: float | None = 1.0
    elif expected > 0:
        gamma = 1.0 - observed / expected
    else:
        gamma = None
    return {
        "gamma": gamma,
        "observed_disorder": observed,
        "expected_disorder": expected,
        "n_samples": n_samples,
    }
