"""Benchmark of labeling.agreement kernels against krippendorff, nltk and pygamma-agreement.

Usage: python bench/agreement_kernels_bench.py [--quick] [--repeats N] [--spans-only]

Synthetic reliability data: uniform random codes over 5 categories with 30% of cells
missing. Inputs are prepared outside the timings, each library in its native layout
(ours: int codes items x annotators with -1; krippendorff: float annotators x items with
NaN and the value domain given; nltk: (coder, item, label) triples).

Span agreement (alpha_U, gamma): synthetic attribution on documents of 20 sentences of
~120 characters, 3 annotators, a triple in 40% of the sentences, each annotator keeping
it with probability 0.85 and moving each boundary by 0-2 characters. Ours runs on the whole
corpus as one continuum (2,000 and 20,000 sentences); pygamma-agreement (which enumerates
every n-tuple of units and solves an integer programme) cannot take a continuum of that
size, so both run per document on the first documents in the same process, and the
corpus time of pygamma-agreement is extrapolated from its per-document median (stated).
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

from labeling.agreement import (  # noqa: E402
    bootstrap_alpha_ci,
    gamma_agreement,
    krippendorff_alpha,
    unitizing_alpha,
)

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


ROLES = ("source", "cue", "content")
SENTENCE_CHARS = 120
SENTENCES_PER_DOC = 20


def synthetic_attribution(n_sentences: int, seed: int = 0) -> list[list[tuple]]:
    """Per document: ``(annotator, start, end, role)`` units in document offsets."""
    rng = np.random.default_rng(seed)
    documents = []
    for d in range(0, n_sentences, SENTENCES_PER_DOC):
        units = []
        for s in range(min(SENTENCES_PER_DOC, n_sentences - d)):
            base = s * SENTENCE_CHARS
            if rng.random() >= 0.4:
                continue
            true = [(base + 2, base + 10), (base + 11, base + 16), (base + 18, base + 100)]
            for a in range(3):
                if rng.random() >= 0.85:
                    continue
                for role, (b, e) in zip(ROLES, true, strict=True):
                    jb, je = rng.integers(-2, 3, size=2)
                    units.append((f"ann{a}", int(b + jb), int(max(e + je, b + jb + 1)), role))
        documents.append(units)
    return documents


def laid_end_to_end(documents: list[list[tuple]]) -> tuple[list[tuple], int]:
    length = SENTENCE_CHARS * SENTENCES_PER_DOC
    units = [
        (a, s + i * length, e + i * length, r)
        for i, doc in enumerate(documents)
        for a, s, e, r in doc
    ]
    return units, length * len(documents)


def pygamma_gamma(units: list[tuple], n_samples: int) -> tuple[float, float]:
    import logging

    from pyannote.core import Segment
    from pygamma_agreement import CombinedCategoricalDissimilarity, Continuum

    logging.getLogger().setLevel(logging.ERROR)
    continuum = Continuum()
    for a in ("ann0", "ann1", "ann2"):
        continuum.add_annotator(a)
    for a, s, e, r in units:
        continuum.add(a, Segment(s, e), r)
    result = continuum.compute_gamma(
        CombinedCategoricalDissimilarity(alpha=1, beta=1), n_samples=n_samples
    )
    return float(result.gamma), float(result.expected_disorder)


def bench_spans(sizes: list[int], n_reference_docs: int, n_samples: int = 30) -> None:
    print(f"== span agreement, 3 annotators, gamma with {n_samples} sampled continua ==")
    annotators = ["ann0", "ann1", "ann2"]
    for n_sentences in sizes:
        documents = synthetic_attribution(n_sentences)
        units, length = laid_end_to_end(documents)
        t0 = time.perf_counter()
        ua = unitizing_alpha(units, begin=0, length=length, annotators=annotators)
        t1 = time.perf_counter()
        g = gamma_agreement(units, n_samples=n_samples, annotators=annotators)
        t2 = time.perf_counter()
        print(
            f"{n_sentences:>7,} sentences, {len(units):>7,} units: alpha_U {ua['alpha']:.4f} "
            f"in {t1 - t0:6.2f} s; gamma {g['gamma']:.4f} (expected disorder "
            f"{g['expected_disorder']:.4f}) in {t2 - t1:6.2f} s"
        )
    try:
        import pygamma_agreement  # noqa: F401
    except ImportError:
        print("pygamma-agreement is not installed: no reference timing")
        return
    documents = [d for d in synthetic_attribution(20 * n_reference_docs, seed=1) if d]
    ours_t, ref_t, ours_e, ref_e = [], [], [], []
    np.random.seed(0)
    pygamma_gamma(documents[0], 1)  # numba compiles on first use: not timed
    for doc in documents:
        t0 = time.perf_counter()
        g = gamma_agreement(doc, n_samples=n_samples, annotators=annotators)
        t1 = time.perf_counter()
        _, expected = pygamma_gamma(doc, n_samples)
        t2 = time.perf_counter()
        ours_t.append(t1 - t0)
        ref_t.append(t2 - t1)
        ours_e.append(g["expected_disorder"])
        ref_e.append(expected)
    ours_m, ref_m = statistics.median(ours_t), statistics.median(ref_t)
    print(
        f"per document (20 sentences, {len(documents)} documents): ours {ours_m * 1e3:.1f} ms, "
        f"pygamma-agreement {ref_m * 1e3:.1f} ms, speedup {ref_m / ours_m:.1f}x"
    )
    print(
        f"  mean expected disorder: ours {np.mean(ours_e):.4f}, pygamma-agreement "
        f"{np.mean(ref_e):.4f} (sd of the per-document estimates {np.std(ours_e):.4f} vs "
        f"{np.std(ref_e):.4f}, both {n_samples} samples)"
    )
    for n_sentences in sizes:
        n_docs = n_sentences // SENTENCES_PER_DOC
        print(
            f"  {n_sentences:,} sentences as {n_docs} documents: pygamma-agreement "
            f"~{ref_m * n_docs:.0f} s (extrapolated from the median), ours per document "
            f"~{ours_m * n_docs:.1f} s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer repeats")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--spans-only", action="store_true", help="only alpha_U and gamma")
    args = parser.parse_args()
    if args.spans_only:
        bench_spans([2_000, 20_000], n_reference_docs=3 if args.quick else 8)
        return
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
    bench_spans([2_000, 20_000], n_reference_docs=3 if args.quick else 8)


if __name__ == "__main__":
    main()
