"""The lead's Quality page in the admin: gated like the API, and every action works."""

from __future__ import annotations

import pytest
from django.urls import reverse

from labeling.models import Task
from labeling.quality.models import AnnotatorState, ControlQuestion, QualitySettings, Reservation
from tests.factories import add_documents, make_project

pytestmark = pytest.mark.django_db

VERIF = [{"kind": "verifiability", "labels": ["verifiable", "unverifiable", "not_a_claim"]}]


@pytest.fixture
def world(make_user):
    lead, ann, olead = make_user("lead"), make_user("ann"), make_user("olead")
    project = make_project(lead=lead, annotators=[ann], schemas=VERIF)
    docs = add_documents(project, ["One sentence here. Another one there."])
    make_project(lead=olead, schemas=VERIF, name="B")
    return project, lead, ann, olead, docs


def _url(project) -> str:
    return reverse("admin:labeling_quality", args=[project.pk])


def test_only_leads_reach_the_quality_page(client, world) -> None:
    project, lead, ann, olead, _ = world
    client.force_login(ann)
    assert client.get(_url(project)).status_code == 403
    client.force_login(olead)
    assert client.get(_url(project)).status_code == 404
    client.force_login(lead)
    page = client.get(_url(project))
    assert page.status_code == 200
    assert b'data-username="ann"' in page.content


def test_lead_sets_policy_controls_pause_quota_and_assignments(client, world) -> None:
    project, lead, ann, _, docs = world
    client.force_login(lead)
    url = _url(project)
    response = client.post(
        url,
        {
            "action": "settings",
            "control_rate": "0.2",
            "escalation_threshold": "0.5",
            "escalation_step": "1",
            "escalation_max_extra": "2",
            "min_control_answers": "5",
            "qualification_size": "0",
            "qualification_accuracy": "0.8",
        },
    )
    assert response.status_code == 302
    assert QualitySettings.objects.get(project=project).control_rate == 0.2
    task = Task.objects.filter(project=project).first()
    client.post(url, {"action": "controls", "controls": f"{task.pk} verifiable"})
    assert ControlQuestion.objects.get(task=task).value == {"label": "verifiable"}
    client.post(url, {"action": "pause", "user": ann.pk, "reason": "too fast"})
    state = AnnotatorState.objects.get(project=project, user=ann)
    assert (state.status, state.paused_reason) == ("paused", "too fast")
    client.post(url, {"action": "quota", "user": ann.pk, "quota_total": "7", "quota_per_day": ""})
    state.refresh_from_db()
    assert (state.quota_total, state.quota_per_day) == (7, None)
    client.post(url, {"action": "assign", "username": "ann", "documents": str(docs[0])})
    assert Reservation.objects.filter(annotator=ann).count() == 1  # the other task is a control
    client.post(url, {"action": "release", "user": ann.pk})
    assert not Reservation.objects.exists()
    client.post(url, {"action": "priority", "document": str(docs[0]), "priority": "3"})
    assert project.documents.get().queue_priority.priority == 3
    client.post(url, {"action": "resume", "user": ann.pk})
    assert AnnotatorState.objects.get(project=project, user=ann).status == "active"


def test_bad_input_on_the_page_stores_nothing_and_says_why(client, world) -> None:
    project, lead, _, _, _ = world
    client.force_login(lead)
    response = client.post(
        _url(project), {"action": "controls", "controls": "x nonsense"}, follow=True
    )
    assert b"ine 1: write TASK_ID" in response.content  # capitalised by the admin
    task = Task.objects.filter(project=project).first()
    response = client.post(
        _url(project), {"action": "controls", "controls": f"{task.pk} maybe"}, follow=True
    )
    assert b"value.label" in response.content
    assert not ControlQuestion.objects.exists()
    response = client.post(
        _url(project),
        {
            "action": "settings",
            "control_rate": "3",
            "escalation_threshold": "0.5",
            "escalation_step": "1",
            "escalation_max_extra": "2",
            "min_control_answers": "5",
            "qualification_size": "0",
            "qualification_accuracy": "0.8",
        },
    )
    assert response.status_code == 200
    assert b"must be between 0 and 1" in response.content
    assert not QualitySettings.objects.filter(project=project, control_rate=3).exists()


def test_progress_page_leaves_control_answers_out(client, world) -> None:
    from labeling.quality.controls import ControlSpec, set_controls
    from tests.api_helpers import client_for

    project, lead, ann, _, _ = world
    task = Task.objects.filter(project=project).first()
    set_controls(project=project, specs=[ControlSpec(task.pk, {"label": "verifiable"})], user=lead)
    QualitySettings.objects.create(project=project, control_rate=1.0)
    api = client_for(ann)
    got = api.get(f"/api/projects/{project.pk}/next-task/?kind=verifiability").json()
    assert got["id"] == task.pk
    api.put(f"/api/tasks/{task.pk}/annotation/", {"value": {"label": "verifiable"}}, format="json")
    client.force_login(lead)
    page = client.get(reverse("admin:labeling_progress", args=[project.pk]))
    (row,) = page.context["kind_rows"]
    assert row["n_annotations"] == 0
    assert row["n_tasks"] == 1  # the other sentence; the control is not a dataset task
