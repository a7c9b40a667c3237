"""Database constraints for the invariants, on whichever database the suite runs."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from labeling.models import (
    Annotation,
    Assignment,
    Document,
    Membership,
    Sentence,
    Task,
)
from tests.factories import add_documents, make_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(make_user):
    ann = make_user("ann")
    project = make_project(annotators=[ann], overlap=2)
    add_documents(project)
    return project, ann, Task.objects.filter(project=project).first()


def _violates(fn) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        fn()


def test_one_annotation_per_task_and_annotator(setup):
    project, ann, task = setup
    Annotation.objects.create(task=task, annotator=ann, value={"label": "verifiable"})
    _violates(lambda: Annotation.objects.create(task=task, annotator=ann, value={"label": "x"}))


def test_one_assignment_per_task_and_annotator(setup):
    project, ann, task = setup
    now = timezone.now()
    Assignment.objects.create(task=task, annotator=ann, leased_at=now, expires_at=now)
    _violates(
        lambda: Assignment.objects.create(task=task, annotator=ann, leased_at=now, expires_at=now)
    )


def test_task_never_over_assigned(setup):
    project, ann, task = setup
    _violates(lambda: Task.objects.filter(pk=task.pk).update(n_assigned=task.overlap + 1))
    _violates(lambda: Task.objects.filter(pk=task.pk).update(n_submitted=1))  # > n_assigned


def test_unique_sentence_position_and_consistent_offsets(setup):
    project, ann, task = setup
    doc = Document.objects.first()
    _violates(lambda: Sentence.objects.create(document=doc, position=0, start=0, end=3, text="Off"))
    _violates(lambda: Sentence.objects.create(document=doc, position=99, start=5, end=5, text=""))


def test_unique_external_id_and_content_hash_per_project(setup):
    project, ann, task = setup
    doc = Document.objects.first()
    _violates(
        lambda: Document.objects.create(
            project=project, text="other", external_id=doc.external_id, content_hash="x"
        )
    )
    Document.objects.create(project=project, text="t", content_hash="h1")
    _violates(lambda: Document.objects.create(project=project, text="t", content_hash="h1"))


def test_unique_membership_and_valid_role(setup):
    project, ann, task = setup
    _violates(lambda: Membership.objects.create(project=project, user=ann, role="lead"))
    other = make_project(name="Other")
    _violates(lambda: Membership.objects.create(project=other, user=ann, role="boss"))


def test_one_task_per_sentence_kind_and_target(setup):
    project, ann, task = setup
    _violates(
        lambda: Task.objects.create(
            project=project,
            sentence=task.sentence,
            document=task.document,
            position=task.position,
            kind=task.kind,
            target=task.target,
            overlap=2,
        )
    )
