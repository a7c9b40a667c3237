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


# --- quality control under concurrency ------------------------------------------------


def run_quality_workers(project, users, calls: int) -> dict[str, Counter]:
    """Like ``run_workers``, with varied labels: the ``task_completed`` event routes the
    disagreeing tasks (escalation) while the other threads lease and submit."""
    results: dict[str, Counter] = {}
    errors: list[str] = []
    clients = {u.username: client_for(u) for u in users}
    url = f"/api/projects/{project.pk}/next-task/?kind=verifiability"
    start = threading.Barrier(len(users))
    labels = ["verifiable", "unverifiable", "not_a_claim"]

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
                done = client.put(
                    f"/api/tasks/{task_id}/annotation/",
                    {"value": {"label": labels[(i + len(name)) % 3]}},
                    format="json",
                )
                seen[f"put:{done.status_code}"] += 1
                if done.status_code == 200:
                    seen["task:" + str(task_id)] += 1
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


def quality_world(make_user, *, n_users: int, n_docs: int, n_sentences: int):
    """Controls at 10%, escalation on, half the annotators with reserved documents, quotas
    for two, one annotator paused."""
    from labeling.quality.controls import ControlSpec, set_controls
    from labeling.quality.models import AnnotatorState, QualitySettings
    from labeling.quality.reservations import reserve
    from labeling.quality.status import pause_annotator

    users = [make_user(f"q{i}") for i in range(n_users)]
    project = make_project(annotators=users, overlap=2, schemas=[{"kind": "verifiability"}])
    texts = [" ".join(f"Sentence {j} in {i}." for j in range(n_sentences)) for i in range(n_docs)]
    docs = add_documents(project, texts)
    QualitySettings.objects.create(
        project=project,
        control_rate=0.1,
        escalation_enabled=True,
        escalation_threshold=0.5,
        escalation_max_extra=2,
    )
    tasks = list(Task.objects.filter(project=project).order_by("id").values_list("pk", flat=True))
    controls = tasks[:: max(len(tasks) // 5, 1)][:5]
    set_controls(
        project=project,
        specs=[ControlSpec(t, {"label": "verifiable"}) for t in controls],
        user=None,
    )
    reserved = {}
    for i, user in enumerate(users[: n_users // 2]):
        result = reserve(project=project, user=user, by=None, documents=[docs[i % len(docs)]])
        reserved[user.pk] = set(result.reserved)
    quotas = {users[-2].pk: 3, users[-3].pk: 5}
    for user_id, quota in quotas.items():
        AnnotatorState.objects.create(project=project, user_id=user_id, quota_total=quota)
    paused = users[-1]
    pause_annotator(project_id=project.pk, user_id=paused.pk, reason="test")
    return project, users, set(controls), reserved, quotas, paused


def check_quality_invariants(project, results, controls, reserved, quotas, paused) -> None:
    """Overlap (with escalation) never exceeded, controls never dataset annotations,
    reservations never lost to others, quotas kept, the paused annotator idle."""
    from labeling.quality.dataset import real_annotations
    from labeling.quality.models import ControlAnswer, Escalation, Reservation

    for name, seen in results.items():
        statuses = {k for k in seen if not k.startswith("task:")}
        assert statuses <= {"next:200", "next:204", "next:403", "put:200"}, (name, seen)
    active_or_done = [AssignmentStatus.ACTIVE, AssignmentStatus.SUBMITTED]
    tasks = Task.objects.filter(project=project).annotate(
        held=Count("assignments", filter=Q(assignments__status__in=active_or_done), distinct=True),
        kept=Count("reservations", distinct=True),
        annotated=Count("annotations", distinct=True),
    )
    escalations = {e.task_id: e for e in Escalation.objects.filter(project=project)}
    for task in tasks:
        assert task.n_assigned <= task.overlap
        assert task.n_assigned == task.held + task.kept, task.pk
        assert task.n_submitted == task.annotated
        if task.pk not in controls:
            e = escalations.get(task.pk)
            assert task.overlap == 2 + (e.extra if e else 0)
            assert e is None or e.extra <= 2
    # Control answers are never annotations of the real dataset.
    stored = real_annotations(Annotation.objects.filter(task__project=project)).count()
    real_puts = sum(
        n
        for seen in results.values()
        for key, n in seen.items()
        if key.startswith("task:") and int(key[5:]) not in controls
    )
    assert stored == real_puts
    control_puts = sum(
        n
        for seen in results.values()
        for key, n in seen.items()
        if key.startswith("task:") and int(key[5:]) in controls
    )
    assert ControlAnswer.objects.filter(project=project).count() == control_puts
    # Never shown twice: one assignment per (task, annotator).
    pairs = Assignment.objects.values("task_id", "annotator_id").annotate(n=Count("id"))
    assert all(p["n"] == 1 for p in pairs)
    # A reserved slot went to its annotator or still stands.
    for user_id, task_ids in reserved.items():
        for task_id in task_ids:
            kept = Reservation.objects.filter(task_id=task_id, annotator_id=user_id).exists()
            mine = Assignment.objects.filter(task_id=task_id, annotator_id=user_id).exists()
            assert kept or mine, (user_id, task_id)
    # Quotas: real tasks taken (active or submitted) within the quota.
    for user_id, quota in quotas.items():
        taken = (
            Assignment.objects.filter(annotator_id=user_id, status__in=active_or_done)
            .exclude(task_id__in=controls)
            .count()
        )
        assert taken <= quota
    assert not Assignment.objects.filter(annotator=paused).exists()
    assert results[paused.username]["next:403"] == sum(
        v for k, v in results[paused.username].items() if k.startswith("next:")
    )


@pytest.mark.django_db(transaction=True)
def test_quality_policies_under_concurrency_on_sqlite_or_postgres(make_user) -> None:
    world = quality_world(make_user, n_users=6, n_docs=3, n_sentences=6)
    project, users, controls, reserved, quotas, paused = world
    results = run_quality_workers(project, users, calls=12)
    check_quality_invariants(project, results, controls, reserved, quotas, paused)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_quality_policies_sixteen_threads_on_postgres(make_user) -> None:
    world = quality_world(make_user, n_users=16, n_docs=20, n_sentences=15)
    project, users, controls, reserved, quotas, paused = world
    results = run_quality_workers(project, users, calls=60)
    check_quality_invariants(project, results, controls, reserved, quotas, paused)
    from labeling.quality.models import Escalation

    assert Escalation.objects.filter(project=project).exists()  # disagreement was routed
