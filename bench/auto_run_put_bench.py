"""Benchmark: a PUT that triggers an automatic agreement run vs any other PUT.

Builds a project of ``--tasks`` verifiability tasks already annotated by three
annotators (3 x tasks annotations), then a fourth annotator takes tasks (``next-task``,
untimed) and submits them (``PUT .../annotation/``, timed) through the API in process.
PUTs alternate between *ordinary* (the debounce key is set: no automatic run is due)
and *trigger* (no pending automatic run and no debounce key: this PUT is the one that
starts the automatic run). Prints the median of each, their ratio and the load average.

    .venv/bin/python bench/auto_run_put_bench.py --mode embedded|services [--tasks 2000] [--n 41]

``embedded``: SQLite file, Celery eager. ``services``: PostgreSQL and Redis
(``redis://127.0.0.1:6379/3`` unless ``--broker``); no worker is needed. The script
uses only the API and models, so the same file measures an older checkout (copy it
there) in the same time window. Goal (issue 9): trigger median within 20% of ordinary.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _fresh_database(mode: str, name: str) -> str:
    if mode == "embedded":
        path = Path("/tmp") / f"{name}.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    for sql in (f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'):
        subprocess.run(
            ["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-c", sql],
            check=True,
        )
    return f"postgres://postgres@127.0.0.1:5432/{name}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["embedded", "services"], default="embedded")
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--n", type=int, default=41, help="PUTs of each kind")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/3")
    parser.add_argument("--tag", default="jobs", help="suffix of the throw-away database")
    args = parser.parse_args()

    os.environ["DATABASE_URL"] = _fresh_database(args.mode, f"put_bench_{args.mode}_{args.tag}")
    if args.mode == "services":
        os.environ["CELERY_BROKER_URL"] = args.broker
    else:
        os.environ.pop("CELERY_BROKER_URL", None)
    # 0: the debounce window never blocks a trigger (older checkouts also refuse a new
    # automatic run while one created within the window exists).
    os.environ["LABELING_AGREEMENT_DEBOUNCE_SECONDS"] = "0"
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import django

    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    from config.celery import app
    from labeling.models import AgreementRun, Annotation, Task
    from tests.factories import add_documents, make_project

    call_command("migrate", verbosity=0)
    from django.contrib.auth import get_user_model

    users = get_user_model().objects
    raters = [users.create_user(f"rater{i}") for i in range(3)]
    bench_user = users.create_user("bench")
    project = make_project(annotators=[*raters, bench_user], overlap=4)
    text = "\n".join(f"Sentence number {i} says something." for i in range(args.tasks))
    add_documents(project, [text])
    tasks = list(Task.objects.filter(project=project, kind="verifiability").order_by("position"))
    labels = ["verifiable", "unverifiable", "not_a_claim"]
    Annotation.objects.bulk_create(
        Annotation(task=t, annotator=u, value={"label": labels[(t.position * (j + 1)) % 3]})
        for t in tasks
        for j, u in enumerate(raters)
    )
    client = APIClient()
    client.force_authenticate(bench_user)
    key = f"labeling:agreement-auto:{project.pk}:verifiability"
    times: dict[str, list[float]] = {"ordinary": [], "trigger": []}
    queries: dict[str, list[int]] = {"ordinary": [], "trigger": []}

    def one_put(kind: str, index: int) -> None:
        task = client.get(f"/api/projects/{project.pk}/next-task/?kind=verifiability").json()
        AgreementRun.objects.filter(trigger="auto", status="queued").update(status="failed")
        if kind == "trigger":
            cache.delete(key)
        else:
            cache.set(key, 1, 3600)
        body = {"value": {"label": labels[index % 3]}}
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            response = client.put(f"/api/tasks/{task['id']}/annotation/", body, format="json")
            elapsed = time.perf_counter() - started
        assert response.status_code in (200, 201), response.content
        times[kind].append(elapsed)
        queries[kind].append(len(ctx.captured_queries))

    for i in range(3):  # warm-up, not counted
        one_put("ordinary" if i % 2 else "trigger", i)
    times = {"ordinary": [], "trigger": []}
    queries = {"ordinary": [], "trigger": []}
    for i in range(args.n):
        order = ("ordinary", "trigger") if i % 2 else ("trigger", "ordinary")
        for kind in order:
            one_put(kind, i)
    n_auto = AgreementRun.objects.filter(trigger="auto").count()
    if args.mode == "services":
        app.control.purge()  # messages an older checkout may have published
    med = {k: statistics.median(v) * 1000 for k, v in times.items()}
    load = os.getloadavg()
    print(f"mode={args.mode} tasks={args.tasks} annotations={3 * args.tasks} n={args.n} each")
    for kind in ("ordinary", "trigger"):
        print(
            f"  {kind:8s} PUT median {med[kind]:8.2f} ms  p90 "
            f"{statistics.quantiles(times[kind], n=10)[-1] * 1000:8.2f} ms  "
            f"queries median {statistics.median(queries[kind]):.0f}"
        )
    print(f"  ratio trigger/ordinary (medians): {med['trigger'] / med['ordinary']:.2f}")
    print(f"  automatic runs created: {n_auto}; load average {load[0]:.2f} {load[1]:.2f}")


if __name__ == "__main__":
    main()
