"""Import benchmark: 1,000 synthetic news documents (~4 KB, ~25 sentences) on SQLite and PostgreSQL.

Prints documents/s, sentences/s, tasks/s and peak RSS for the bulk importer, and for a
reference in the same run: the naive per-row ORM import (one INSERT per document,
sentence and task) on a smaller sample, with the speed ratio.

    .venv/bin/python bench/import_bench.py [--docs 1000] [--engines sqlite,postgres]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

WORDS = [
    "the",
    "government",
    "said",
    "on",
    "Monday",
    "that",
    "officials",
    "would",
    "review",
    "claims",
    "about",
    "grain",
    "exports",
    "and",
    "prices",
    "while",
    "ministers",
    "in",
    "Kyiv",
    "and",
    "Moscow",
    "disputed",
    "figures",
    "reported",
    "by",
    "agencies",
]
NAMES = ["Putin", "Zelenskiy", "Michel", "Peskov", "Kuleba", "Lavrov", "Reuters", "TASS"]


def synthetic_text(rng: random.Random, n_sentences: int = 25) -> str:
    """About 4 KB of news-like text: a headline line, then paragraphs of sentences."""
    lines = [f"{rng.choice(NAMES)} says talks on {rng.choice(WORDS)} {rng.choice(WORDS)} stall"]
    para: list[str] = []
    for i in range(n_sentences - 1):
        words = [rng.choice(WORDS) for _ in range(rng.randint(18, 26))]
        words[0] = words[0].capitalize()
        if i % 3 == 0:
            s = f"“{' '.join(words)},” {rng.choice(NAMES)} told reporters in the U.S. capital."
        elif i % 3 == 1:
            s = f"{' '.join(words)} about {rng.randint(1000, 9999):,} tonnes, No. {i} said."
        else:
            s = f"{' '.join(words)}, Mr. {rng.choice(NAMES)} added."
        para.append(s)
        if len(para) == 4:
            lines.append(" ".join(para))
            para = []
    if para:
        lines.append(" ".join(para))
    return "\n".join(lines)


def run_one(engine: str, n_docs: int, n_naive: int) -> dict:
    from bench import _django

    _django.setup(_django.database_url(engine, f"labeling_bench_import_{engine}"))
    from labeling.importing.documents import _create_sentences_and_tasks, import_documents
    from labeling.importing.readers import DocumentRecord
    from labeling.models import Document, Sentence, Task
    from tests.factories import make_project

    rng = random.Random(7)
    records = [
        DocumentRecord(title=f"Story {i}", text=synthetic_text(rng), external_id=f"s-{i}")
        for i in range(n_docs)
    ]
    kb = sum(len(r.text.encode()) for r in records) / n_docs / 1024
    project = make_project(name="bench")
    t0 = time.perf_counter()
    import_documents(project=project, records=records)
    bulk = time.perf_counter() - t0
    n_sent = Sentence.objects.filter(document__project=project).count()
    n_tasks = Task.objects.filter(project=project).count()

    # Reference: a naive importer with one INSERT per row, on a smaller sample.
    naive_project = make_project(name="naive")
    naive = [
        DocumentRecord(title=r.title, text=r.text, external_id="n" + r.external_id)
        for r in records[:n_naive]
    ]
    from django.db import transaction

    from labeling.importing.documents import content_hash, task_specs
    from labeling.text.segmentation import split_sentences

    specs = task_specs(naive_project.schemas.all())
    t0 = time.perf_counter()
    with transaction.atomic():
        for r in naive:
            doc = Document.objects.create(
                project=naive_project,
                title=r.title,
                text=r.text,
                external_id=r.external_id,
                content_hash=content_hash(r.text),
            )
            for pos, (s, e) in enumerate(split_sentences(r.text)):
                sent = Sentence.objects.create(
                    document=doc, position=pos, start=s, end=e, text=r.text[s:e]
                )
                for kind, target in specs:
                    Task.objects.create(
                        project=naive_project,
                        sentence=sent,
                        document=doc,
                        position=pos,
                        kind=kind,
                        target=target,
                        overlap=naive_project.annotators_per_item,
                    )
    naive_s = time.perf_counter() - t0
    assert _create_sentences_and_tasks  # the bulk path measured above
    from bench._django import peak_rss_mb

    return {
        "engine": engine,
        "docs": n_docs,
        "kb_per_doc": round(kb, 2),
        "sentences_per_doc": round(n_sent / n_docs, 1),
        "tasks": n_tasks,
        "seconds": round(bulk, 3),
        "docs_per_s": round(n_docs / bulk, 1),
        "sentences_per_s": round(n_sent / bulk),
        "tasks_per_s": round(n_tasks / bulk),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "naive_docs": n_naive,
        "naive_docs_per_s": round(n_naive / naive_s, 1),
        "speedup_vs_naive": round((n_docs / bulk) / (n_naive / naive_s), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--naive-docs", type=int, default=50)
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per engine; the median is printed"
    )
    parser.add_argument("--child", default="")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(args.child, args.docs, args.naive_docs)))
        return
    print(f"import benchmark: {args.docs} documents, median of {args.repeat} runs per engine")
    for engine in args.engines.split(","):
        runs = []
        for _ in range(args.repeat):
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    engine,
                    "--docs",
                    str(args.docs),
                    "--naive-docs",
                    str(args.naive_docs),
                ],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            runs.append(json.loads(out.strip().splitlines()[-1]))
        med = sorted(runs, key=lambda r: r["docs_per_s"])[len(runs) // 2]
        spread = [r["docs_per_s"] for r in runs]
        print(
            f"{engine:9s} {med['docs_per_s']:8.1f} docs/s (runs {spread}; median "
            f"{statistics.median(spread):.1f})  {med['sentences_per_s']} sentences/s  "
            f"{med['tasks_per_s']} tasks/s  {med['kb_per_doc']} KB/doc  "
            f"{med['sentences_per_doc']} sentences/doc  peak RSS {med['peak_rss_mb']} MB  | "
            f"naive per-row reference {med['naive_docs_per_s']} docs/s -> "
            f"bulk is {med['speedup_vs_naive']}x faster"
        )


if __name__ == "__main__":
    main()
