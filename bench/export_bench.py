"""Export benchmark: stream 100,000 and 1,000,000 annotations in every format.

PostgreSQL, throw-away database ``--db`` (default ``labeling_bench_exp``). Each size is its own project:
sentences x 3 task kinds (verifiability, stance with one target, attribution) x 5
annotators, gold labels aggregated by ``labeling.review.gold.aggregate_gold``. Rows are
inserted with ``COPY``. Every measurement consumes the bytes of
``labeling.exporting.records.stream_export``, the generator behind ``GET /export/``:

* records/s and annotations/s: the median of ``--repeat`` plain runs (no tracing), after
  one untimed warm-up export;
* peak memory from a second run under ``tracemalloc`` (peak of traced Python + numpy +
  pyarrow allocations during the export), and the ratio between the two sizes.

* the SHA-256 of the bytes before the completeness trailer (JSONL, CSV), to compare
  with another tree's output on the same database (``--reuse``).

Goals (issue 9): JSONL and CSV >= 250,000 annotations/s at 1M annotations, Parquet
>= 100,000/s; peak memory flat, 1M / 100k <= 1.1.

    .venv/bin/python bench/export_bench.py [--sizes 100000,1000000] [--formats jsonl,csv,parquet]
        [--db NAME] [--reuse]
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DB_NAME = "labeling_bench_exp"
ANNOTATORS = 5
KINDS = 3  # tasks per sentence: verifiability, stance (one target), attribution
SENTENCES_PER_DOC = 100
LABELS = ["verifiable", "unverifiable", "not_a_claim"]
STANCES = ["against", "neutral", "favor"]
WORDS = (  # noqa: SIM905 - reads as the sentence it is
    "officials said the ministry would review grain exports after talks in Geneva on Monday "
    "according to Reuters while critics argued that 1,844 tonnes were not enough"
).split()


def _document(d: int) -> tuple[str, list[tuple[int, int, str]]]:
    """A document of SENTENCES_PER_DOC sentences (~110 characters each) and their spans."""
    lines = []
    for i in range(SENTENCES_PER_DOC):
        words = [WORDS[(d * 7 + i * 3 + k) % len(WORDS)] for k in range(16)]
        lines.append(f"“{' '.join(words[:8])},” the minister said, {' '.join(words[8:])} {i}.")
    spans, pos = [], 0
    for line in lines:
        spans.append((pos, pos + len(line), line))
        pos += len(line) + 1
    return "\n".join(lines), spans


def populate(n_annotations: int) -> int:
    """Create the project of ``n_annotations`` annotations; returns its id."""
    import numpy as np
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from labeling.models import Annotation, Document, Project, Sentence, Task
    from labeling.review.gold import aggregate_gold
    from tests.factories import make_project

    name = f"bench-{n_annotations}"
    existing = Project.objects.filter(name=name).first()
    if existing is not None:
        return existing.pk
    t0 = time.perf_counter()
    project = make_project(
        schemas=[
            {"kind": "verifiability", "labels": LABELS},
            {"kind": "stance", "labels": STANCES, "level": "ordinal", "targets": ["government"]},
            {"kind": "attribution"},
        ],
        overlap=ANNOTATORS,
        name=name,
    )
    User = get_user_model()
    users = [
        User.objects.get_or_create(username=f"{name}-annotator{i}")[0] for i in range(ANNOTATORS)
    ]
    n_tasks = n_annotations // ANNOTATORS
    n_sentences = n_tasks // KINDS
    n_docs = -(-n_sentences // SENTENCES_PER_DOC)
    rng = np.random.default_rng(n_annotations)
    now = timezone.now()
    with transaction.atomic():
        docs = []
        spans_of = {}
        for d in range(n_docs):
            text, spans = _document(d)
            docs.append(
                Document(
                    project=project,
                    title=f"Story {d}, “quoted”",
                    text=text,
                    external_id=f"{name}-{d}",
                    content_hash=f"{d:064x}",
                )
            )
            spans_of[d] = spans
        docs = Document.objects.bulk_create(docs, batch_size=1000)
        sentences = Sentence.objects.bulk_create(
            (
                Sentence(document=doc, position=p, start=s, end=e, text=t)
                for d, doc in enumerate(docs)
                for p, (s, e, t) in enumerate(spans_of[d])
            ),
            batch_size=5000,
        )[:n_sentences]
        tasks = Task.objects.bulk_create(
            (
                Task(
                    project=project,
                    sentence_id=s.pk,
                    document_id=s.document_id,
                    position=s.position,
                    kind=kind,
                    target=target,
                    overlap=ANNOTATORS,
                    n_assigned=ANNOTATORS,
                    n_submitted=ANNOTATORS,
                    is_open=False,
                )
                for s in sentences
                for kind, target in (
                    ("verifiability", ""),
                    ("stance", "government"),
                    ("attribution", ""),
                )
            ),
            batch_size=5000,
        )
        sentence_of = {s.pk: s for s in sentences}
        table = Annotation._meta.db_table
        cols = "task_id, annotator_id, value, lead_time_ms, revision, created_at, updated_at"
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy,
        ):
            for task in tasks:
                if task.kind == "attribution":
                    s = sentence_of[task.sentence_id]
                    quoted = rng.random() < 0.8
                    triple = {
                        "source": {
                            "start": s.start + s.text.index("the minister"),
                            "end": s.start + s.text.index("the minister") + 12,
                        },
                        "cue": {
                            "start": s.start + s.text.index("said"),
                            "end": s.start + s.text.index("said") + 4,
                        },
                        "content": {"start": s.start + 1, "end": s.start + s.text.index(",”")},
                    }
                    values = [
                        json.dumps(
                            {"attributions": [triple] if (quoted ^ (rng.random() < 0.1)) else []}
                        )
                        for _ in users
                    ]
                else:
                    labels = LABELS if task.kind == "verifiability" else STANCES
                    truth = int(rng.integers(0, 3))
                    values = [
                        json.dumps(
                            {
                                "label": labels[
                                    truth if rng.random() < 0.8 else int(rng.integers(0, 3))
                                ]
                            }
                        )
                        for _ in users
                    ]
                for user, value in zip(users, values, strict=True):
                    copy.write_row(
                        (task.pk, user.pk, value, int(rng.integers(500, 20000)), 1, now, now)
                    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    t1 = time.perf_counter()
    for kind in ("verifiability", "stance", "attribution"):
        aggregate_gold(project=project, kind=kind, method="majority")
    t2 = time.perf_counter()
    n = Annotation.objects.filter(task__project=project).count()
    print(
        f"populated {name}: {n:,} annotations, {len(tasks):,} tasks, {len(docs):,} documents "
        f"in {t1 - t0:.1f} s; gold by majority for 3 kinds in {t2 - t1:.1f} s",
        flush=True,
    )
    return project.pk


def _export_api() -> tuple:
    """``(ExportOptions, stream_export)``; also of the baseline tree (dc6ebbb) for --reuse."""
    try:
        from labeling.exporting.params import ExportOptions
        from labeling.exporting.records import stream_export
    except ImportError:  # the layout before labeling/exporting/
        from labeling.exporting import ExportOptions, stream_export  # type: ignore[no-redef]
    return ExportOptions, stream_export


def warm_up(project_id: int) -> None:
    """One untimed export: imports, the connection and PostgreSQL's caches warm up."""
    from labeling.models import Project

    ExportOptions, stream_export = _export_api()
    for _ in stream_export(Project.objects.get(pk=project_id), "jsonl", ExportOptions()):
        pass


