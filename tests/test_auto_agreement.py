"""Saving annotations schedules the debounced automatic agreement run."""

from __future__ import annotations

import pytest

from labeling.agreement_runs import TRIGGER_AUTO
from labeling.annotating import submit_annotation
from labeling.assignment import next_task
from labeling.models import AgreementRun, JobStatus, Task
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
    assert runs.get().status == JobStatus.DONE  # eager mode runs it at once
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
