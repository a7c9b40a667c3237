"""Benchmark: does a "missing" object answer as fast as one that is "not yours"?

``labeling.access`` answers the same 404 for an object that does not exist and for one
in a project the viewer is not a member of, in one query of one shape, so that nobody
learns what exists elsewhere, neither from the body nor from the time. The tests
compare the body and the SQL; this script times it. It builds two projects with
documents, tasks, annotations, an agreement run and an export, makes the viewer a lead
of the first only, then requests objects of the second project ("not yours") and ids
that do not exist ("missing") through the API in process (DRF's ``APIClient`` with a
token, so authentication is timed too). The two cases alternate, in a random order per
round, endpoint by endpoint. Prints each endpoint's medians, their ratio, and whether
the two bodies are identical.

    .venv/bin/python bench/access_timing_bench.py [--engine sqlite|postgres] [--rounds 400]

``sqlite``: a throw-away file in /tmp. ``postgres``: a throw-away database on
127.0.0.1 (as the other benches). Read the ratios, not the absolute times: a ratio
near 1.00 on every endpoint (within the spread the rounds show) is what the design
promises; the absolute figures depend on the load.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._django import database_url, setup  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--rounds", type=int, default=400, help="requests of each case")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    setup(database_url(args.engine, f"access_timing_{args.engine}"))
    logging.getLogger("django.request").setLevel(logging.ERROR)  # one line per 404 otherwise

    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    from labeling.models import AgreementRun, Annotation, Document, Export, Task
    from tests.factories import add_documents, make_project

    users = get_user_model().objects
    viewer = users.create_user("viewer")
    other_lead = users.create_user("other_lead")
    raters = [users.create_user(f"rater{i}") for i in range(2)]
    text = "\n".join(f"Sentence number {i} says something." for i in range(200))
    mine = make_project(lead=viewer, annotators=raters, name="Mine")
    theirs = make_project(lead=other_lead, annotators=raters, name="Theirs")
    for project in (mine, theirs):
        add_documents(project, [text, text + " Again."])
        tasks = Task.objects.filter(project=project, kind="verifiability")[:50]
        Annotation.objects.bulk_create(
            Annotation(task=t, annotator=u, value={"label": "verifiable"})
            for t in tasks
            for u in raters
        )
        AgreementRun.objects.create(project=project, kind="verifiability", status="done")
        Export.objects.create(project=project, format="jsonl", status="done")

    def newest(model: Any) -> Any:
        return model.objects.filter(project=theirs).order_by("-id").first()

    not_yours = {
        "project": theirs.pk,
        "document": newest(Document).pk,
        "task": newest(Task).pk,
        "annotation": Annotation.objects.filter(task__project=theirs).order_by("-id")[0].pk,
        "agreement-run": newest(AgreementRun).pk,
        "export": newest(Export).pk,
    }
    # Missing ids of the same magnitude (the same number of digits in the URL).
    missing = {name: pk + 1_000_000 for name, pk in not_yours.items()}
    urls = {
        "project": "/api/projects/{}/",
        "document": "/api/documents/{}/",
        "task": "/api/tasks/{}/",
        "annotation": "/api/annotations/{}/",
        "agreement-run": "/api/agreement-runs/{}/",
        "export": "/api/exports/{}/",
    }
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=viewer).key}")
    rng = random.Random(args.seed)
    bodies: dict[tuple[str, str], set[bytes]] = {}
    times: dict[tuple[str, str], list[float]] = {}

    def one(name: str, case: str) -> None:
        pk = (not_yours if case == "not yours" else missing)[name]
        started = time.perf_counter()
        response = client.get(urls[name].format(pk))
        elapsed = time.perf_counter() - started
        assert response.status_code == 404, (name, case, response.status_code)
        # The id is the only part allowed to differ (it is the caller's own input).
        bodies.setdefault((name, case), set()).add(response.content.replace(str(pk).encode(), b"#"))
        times.setdefault((name, case), []).append(elapsed)

    for name in urls:  # warm-up, not counted
        for case in ("missing", "not yours"):
            for _ in range(5):
                one(name, case)
    times.clear()
    for _ in range(args.rounds):
        for name in urls:
            cases = ["missing", "not yours"]
            rng.shuffle(cases)
            for case in cases:
                one(name, case)

    load = os.getloadavg()
    print(f"engine={args.engine} rounds={args.rounds} (each case, interleaved), in process")
    print(f"{'endpoint':14s} {'missing':>12s} {'not yours':>12s} {'ratio':>7s}  same body")
    ratios = []
    for name in urls:
        med_missing = statistics.median(times[(name, "missing")]) * 1000
        med_theirs = statistics.median(times[(name, "not yours")]) * 1000
        ratio = med_theirs / med_missing
        ratios.append(ratio)
        same = bodies[(name, "missing")] == bodies[(name, "not yours")]
        print(
            f"{name:14s} {med_missing:9.3f} ms {med_theirs:9.3f} ms {ratio:7.3f}  "
            f"{'yes' if same else 'NO'}"
        )
    print(
        f"ratio not-yours/missing (medians): {min(ratios):.3f} to {max(ratios):.3f}; "
        f"load average {load[0]:.2f} {load[1]:.2f}"
    )


if __name__ == "__main__":
    main()
