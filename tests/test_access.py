"""The one access module: the same 404, from the same single query, for missing and not yours."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from labeling.access import (
    LEAD,
    access_annotation,
    access_document,
    access_lead_object,
    access_project,
    access_queue,
    access_task,
    access_task_to_annotate,
)
from labeling.agreement_runs.runs import request_agreement_run
from labeling.exceptions import Forbidden, NotFound
from labeling.models import AgreementRun, Document, Task
from labeling.queue import next_task, submit_annotation
from tests.api_helpers import make_world

pytestmark = pytest.mark.django_db

MISSING = 987_654_321


@pytest.fixture
def world(make_user):
    w = make_world(make_user)
    held = next_task(user=w.annotator, project=w.project, kind="verifiability")
    annotation = submit_annotation(
        user=w.annotator, task=held.task, value={"label": "verifiable"}
    ).annotation
    run = request_agreement_run(project=w.project, kind="verifiability", user=w.lead)
    return w, annotation, run


def _shape(queries: list[dict], object_id: int) -> list[str]:
    """The SQL with the object's id blanked out: what the database is asked, not for what."""
    return [re.sub(rf'(\."?id"? = ){object_id}\b', r"\1?", q["sql"]) for q in queries]


def _refusal(gate, user, object_id) -> tuple[str, list[str]]:
    with CaptureQueriesContext(connection) as ctx, pytest.raises(NotFound) as exc:
        gate(user, object_id)
    return exc.value.message, _shape(ctx.captured_queries, object_id)


def _gates(w, annotation, run):
    """(gate, an id the outsider may not see) for every object gate."""
    task_id = annotation.task_id
    return [
        (access_project, w.project.pk),
        (access_document, Document.objects.filter(project=w.project).first().pk),
        (access_task, task_id),
        (lambda u, pk: access_task_to_annotate(u, pk)[0], task_id),
        (lambda u, pk: access_queue(u, pk, "verifiability")[0], w.project.pk),
        (access_annotation, annotation.pk),
        (lambda u, pk: access_lead_object(u, AgreementRun, pk, "agreement run"), run.pk),
    ]


def test_missing_and_not_yours_get_the_same_404_from_one_query_of_the_same_shape(world) -> None:
    w, annotation, run = world
    for gate, theirs in _gates(w, annotation, run):
        missing_message, missing_sql = _refusal(gate, w.other_lead, MISSING)
        theirs_message, theirs_sql = _refusal(gate, w.other_lead, theirs)
        assert missing_message == theirs_message
        assert len(missing_sql) == 1, missing_sql
        assert missing_sql == theirs_sql


def test_annotators_never_reach_each_others_work(world) -> None:
    w, annotation, _run = world
    _, missing_sql = _refusal(access_annotation, w.annotator2, MISSING)
    _, theirs_sql = _refusal(access_annotation, w.annotator2, annotation.pk)
    assert missing_sql == theirs_sql
    # A task the annotator never held is hidden the same way (unless they ask to annotate it).
    with pytest.raises(NotFound):
        access_task(w.annotator2, annotation.task_id)
    assert access_task_to_annotate(w.annotator2, annotation.task_id)[0].pk == annotation.task_id
    assert access_annotation(w.annotator, annotation.pk).pk == annotation.pk
    assert access_annotation(w.lead, annotation.pk).pk == annotation.pk


def test_members_lacking_the_role_get_403_and_staff_pass(world) -> None:
    w, annotation, run = world
    with pytest.raises(Forbidden):
        access_project(w.annotator, w.project.pk, role=LEAD)
    with pytest.raises(Forbidden):
        access_lead_object(w.annotator, AgreementRun, run.pk, "agreement run")
    with pytest.raises(Forbidden):
        access_task(w.annotator, annotation.task_id, role=LEAD)
    assert access_project(w.lead, w.project.pk, role=LEAD).viewer_role == LEAD
    assert access_project(w.staff, w.project.pk, role=LEAD).viewer_role is None
    assert access_task(w.staff, annotation.task_id).pk == annotation.task_id


@pytest.mark.parametrize("bad", ["x", "0", "-3", str(2**63), None, "1.5"])
def test_ids_that_cannot_exist_are_simply_missing(world, bad) -> None:
    w, _annotation, _run = world
    with pytest.raises(NotFound, match="project not found"):
        access_project(w.staff, bad)


def test_admin_pages_and_api_answer_alike(client, world) -> None:
    """A lead of another project: 404 on the API and on the admin pages of this project."""
    w, annotation, _run = world
    from django.urls import reverse

    from tests.api_helpers import client_for

    api = client_for(w.other_lead)
    client.force_login(w.other_lead)
    for url in (f"/api/projects/{w.project.pk}/", f"/api/projects/{MISSING}/"):
        assert api.get(url).status_code == 404
    for pk in (w.project.pk, MISSING):
        assert client.get(reverse("admin:labeling_progress", args=[pk])).status_code == 404
        assert client.get(reverse("admin:labeling_agreement", args=[pk])).status_code == 404
    for pk in (annotation.task_id, MISSING):
        assert client.get(reverse("admin:labeling_adjudicate", args=[pk])).status_code == 404
        assert client.get(f"/api/tasks/{pk}/").status_code in (401, 403, 404)
    # The project's own lead reaches both.
    client.force_login(w.lead)
    assert client.get(reverse("admin:labeling_progress", args=[w.project.pk])).status_code == 200
    assert (
        client.get(reverse("admin:labeling_adjudicate", args=[annotation.task_id])).status_code
        == 200
    )
    assert Task.objects.filter(pk=annotation.task_id).exists()
