"""Benchmark of labeling.agreement kernels against krippendorff and nltk (no Django).

Usage: python bench/agreement_kernels_bench.py [--quick] [--repeats N]

Synthetic reliability data: uniform random codes over 5 categories with 30% of cells
missing. Inputs are prepared outside the timings, each library in its native layout
(ours: int codes items x annotators with -1; krippendorff: float annotators x items with
NaN and the value domain given; nltk: (coder, item, label) triples).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import krippendorff  # noqa: E402
from nltk.metrics.agreement import AnnotationTask  # noqa: E402

from labeling.agreement import bootstrap_alpha_ci, krippendorff_alpha  # noqa: E402

LEVELS = ("nominal", "ordinal", "interval", "ratio")
N_CATEGORIES = 5


def synthetic(n_items: int, n_annotators: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, N_CATEGORIES, (n_items, n_annotators), dtype=np.int64)
    codes[rng.random(codes.shape) < 0.3] = -1
    return codes


def median_time(fn: Callable[[], object], repeats: int) -> tuple[float, object]:
    times = []
    result = None
    for _ in range(repeats):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def bench_krippendorff(sizes: list[tuple[int, int]], repeats: int) -> None:
    print("== Krippendorff's alpha: labeling.agreement vs krippendorff.alpha ==")
    print(f"{'size':>14} {'level':>9} {'ours ms':>9} {'kripp ms':>9} {'speedup':>8} {'|diff|':>9}")
    domain = np.arange(N_CATEGORIES, dtype=np.float64)
    for n_annotators, n_items in sizes:
        codes = synthetic(n_items, n_annotators)
        data = np.where(codes < 0, np.nan, codes.astype(np.float64)).T
        for level in LEVELS:
            ours_t, ours = median_time(
                lambda c=codes, lv=level: krippendorff_alpha(c, lv, n_categories=N_CATEGORIES),
                repeats,
            )
            ref_t, ref = median_time(
                lambda d=data, lv=level: krippendorff.alpha(
                    d, value_domain=domain, level_of_measurement=lv
                ),
                repeats,
            )
            print(
                f"{n_annotators:>3} x {n_items:>8,} {level:>9} {ours_t * 1e3:9.1f} "
                f"{ref_t * 1e3:9.1f} {ref_t / ours_t:7.1f}x {abs(ours - ref):9.1e}"
            )


def bench_nltk(sizes: list[tuple[int, int]], repeats: int) -> None:
    print("== nominal alpha: labeling.agreement vs nltk AnnotationTask.alpha ==")
    print(f"{'size':>14} {'ours ms':>9} {'nltk ms':>10} {'speedup':>9} {'|diff|':>9}")
    for n_annotators, n_items in sizes:
        codes = synthetic(n_items, n_annotators, seed=1)
        rows, cols = np.nonzero(codes >= 0)
        triples = [
            (str(a), str(u), int(codes[u, a]))
            for u, a in zip(rows.tolist(), cols.tolist(), strict=True)
        ]
        ours_t, ours = median_time(
            lambda c=codes: krippendorff_alpha(c, "nominal", n_categories=N_CATEGORIES), repeats
        )
        nltk_t, ref = median_time(
            lambda t=triples: AnnotationTask(data=t).alpha(), max(1, repeats // 3)
        )
        print(
            f"{n_annotators:>3} x {n_items:>8,} {ours_t * 1e3:9.2f} {nltk_t * 1e3:10.1f} "
            f"{nltk_t / ours_t:8.0f}x {abs(ours - ref):9.1e}"
        )


def bench_bootstrap(n_annotators: int, n_items: int, draws: int) -> None:
    print(f"== bootstrap 95% CI, {draws} draws, {n_annotators} x {n_items:,} ==")
    codes = synthetic(n_items, n_annotators, seed=2)
    n_annotations = int((codes >= 0).sum())
    for level in LEVELS:
        started = time.perf_counter()
        ci = bootstrap_alpha_ci(codes, level, n_categories=N_CATEGORIES, draws=draws, seed=0)
        elapsed = time.perf_counter() - started
        print(
            f"{level:>9}: {elapsed:6.2f} s for {n_annotations:,} annotations, "
            f"CI [{ci[0]:+.5f}, {ci[1]:+.5f}]"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer repeats")
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args()
    if args.quick:
        repeats = args.repeats or 3
        kripp_sizes = [(5, 20_000), (20, 20_000)]
        nltk_sizes = [(5, 2_000)]
        boot = (20, 20_000)
    else:
        repeats = args.repeats or 7
        kripp_sizes = [(5, 200_000), (20, 200_000)]
        nltk_sizes = [(5, 2_000), (5, 20_000)]
        boot = (20, 200_000)
    print(f"numpy {np.__version__}, repeats {repeats} (median reported)")
    bench_krippendorff(kripp_sizes, repeats)
    bench_nltk(nltk_sizes, repeats)
    bench_bootstrap(*boot, draws=1000)


if __name__ == "__main__":
    main()
