"""A next-task racing a pause never leaves the paused annotator holding a task.

The queue reads the annotator's status with the project (``access_queue``), then leases.
A pause that commits in between must still win: the lease passes the pause gate
(``queue.policy.PAUSE_GATE``), which reads the state row's latest version under a lock.
The first tests force that interleaving deterministically (the pause runs, on another
connection, right after the status was read); the last ones race real threads at a
barrier many times, on both the plain queue (one statement on PostgreSQL) and a project
with quality policies (the sequential path).
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from labeling.models import Assignment, AssignmentStatus, Task
from labeling.quality.models import AnnotatorState, QualitySettings
from labeling.quality.status import pause_annotator
from labeling.queue import leasing
from tests.api_helpers import client_for
from tests.factories import add_documents, make_project

pytestmark = pytest.mark.django_db(transaction=True)

TEXTS = [" ".join(f"Sentence {j} of document {i}." for j in range(6)) for i in range(4)]


def _world(make_user, *, quality: bool):
    annotator = make_user("racer")
    project = make_project(annotators=[annotator], overlap=2, schemas=[{"kind": "verifiability"}])
    add_documents(project, TEXTS)
    if quality:  # any policy takes the sequential path (gate, then the policies)
        QualitySettings.objects.create(project=project, quota_total=1000)
    return project, annotator


def _url(project) -> str:
    return f"/api/projects/{project.pk}/next-task/?kind=verifiability"


def _in_thread(fn) -> None:
    """Run ``fn`` on another thread (so another connection) and wait for it."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            fn()
        except BaseException as exc:  # re-raised below
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def _holds_nothing(project, annotator) -> bool:
    return not Assignment.objects.filter(
        annotator=annotator, task__project=project, status=AssignmentStatus.ACTIVE
    ).exists()


def _slots_agree(project) -> None:
    for task in Task.objects.filter(project=project):
        held = task.assignments.filter(
            status__in=[AssignmentStatus.ACTIVE, AssignmentStatus.SUBMITTED]
        ).count()
        assert task.n_assigned == held, task.pk


@pytest.mark.parametrize("quality", [False, True], ids=["plain", "quality"])
def test_a_pause_committed_after_the_status_was_read_still_wins(
    make_user, monkeypatch, quality
) -> None:
    project, annotator = _world(make_user, quality=quality)
    client = client_for(annotator)
    assert client.get(_url(project)).status_code == 200  # a state row exists or not: both
    Assignment.objects.filter(annotator=annotator).update(status=AssignmentStatus.SUBMITTED)
    sweep = leasing.releasing.sweep

    def pause_then_sweep(*args, **kwargs):
        # next_task read the status (active) with the project; the lead pauses now.
        _in_thread(lambda: pause_annotator(project_id=project.pk, user_id=annotator.pk, reason="x"))
        return sweep(*args, **kwargs)

    monkeypatch.setattr(leasing.releasing, "sweep", pause_then_sweep)
    got = client.get(_url(project))
    assert got.status_code == 403, got.content
    assert got.json()["code"] == "annotator_paused"
    assert _holds_nothing(project, annotator)


def test_a_first_lease_racing_the_first_pause_without_a_state_row(make_user, monkeypatch) -> None:
    project, annotator = _world(make_user, quality=False)
    assert not AnnotatorState.objects.filter(project=project, user=annotator).exists()
    sweep = leasing.releasing.sweep

    def pause_then_sweep(*args, **kwargs):
        _in_thread(lambda: pause_annotator(project_id=project.pk, user_id=annotator.pk, reason="x"))
        return sweep(*args, **kwargs)

    monkeypatch.setattr(leasing.releasing, "sweep", pause_then_sweep)
    got = client_for(annotator).get(_url(project))
    assert got.status_code == 403, got.content
    assert _holds_nothing(project, annotator)


@pytest.mark.parametrize("quality", [False, True], ids=["plain", "quality"])
def test_next_task_and_pause_at_a_barrier(make_user, quality) -> None:
    """Threads released together, many rounds: the annotator ends up holding nothing."""
    project, annotator = _world(make_user, quality=quality)
    rounds = 15 if connection.vendor == "postgresql" else 6
    outcomes: list[int] = []
    for _ in range(rounds):
        AnnotatorState.objects.filter(project=project, user=annotator).update(
            status="active", paused_reason="", paused_at=None
        )
        code = _race_once(project, annotator)
        assert code in (200, 403)
        outcomes.append(code)
        assert _holds_nothing(project, annotator)
        # a lease released by the pause gave its slot back
        _slots_agree(project)
    assert set(outcomes) <= {200, 403}


def _race_once(project, annotator) -> int:
    """next-task and a pause released together; next-task's status code."""
    barrier = threading.Barrier(2)
    codes: list[int] = []

    def ask() -> None:
        client = client_for(annotator)
        barrier.wait()
        codes.append(client.get(_url(project)).status_code)

    def pause() -> None:
        barrier.wait()
        pause_annotator(project_id=project.pk, user_id=annotator.pk, reason="race")

    threads = [threading.Thread(target=_closing(f)) for f in (ask, pause)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(codes) == 1
    return codes[0]


def _closing(fn):
    def run() -> None:
        try:
            fn()
        finally:
            connection.close()

    return run
