"""Saving annotations schedules the debounced automatic agreement run (through events)."""

from __future__ import annotations

import pytest

from labeling.agreement_runs.runs import TRIGGER_AUTO
from labeling.models import AgreementRun, JobStatus, Task
from labeling.queue import next_task, submit_annotation
from tests.factories import add_documents, make_project

pytestmark = pytest.mark.django_db(transaction=True)


def _annotate(user, project, label="verifiable"):
    assignment = next_task(user=user, project=project, kind="verifiability")
    task = Task.objects.get(pk=assignment.task_id)
    submit_annotation(user=user, task=task, value={"label": label})


def test_first_annotation_starts_one_automatic_run_and_a_burst_starts_no_more(make_user):
    a, b = make_user("a"), make_user("b")
    project = make_project(annotators=[a, b])
    add_documents(project)
    _annotate(a, project)
    runs = AgreementRun.objects.filter(project=project, trigger=TRIGGER_AUTO)
    assert runs.count() == 1
    assert runs.get().kind == "verifiability"
    assert runs.get().status == JobStatus.QUEUED  # the annotator's request computes nothing
    for _ in range(3):
        _annotate(b, project, "unverifiable")
    assert runs.count() == 1


def test_rejected_annotation_schedules_nothing(make_user):
    a = make_user("a")
    project = make_project(annotators=[a])
    add_documents(project)
    assignment = next_task(user=a, project=project, kind="verifiability")
    task = Task.objects.get(pk=assignment.task_id)
    with pytest.raises(Exception, match="not one of"):
        submit_annotation(user=a, task=task, value={"label": "nope"})
    assert not AgreementRun.objects.exists()


def test_no_annotator_request_computes_or_publishes_agreement_work(make_user, monkeypatch):
    """Submits and edits only write the pending row; neither runs nor publishes a job."""
    from labeling.jobs import lifecycle

    calls: list[str] = []
    monkeypatch.setattr(lifecycle, "publish", lambda *a, **k: calls.append("publish"))
    monkeypatch.setattr(lifecycle, "run_job", lambda *a, **k: calls.append("run"))
    monkeypatch.setattr(
        "labeling.agreement_runs.runs.execute_agreement_run", lambda *a, **k: calls.append("run")
    )
    monkeypatch.setattr("labeling.jobs.sweeps.sweep_jobs", lambda *a, **k: calls.append("sweep"))
    a = make_user("a")
    project = make_project(annotators=[a])
    add_documents(project)
    _annotate(a, project)
    task = Task.objects.get(annotations__annotator=a)
    submit_annotation(user=a, task=task, value={"label": "unverifiable"})  # an edit
    assert calls == []
    assert AgreementRun.objects.get().status == JobStatus.QUEUED


def test_events_reach_subscribers_after_commit_only(make_user):
    from django.db import transaction

    from labeling import events

    seen: list[events.Event] = []
    events.subscribe(events.ANNOTATION_EDITED, seen.append)
    try:
        a = make_user("a")
        project = make_project(annotators=[a])
        add_documents(project)
        _annotate(a, project)
        task = Task.objects.get(annotations__annotator=a)

        def edit_then_roll_back() -> None:
            with transaction.atomic():
                submit_annotation(user=a, task=task, value={"label": "unverifiable"})
                raise RuntimeError("rolled back")

        with pytest.raises(RuntimeError):
            edit_then_roll_back()
        assert seen == []
        submit_annotation(user=a, task=task, value={"label": "unverifiable"})
        assert [(e.name, e.project_id, e.data["task_id"]) for e in seen] == [
            (events.ANNOTATION_EDITED, project.pk, task.pk)
        ]
    finally:
        events.unsubscribe(events.ANNOTATION_EDITED, seen.append)


def test_scheduling_outside_a_transaction_keeps_one_pending_run(make_user):
    """The one-statement INSERT (PostgreSQL) and the ORM path keep the same rule."""
    from labeling.agreement_runs.runs import schedule_agreement_run

    project = make_project(annotators=[make_user("a")])
    first = schedule_agreement_run(project_id=project.pk, kind="verifiability")
    assert first is not None
    assert schedule_agreement_run(project_id=project.pk, kind="verifiability") is None
    stored = AgreementRun.objects.get(pk=first.pk)
    assert (stored.trigger, stored.status, stored.kind) == (TRIGGER_AUTO, "queued", "verifiability")
    assert stored.run_after > stored.created_at
    assert schedule_agreement_run(project_id=project.pk, kind="stance") is not None


def test_the_submission_that_completes_a_task_publishes_task_completed(make_user):
    from labeling import events

    seen: list[events.Event] = []
    events.subscribe(events.TASK_COMPLETED, seen.append)
    try:
        a, b = make_user("a"), make_user("b")
        project = make_project(annotators=[a, b], overlap=2)
        add_documents(project)
        _annotate(a, project)
        assert seen == []  # one of two annotations
        task = Task.objects.get(annotations__annotator=a)
        held = next_task(user=b, project=project, kind="verifiability")
        assert held.task_id == task.pk
        submit_annotation(user=b, task=task, value={"label": "unverifiable"})
        assert [(e.name, e.data["task_id"], e.data["kind"]) for e in seen] == [
            (events.TASK_COMPLETED, task.pk, "verifiability")
        ]
        submit_annotation(user=b, task=task, value={"label": "verifiable"})  # an edit
        assert len(seen) == 1
    finally:
        events.unsubscribe(events.TASK_COMPLETED, seen.append)


def test_events_of_a_request_are_delivered_after_its_response(make_user, rf):
    """Subscribers never add to a request's latency: they run when the response closes."""
    from django.http import HttpResponse

    from labeling import events

    seen: list[str] = []

    def subscriber(event: events.Event) -> None:
        seen.append("event")

    events.subscribe(events.ANNOTATION_SUBMITTED, subscriber)
    events.subscribe(events.ANNOTATION_EDITED, subscriber)
    try:
        a = make_user("a")
        project = make_project(annotators=[a])
        add_documents(project)
        held = next_task(user=a, project=project, kind="verifiability")
        task = Task.objects.get(pk=held.task_id)

        def view(request):
            submit_annotation(user=a, task=task, value={"label": "verifiable"})
            return HttpResponse("ok")

        response = events.DeliverAfterResponseMiddleware(view)(rf.put("/"))
        assert seen == []  # the response is not sent yet
        response.close()  # what the WSGI server does after the last byte
        assert seen == ["event"]
        assert AgreementRun.objects.filter(project=project).count() == 1

        def failing_view(request):
            submit_annotation(user=a, task=task, value={"label": "unverifiable"})
            raise RuntimeError("after the commit")

        with pytest.raises(RuntimeError):
            events.DeliverAfterResponseMiddleware(failing_view)(rf.put("/"))
        assert seen == ["event", "event"]  # a request that raises delivers at once
        assert events._request.deferred is None  # nothing held for later code
    finally:
        events.unsubscribe(events.ANNOTATION_SUBMITTED, subscriber)
        events.unsubscribe(events.ANNOTATION_EDITED, subscriber)