def _is_trailer(line: bytes) -> bool:
    return line.startswith((b'{"export_trailer":', b"#export_trailer,"))


def measure(project_id: int, fmt: str, repeat: int) -> dict:
    """``repeat`` plain passes (the median is reported) and one traced pass."""
    from labeling.models import Annotation, Project

    ExportOptions, stream_export = _export_api()

    project = Project.objects.get(pk=project_id)
    n_annotations = Annotation.objects.filter(task__project=project).count()
    n_records = n_annotations // ANNOTATORS
    runs = []
    digest = hashlib.sha256()
    for i in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        first_byte = None
        size = 0
        last = b""
        for chunk in stream_export(project, fmt, ExportOptions()):
            if first_byte is None:
                first_byte = time.perf_counter() - t0
            size += len(chunk)
            if i == 0:
                digest.update(last)
                last = chunk
        runs.append((time.perf_counter() - t0, first_byte or 0.0))
        if i == 0 and fmt != "parquet" and last.endswith(b"\n"):
            # The last chunk may be the trailer line alone: hash the records only.
            body = last[: last.rindex(b"\n", 0, len(last) - 1) + 1] if b"\n" in last[:-1] else b""
            trailer = last[len(body) :]
            digest.update(body if _is_trailer(trailer) else last)
    seconds, first_byte = sorted(runs)[len(runs) // 2]
    gc.collect()
    tracemalloc.start()
    traced_size = 0
    for chunk in stream_export(project, fmt, ExportOptions()):
        traced_size += len(chunk)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert traced_size > 0
    return {
        "format": fmt,
        "n_records": n_records,
        "n_annotations": n_annotations,
        "seconds": seconds,
        "first_byte_s": first_byte,
        "records_per_s": n_records / seconds,
        "annotations_per_s": n_annotations / seconds,
        "bytes": size,
        "peak_mb": peak / 2**20,
        "sha256": digest.hexdigest()[:16] if fmt != "parquet" else "-",
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--formats", default="jsonl,csv,parquet")
    parser.add_argument("--reuse", action="store_true", help="keep the database of a prior run")
    parser.add_argument("--db", default=DB_NAME, help="the PostgreSQL database to use")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes per case (median)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    formats = args.formats.split(",")

    from bench import _django

    url = (
        f"postgres://postgres@127.0.0.1:5432/{args.db}"
        if args.reuse
        else _django.database_url("postgres", args.db)
    )
    _django.setup(url)
    projects = {size: populate(size) for size in sizes}
    warm_up(projects[sizes[0]])

    results: dict[tuple[int, str], dict] = {}
    print(f"median of {args.repeat} timed runs; peak = tracemalloc peak of one more run")
    print(
        f"{'format':8} {'annotations':>11} {'records':>9} {'seconds':>8} {'first byte':>10} "
        f"{'records/s':>10} {'annot./s':>10} {'MB out':>7} {'peak MB':>8} {'sha256 (records)':>16}"
    )
    for size in sizes:
        for fmt in formats:
            r = measure(projects[size], fmt, args.repeat)
            results[(size, fmt)] = r
            print(
                f"{fmt:8} {r['n_annotations']:>11,} {r['n_records']:>9,} {r['seconds']:>8.2f} "
                f"{r['first_byte_s']:>9.3f}s {r['records_per_s']:>10,.0f} "
                f"{r['annotations_per_s']:>10,.0f} {r['bytes'] / 2**20:>7.1f} "
                f"{r['peak_mb']:>8.2f} {r['sha256']:>16}",
                flush=True,
            )
    if len(sizes) >= 2:
        small, large = sizes[0], sizes[-1]
        print()
        print(f"peak memory ratio {large:,} / {small:,} annotations (goal <= 1.10):")
        for fmt in formats:
            ratio = results[(large, fmt)]["peak_mb"] / results[(small, fmt)]["peak_mb"]
            print(f"  {fmt:8} {ratio:.3f}")
    large = sizes[-1]
    for fmt, goal in (("jsonl", 250_000), ("csv", 250_000), ("parquet", 100_000)):
        if (large, fmt) in results:
            rate = results[(large, fmt)]["annotations_per_s"]
            verdict = "ok" if rate >= goal else "BELOW"
            print(f"{fmt} annotations/s at {large:,} (goal >= {goal:,}): {rate:,.0f} {verdict}")


if __name__ == "__main__":
    main()
