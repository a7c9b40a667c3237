"""Agreement job benchmark (issue 4, part b): the whole job from the database.

1,000,000 verifiability annotations (200,000 tasks x 5 annotators, 3 labels, each
annotator right with probability 0.8) on SQLite and on PostgreSQL, in throw-away
databases (``/tmp/labeling_bench_agr.sqlite3``, ``labeling_bench_agr``). The data are
inserted fast (SQLite ``executemany``, PostgreSQL ``COPY``) in one process; the job
(``execute_agreement_run``, bootstrap interval included, ``LABELING_BOOTSTRAP_DRAWS``
draws) runs in a fresh process that prints load / compute / store seconds and its peak
RSS, then once more under ``tracemalloc`` for the peak of traced (Python + numpy)
memory. Goal: under 15 s. Part (a), the kernels alone, is ``agreement_kernels_bench.py``.

    .venv/bin/python bench/agreement_bench.py [--tasks 200000] [--annotators 5]
        [--engines sqlite,postgres] [--draws 1000] [--reuse]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DB_NAME = "labeling_bench_agr"
LABELS = ["verifiable", "unverifiable", "not_a_claim"]
SENTENCES_PER_DOC = 100


def _rows(n_tasks: int, n_annotators: int, seed: int = 0):
    import numpy as np

    rng = np.random.default_rng(seed)
    truth = rng.integers(0, len(LABELS), n_tasks)
    right = rng.random((n_tasks, n_annotators)) < 0.8
    noise = rng.integers(0, len(LABELS), (n_tasks, n_annotators))
    return np.where(right, truth[:, None], noise)


def populate(engine: str, n_tasks: int, n_annotators: int) -> dict:
    """Create the database, migrate, insert the project, tasks and annotations."""
    from bench import _django

    url = _django.database_url(engine, DB_NAME)
    _django.setup(url)
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from labeling.models import Annotation, Document, Sentence, Task
    from tests.factories import make_project

    t0 = time.perf_counter()
    project = make_project(
        schemas=[{"kind": "verifiability", "labels": LABELS}], overlap=n_annotators, name="bench"
    )
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"annotator{i}") for i in range(n_annotators)
    )
    if not users[0].pk:
        users = list(get_user_model().objects.order_by("id"))
    text = "\n".join(f"Sentence {i} of the story." for i in range(SENTENCES_PER_DOC))
    starts, pos = [], 0
    for line in text.split("\n"):
        starts.append((pos, pos + len(line), line))
        pos += len(line) + 1
    n_docs = (n_tasks + SENTENCES_PER_DOC - 1) // SENTENCES_PER_DOC
    codes = _rows(n_tasks, n_annotators)
    now = timezone.now()
    with transaction.atomic():
        docs = Document.objects.bulk_create(
            Document(
                project=project, title=f"Doc {d}", text=text, external_id=f"d{d}", content_hash="x"
            )
            for d in range(n_docs)
        )
        if not docs[0].pk:
            docs = list(Document.objects.filter(project=project).order_by("id"))
        sentences = Sentence.objects.bulk_create(
            (
                Sentence(document=doc, position=p, start=s, end=e, text=t)
                for doc in docs
                for p, (s, e, t) in enumerate(starts)
            ),
            batch_size=5000,
        )
        if not sentences[0].pk:
            sentences = list(Sentence.objects.filter(document__project=project).order_by("id"))
        sentences = sentences[:n_tasks]
        tasks = Task.objects.bulk_create(
            (
                Task(
                    project=project,
                    sentence_id=s.pk,
                    document_id=s.document_id,
                    position=s.position,
                    kind="verifiability",
                    overlap=n_annotators,
                    n_assigned=n_annotators,
                    n_submitted=n_annotators,
                    is_open=False,
                )
                for s in sentences
            ),
            batch_size=5000,
        )
        if not tasks[0].pk:
            tasks = list(Task.objects.filter(project=project).order_by("id"))
        task_ids = [t.pk for t in tasks]
        user_ids = [u.pk for u in users]
        table = Annotation._meta.db_table
        values = [json.dumps({"label": label}) for label in LABELS]
        cols = "task_id, annotator_id, value, revision, created_at, updated_at, from_suggestion"
        t_ann = time.perf_counter()
        with connection.cursor() as cursor:
            if engine == "postgres":
                raw = cursor.cursor  # psycopg 3 cursor under Django's wrapper
                with raw.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                    for i, task_id in enumerate(task_ids):
                        for j, user_id in enumerate(user_ids):
                            copy.write_row(
                                (task_id, user_id, values[codes[i, j]], 1, now, now, False)
                            )
            else:
                stamp = now.isoformat()
                cursor.executemany(
                    f"INSERT INTO {table} ({cols}) VALUES (%s, %s, %s, 1, %s, %s, FALSE)",
                    (
                        (task_id, user_id, values[codes[i, j]], stamp, stamp)
                        for i, task_id in enumerate(task_ids)
                        for j, user_id in enumerate(user_ids)
                    ),
                )
        annotations_s = time.perf_counter() - t_ann
    with connection.cursor() as cursor:
        if engine == "postgres":
            cursor.execute("VACUUM ANALYZE")
        else:  # start the job from the main file, not from a 100 MB write-ahead log
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cursor.execute("ANALYZE")
    return {
        "project_id": project.pk,
        "url": url,
        "n_annotations": Annotation.objects.filter(task__project=project).count(),
        "populate_s": round(time.perf_counter() - t0, 1),
        "insert_annotations_s": round(annotations_s, 1),
    }


def run_job(url: str, project_id: int, trace: bool) -> dict:
    """Run one agreement job on an existing database; timings and memory."""
    os.environ["DATABASE_URL"] = url
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from bench._django import peak_rss_mb
    from labeling.agreement_runs.runs import execute_agreement_run
    from labeling.models import AgreementRun, Project

    project_id = project_id or Project.objects.get(name="bench").pk
    rss_before = peak_rss_mb()
    run = AgreementRun.objects.create(project_id=project_id, kind="verifiability")
    t0 = time.perf_counter()
    execute_agreement_run(run.pk, trace_memory=trace)
    wall = time.perf_counter() - t0
    run.refresh_from_db()
    assert run.status == "done", run.error
    r = run.result
    return {
        "wall_s": wall,
        "timings": run.timings,
        "peak_rss_mb": peak_rss_mb(),
        "rss_before_mb": rss_before,
        "alpha": r["alpha"],
        "alpha_ci95": r["alpha_ci95"],
        "n_items": r["n_items"],
        "n_annotations": r["n_annotations"],
        "bootstrap_draws": r["bootstrap_draws"],
    }


def _child(*args: str, env: dict | None = None) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, *args],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=200_000)
    parser.add_argument("--annotators", type=int, default=5)
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--populate", default="")
    parser.add_argument("--job", default="")
    parser.add_argument("--project", type=int, default=0)
    parser.add_argument("--trace", action="store_true")
    parser.add_argument(
        "--reuse", action="store_true", help="run the job on the databases of an earlier run"
    )
    args = parser.parse_args()
    if args.populate:
        print(json.dumps(populate(args.populate, args.tasks, args.annotators)))
        return
    if args.job:
        print(json.dumps(run_job(args.job, args.project, args.trace)))
        return
    n = args.tasks * args.annotators
    print(
        f"agreement job benchmark: {n:,} annotations ({args.tasks:,} tasks x "
        f"{args.annotators} annotators, verifiability, nominal), bootstrap {args.draws} draws"
    )
    env = {"LABELING_BOOTSTRAP_DRAWS": str(args.draws)}
    for engine in args.engines.split(","):
        if args.reuse:
            url = (
                f"sqlite:////tmp/{DB_NAME}.sqlite3"
                if engine == "sqlite"
                else f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
            )
            data = {"url": url, "project_id": 0, "populate_s": "-", "insert_annotations_s": "-"}
        else:
            data = _child(
                "--populate",
                engine,
                "--tasks",
                str(args.tasks),
                "--annotators",
                str(args.annotators),
            )
        job = _child("--job", data["url"], "--project", str(data["project_id"]), env=env)
        traced = _child(
            "--job", data["url"], "--project", str(data["project_id"]), "--trace", env=env
        )
        t = job["timings"]
        verdict = "OK" if job["wall_s"] < 5 else "OVER the 5 s goal"
        print(
            f"{engine:9s} job {job['wall_s']:6.2f} s ({verdict}): load {t['load']:.2f} s, "
            f"compute {t['compute']:.2f} s, store {t['store']:.2f} s (build {t['build']:.2f} + "
            f"write {t.get('write', 0):.2f}) | peak RSS "
            f"{job['peak_rss_mb']:.0f} MB (Django baseline {job['rss_before_mb']:.0f} MB), "
            f"traced peak {traced['timings']['peak_traced_bytes'] / 2**20:.0f} MB "
            f"(run under tracemalloc: {traced['wall_s']:.2f} s) | n_items {job['n_items']:,}, "
            f"n_annotations {job['n_annotations']:,}, alpha {job['alpha']:.4f} "
            f"CI95 [{job['alpha_ci95'][0]:.4f}, {job['alpha_ci95'][1]:.4f}] | data inserted in "
            f"{data['populate_s']} s (annotations {data['insert_annotations_s']} s)"
        )


if __name__ == "__main__":
    main()
