"""Throughput and peak memory of the export writers, and Dawid-Skene time at 1M annotations.

Run from the repository root:

    .venv/bin/python bench/writers_bench.py            # 100,000 and 1,000,000 records
    .venv/bin/python bench/writers_bench.py --quick    # 100,000 only

Records cycle through a pool of 1,000 distinct synthetic records (all three kinds,
unicode, quotes, newlines), built before timing, so the numbers are the writer's cost
and not the generator's. Throughput is timed without tracing; the peak memory is the
tracemalloc peak (Python allocations) of a separate run that consumes and drops the
chunks, as a streaming response does. Arrow's own buffers are not Python allocations;
tests/test_writers.py also bounds the process RSS.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import os
import platform
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from labeling.agreement.aggregation import dawid_skene, dawid_skene_triples  # noqa: E402
from labeling.exporting.writers import write_csv, write_jsonl, write_parquet  # noqa: E402

TEXTS = [
    'The ministry said on Tuesday that "no such order" had been given.',
    "Prices rose 3.5%, according to the statistics office, the highest since 2022.",
    "Він сказав, що уряд не буде коментувати.",
    "مرحبا بالعالم — a quoted line\nacross two lines",
    "Emoji in a headline 🎉🇺🇦, and a comma.",
]


SPLITS = ("train",) * 8 + ("dev", "test")


def make_record(i: int) -> dict:
    kind = ("verifiability", "stance", "attribution")[i % 3]
    text = TEXTS[i % len(TEXTS)]
    value = (
        {
            "attributions": [
                {
                    "source": {"start": 0, "end": 12},
                    "cue": {"start": 13, "end": 17},
                    "content": {"start": 18, "end": 60},
                }
            ]
        }
        if kind == "attribution"
        else {"label": ("verifiable", "favor", "not_a_claim")[i % 3]}
    )
    return {
        "task_id": i,
        "document_id": i // 30,
        "document_external_id": f"wire-{i // 30:08d}",
        "document_title": f"Wire story {i // 30}, updated",
        "sentence_id": i,
        "sentence_position": i % 30,
        "sentence_start": 100 * (i % 30),
        "sentence_end": 100 * (i % 30) + len(text),
        "sentence_text": text,
        "kind": kind,
        "target": "Ukrainian government" if kind == "stance" else "",
        "split": SPLITS[i % 10],
        "annotations": [
            {
                "annotator": f"annotator{j}",
                "value": value,
                "lead_time_ms": 1500 + 37 * j,
                "updated_at": "2026-11-24T20:00:00+00:00",
            }
            for j in range(3)
        ],
        "gold": value,
        "gold_method": "dawid_skene",
        "gold_confidence": 0.97,
        "agreement": 1.0,
        "tokens": [[0, 3], [4, 12], [13, 17]] if kind == "attribution" else None,
        "bio": {"source": ["B", "I", "O"], "cue": ["O", "O", "B"], "content": ["O", "O", "O"]}
        if kind == "attribution"
        else None,
    }


POOL = [make_record(i) for i in range(1000)]


def records(n: int):
    return itertools.islice(itertools.cycle(POOL), n)


WRITERS = {"jsonl": write_jsonl, "csv": write_csv, "parquet": write_parquet}


def timed(writer, n: int) -> tuple[float, float, int]:
    gc.collect()
    start, cpu_start = time.perf_counter(), time.process_time()
    total = 0
    for chunk in writer(records(n)):
        total += len(chunk)
    return time.perf_counter() - start, time.process_time() - cpu_start, total


def traced_peak(writer, n: int) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        for _chunk in writer(records(n)):
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def bench_writers(sizes: list[int], runs: int) -> None:
    print(
        f"{'writer':8} {'records':>10} {'records/s':>11} {'rec/CPU-s':>11} {'MB out':>8} "
        f"{'peak MB':>8}  timing"
    )
    for n in sizes:
        for name, writer in WRITERS.items():
            repeats = runs if n <= 100_000 else 1
            results = [timed(writer, n) for _ in range(repeats)]
            seconds = statistics.median(r[0] for r in results)
            cpu_seconds = statistics.median(r[1] for r in results)
            size = results[0][2]
            peak = traced_peak(writer, n)
            how = f"median of {repeats}" if repeats > 1 else "1 run"
            print(
                f"{name:8} {n:>10,} {n / seconds:>11,.0f} {n / cpu_seconds:>11,.0f} "
                f"{size / 1e6:>8.1f} {peak / 2**20:>8.2f}  {how}",
                flush=True,
            )


def bench_dawid_skene(runs: int) -> None:
    rng = np.random.default_rng(0)
    n_items, n_annotators, k = 200_000, 5, 3
    truth = rng.integers(0, k, n_items)
    accuracy = np.array([0.9, 0.8, 0.7, 0.6, 0.3])
    correct = rng.random((n_items, n_annotators)) < accuracy
    codes = np.where(correct, truth[:, None], rng.integers(0, k, (n_items, n_annotators)))
    times, cpu = [], []
    for _ in range(runs):
        start, cpu_start = time.perf_counter(), time.process_time()
        result = dawid_skene(codes, k)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - cpu_start)
    print(
        f"dawid_skene matrix  {n_items:,} items x {n_annotators} annotators = "
        f"{(codes >= 0).sum():,} annotations, {k} classes: median {statistics.median(times):.2f} s "
        f"({statistics.median(cpu):.2f} CPU-s) of {runs} ({result.n_iter} iterations, converged={result.converged}, "
        f"accuracy {np.mean(result.labels == truth):.3f})",
        flush=True,
    )

    # Crowd-style: 1,000 annotators, 4 annotations per item, as (item, annotator, label).
    n_items, n_annotators, per_item = 250_000, 1_000, 4
    truth = rng.integers(0, k, n_items)
    skill = rng.uniform(0.3, 0.95, n_annotators)
    items = np.repeat(np.arange(n_items), per_item)
    annotators = rng.integers(0, n_annotators, n_items * per_item)
    right = rng.random(len(items)) < skill[annotators]
    labels = np.where(right, truth[items], rng.integers(0, k, len(items)))
    times, cpu = [], []
    for _ in range(runs):
        start, cpu_start = time.perf_counter(), time.process_time()
        result = dawid_skene_triples(
            items, annotators, labels, n_items=n_items, n_annotators=n_annotators, n_classes=k
        )
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - cpu_start)
    print(
        f"dawid_skene triples {n_items:,} items, {n_annotators:,} annotators, "
        f"{len(items):,} annotations, {k} classes: median {statistics.median(times):.2f} s "
        f"({statistics.median(cpu):.2f} CPU-s) of {runs} ({result.n_iter} iterations, converged={result.converged}, "
        f"accuracy {np.mean(result.labels == truth):.3f})",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 records only")
    parser.add_argument("--runs", type=int, default=5, help="timed runs at 100,000 records")
    args = parser.parse_args()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"Python {platform.python_version()} on {platform.machine()}, numpy {np.__version__}, "
        f"{os.cpu_count()} CPUs, load average {load} (records/s is wall clock; rec/CPU-s "
        "is this process's CPU time, less sensitive to other load)"
    )
    sizes = [100_000] if args.quick else [100_000, 1_000_000]
    bench_writers(sizes, args.runs)
    bench_dawid_skene(3)


if __name__ == "__main__":
    main()
