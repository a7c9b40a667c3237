"""Submitting and editing annotations: validation, revisions, lead time."""

from __future__ import annotations

import pytest

from labeling.exceptions import Forbidden
from labeling.models import Annotation, AnnotationRevision, Task
from labeling.queue import next_task, submit_annotation
from tests.api_helpers import client_for
from tests.factories import add_documents, make_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(make_user):
    """An annotator holding an attribution task on the second sentence of SAMPLE_TEXT."""
    user = make_user("ann")
    project = make_project(annotators=[user], overlap=1, schemas=[{"kind": "attribution"}])
    add_documents(project)
    first = next_task(user=user, project=project, kind="attribution")
    submit_annotation(user=user, task=first.task, value={"attributions": []})
    return user, next_task(user=user, project=project, kind="attribution").task


def test_edit_keeps_the_earlier_revision(held) -> None:
    user, task = held
    client = client_for(user)
    url = f"/api/tasks/{task.pk}/annotation/"
    assert client.put(url, {"value": {"attributions": []}, "lead_time_ms": 1200}).status_code == 200
    value = {
        "attributions": [
            {
                "source": {"start": 60, "end": 72},
                "cue": {"start": 73, "end": 77},
                "content": {"start": 35, "end": 59},
            }
        ]
    }
    response = client.put(url, {"value": value, "lead_time_ms": 3400})
    assert response.status_code == 200
    assert response.json()["revision"] == 2
    annotation = Annotation.objects.get(task=task, annotator=user)
    assert (annotation.value, annotation.lead_time_ms) == (value, 3400)
    old = AnnotationRevision.objects.get(annotation=annotation)
    assert (old.revision, old.value, old.lead_time_ms) == (1, {"attributions": []}, 1200)
    detail = client.get(url).json()
    assert [r["revision"] for r in detail["revisions"]] == [1]
    assert Task.objects.get(pk=task.pk).n_submitted == 1


def test_lead_time_defaults_to_time_since_the_lease(held) -> None:
    user, task = held
    result = submit_annotation(user=user, task=task, value={"attributions": []})
    assert result.created
    assert result.annotation.lead_time_ms is not None
    assert 0 <= result.annotation.lead_time_ms < 60_000


def _triple(**override):
    triple = {
        "source": {"start": 60, "end": 72},
        "cue": {"start": 73, "end": 77},
        "content": {"start": 35, "end": 59},
    }
    triple.update(override)
    return {"attributions": [triple]}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "value"),
        ({"value": "x"}, "value"),
        ({"value": {"label": "verifiable"}}, "value.label"),
        ({"value": {}}, "value.attributions"),
        ({"value": _triple(cue={"start": 0, "end": 5})}, "value.attributions[0].cue"),
        ({"value": _triple(source={"start": 9, "end": 3})}, "value.attributions[0].source.end"),
        ({"value": _triple(content={"start": 0, "end": 10**6})}, "value.attributions[0].content.end"),  # noqa: E501
        ({"value": {"attributions": [{"cue": {"start": 73, "end": 77}}]}}, "value.attributions[0].source"),  # noqa: E501
        ({"value": {"attributions": []}, "lead_time_ms": -5}, "lead_time_ms"),
        ({"value": {"attributions": []}, "lead_time_ms": "soon"}, "lead_time_ms"),
    ],
)  # fmt: skip
def test_invalid_value_is_a_400_naming_the_field_and_stores_nothing(held, body, field) -> None:
    user, task = held
    response = client_for(user).put(f"/api/tasks/{task.pk}/annotation/", body, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"], response.json()
    assert not Annotation.objects.filter(task=task).exists()
    assert Task.objects.get(pk=task.pk).n_submitted == 0


def test_label_outside_the_schema_is_refused(make_user) -> None:
    user = make_user("ann")
    project = make_project(annotators=[user], overlap=1, schemas=[{"kind": "verifiability"}])
    add_documents(project)
    task = next_task(user=user, project=project, kind="verifiability").task
    response = client_for(user).put(f"/api/tasks/{task.pk}/annotation/", {"value": {"label": "x"}})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["value.label"]


def test_annotating_a_task_you_do_not_hold_is_forbidden(make_user) -> None:
    user = make_user("ann")
    project = make_project(annotators=[user], overlap=1, schemas=[{"kind": "verifiability"}])
    add_documents(project)
    task = Task.objects.filter(project=project).first()
    with pytest.raises(Forbidden):
        submit_annotation(user=user, task=task, value={"label": "verifiable"})
    assert not Annotation.objects.exists()
