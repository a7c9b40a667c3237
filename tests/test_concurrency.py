"""Concurrent next-task + submit: no over-assignment, no double assignment, no lost annotation."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection
from django.db.models import Count, Q

from labeling.models import Annotation, Assignment, AssignmentStatus, Task
from tests.api_helpers import client_for
from tests.factories import add_documents, make_project


def run_workers(project, users, calls: int, *, skip_every: int = 0) -> dict[str, Counter]:
    """Each user in its own thread: ``calls`` rounds of next-task then submit (or skip)."""
    results: dict[str, Counter] = {}
    errors: list[str] = []
    clients = {u.username: client_for(u) for u in users}
    url = f"/api/projects/{project.pk}/next-task/?kind=verifiability"
    start = threading.Barrier(len(users))

    def work(name: str) -> None:
        client, seen = clients[name], Counter()
        try:
            start.wait()
            for i in range(calls):
                got = client.get(url)
                seen[f"next:{got.status_code}"] += 1
                if got.status_code != 200:
                    continue
                task_id = got.json()["id"]
                if skip_every and i % skip_every == skip_every - 1:
                    done = client.post(f"/api/tasks/{task_id}/skip/")
                    seen[f"skip:{done.status_code}"] += 1
                else:
                    done = client.put(
                        f"/api/tasks/{task_id}/annotation/",
                        {"value": {"label": "verifiable"}},
                        format="json",
                    )
                    seen[f"put:{done.status_code}"] += 1
        except Exception as exc:  # reported below; a thread must not die silently
            errors.append(f"{name}: {exc!r}")
        finally:
            results[name] = seen
            connection.close()

    threads = [threading.Thread(target=work, args=(u.username,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    return results


def check_invariants(project, results: dict[str, Counter]) -> int:
    """The counters agree with the rows, nothing over-assigned, every 200 PUT stored."""
    for name, seen in results.items():
        assert set(seen) <= {"next:200", "next:204", "put:200", "skip:200"}, (name, seen)
    tasks = Task.objects.filter(project=project).annotate(
        held=Count(
            "assignments",
            filter=Q(assignments__status__in=[AssignmentStatus.ACTIVE, AssignmentStatus.SUBMITTED]),
            distinct=True,
        ),
        annotated=Count("annotations", distinct=True),
    )
    for task in tasks:
        assert task.n_assigned <= task.overlap
        assert task.n_assigned == task.held
        assert task.n_submitted == task.annotated
        assert task.is_open == (task.n_assigned < task.overlap)
    pairs = Assignment.objects.values("task_id", "annotator_id").annotate(n=Count("id"))
    assert all(p["n"] == 1 for p in pairs)
    stored = Annotation.objects.filter(task__project=project).count()
    assert stored == sum(seen["put:200"] for seen in results.values())
    return stored


@pytest.mark.django_db(transaction=True)
def test_concurrent_annotators_on_sqlite_or_postgres(make_user) -> None:
    users = [make_user(f"c{i}") for i in range(6)]
    project = make_project(annotators=users, overlap=3, schemas=[{"kind": "verifiability"}])
    add_documents(project, [" ".join(f"Sentence {j} in {i}." for j in range(6)) for i in range(3)])
    results = run_workers(project, users, calls=12)
    stored = check_invariants(project, results)
    assert stored == 18 * 3  # demand (72) exceeds supply (54): every slot filled exactly


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_sixteen_threads_two_hundred_calls_on_postgres(make_user) -> None:
    users = [make_user(f"p{i}") for i in range(16)]
    project = make_project(annotators=users, overlap=3, schemas=[{"kind": "verifiability"}])
    texts = [" ".join(f"Sentence {j} in {i}." for j in range(20)) for i in range(30)]
    add_documents(project, texts)
    results = run_workers(project, users, calls=200, skip_every=10)
    stored = check_invariants(project, results)
    assert stored == 600 * 3
    assert not Task.objects.filter(project=project, is_open=True).exists()
