"""The workspace's queue features through the API: tasks leased ahead (prefetch), undo of a
submit or skip within its lease, stance groups by sentence, and per-annotator settings.
Each keeps the queue's invariant: ``n_assigned`` counts active and submitted assignments."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from labeling.models import Annotation, Assignment, AssignmentStatus, Task
from tests.api_helpers import client_for
from tests.factories import SAMPLE_TEXT, add_documents, make_project

pytestmark = pytest.mark.django_db

VERIFIABLE = {"label": "verifiable"}


@pytest.fixture
def world(make_user):
    lead, ann, ann2 = make_user("lead"), make_user("ann"), make_user("ann2")
    project = make_project(lead=lead, annotators=[ann, ann2], overlap=1)
    add_documents(project, [SAMPLE_TEXT])
    return project, ann, ann2


def url(project, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"kind": "verifiability", **params}.items())
    return f"/api/projects/{project.pk}/next-task/?{query}"


def put(api, task_id: int, value=None):
    return api.put(f"/api/tasks/{task_id}/annotation/", {"value": value or VERIFIABLE})


def active(user) -> list[int]:
    return sorted(
        Assignment.objects.filter(annotator=user, status=AssignmentStatus.ACTIVE).values_list(
            "task_id", flat=True
        )
    )


def assert_invariant() -> None:
    for task in Task.objects.all():
        held = task.assignments.filter(
            status__in=[AssignmentStatus.ACTIVE, AssignmentStatus.SUBMITTED]
        ).count()
        assert task.n_assigned == held, task
        assert task.n_submitted == task.annotations.count(), task
        assert task.is_open == (task.n_assigned < task.overlap), task


# --- prefetch --------------------------------------------------------------------------


def test_after_leases_one_task_ahead_and_never_more(world) -> None:
    project, ann, _ = world
    api = client_for(ann)
    a = api.get(url(project)).json()["id"]
    b = api.get(url(project, after=a)).json()["id"]
    assert b != a
    assert active(ann) == sorted([a, b])
    assert api.get(url(project, after=a)).json()["id"] == b  # asking again: the same
    assert api.get(url(project)).json()["id"] == b  # a reload shows the newest lease,
    assert api.get(url(project, after=b)).json()["id"] == a  # then the other: not a third
    assert len(active(ann)) == 2
    assert put(api, a).status_code == 200
    c = api.get(url(project, after=b)).json()["id"]
    assert c not in (a, b)
    assert Task.objects.get(pk=c).position > Task.objects.get(pk=b).position
    assert active(ann) == sorted([b, c])
    assert_invariant()


def test_after_is_checked(world) -> None:
    project, ann, _ = world
    api = client_for(ann)
    for bad in ("x", "-3", "0"):
        response = api.get(url(project, after=bad))
        assert response.status_code == 400
        assert "after" in response.json()["errors"]
    response = api.get(url(project, group="paragraph"))
    assert response.status_code == 400
    assert "group" in response.json()["errors"]


# --- undo ------------------------------------------------------------------------------


def test_undo_a_submit_withdraws_the_annotation_and_gives_the_lease_back(world) -> None:
    project, ann, ann2 = world
    api = client_for(ann)
    a = api.get(url(project)).json()["id"]
    assert put(api, a).status_code == 200
    response = api.post(f"/api/tasks/{a}/undo/")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["id"] == a
    assert body["annotation"] is None
    assert body["lease"]["status"] == "active"
    assert not Annotation.objects.filter(task_id=a).exists()
    assert_invariant()
    # The task is still this annotator's (overlap 1): nobody else gets it meanwhile.
    assert client_for(ann2).get(url(project)).json()["id"] != a
    assert api.post(f"/api/tasks/{a}/undo/").status_code == 200  # repeated: same state
    assert put(api, a, {"label": "unverifiable"}).status_code == 200
    assert Annotation.objects.get(task_id=a).revision == 1
    assert_invariant()


def test_undo_a_skip_takes_a_slot_again_unless_the_task_was_filled(world) -> None:
    project, ann, ann2 = world
    api, api2 = client_for(ann), client_for(ann2)
    a = api.get(url(project)).json()["id"]
    assert api.post(f"/api/tasks/{a}/skip/").status_code == 200
    assert api.post(f"/api/tasks/{a}/undo/").status_code == 200
    assert active(ann) == [a]
    assert_invariant()
    assert api.post(f"/api/tasks/{a}/skip/").status_code == 200
    assert api2.get(url(project)).json()["id"] == a  # overlap 1: now ann2's
    response = api.post(f"/api/tasks/{a}/undo/")
    assert response.status_code == 409
    assert response.json()["code"] == "task_full"
    assert_invariant()


def test_undo_is_refused_after_the_lease_or_an_edit_and_without_a_lease(world) -> None:
    project, ann, _ = world
    api = client_for(ann)
    a = api.get(url(project)).json()["id"]
    assert put(api, a).status_code == 200
    assert put(api, a, {"label": "unverifiable"}).status_code == 200  # an edit
    response = api.post(f"/api/tasks/{a}/undo/")
    assert response.status_code == 409
    assert response.json()["code"] == "edited"
    b = api.get(url(project)).json()["id"]
    assert put(api, b).status_code == 200
    Assignment.objects.filter(task_id=b).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = api.post(f"/api/tasks/{b}/undo/")
    assert response.status_code == 409
    assert response.json()["code"] == "lease_expired"
    never = Task.objects.exclude(pk__in=[a, b]).filter(kind="verifiability").first()
    assert api.post(f"/api/tasks/{never.pk}/undo/").status_code == 403
    assert_invariant()


# --- stance groups ---------------------------------------------------------------------


def test_group_leases_every_target_of_the_sentence_together(world) -> None:
    project, ann, ann2 = world
    api = client_for(ann)
    first = api.get(url(project, kind="stance", group="sentence", offset_unit="utf16")).json()
    group = first["group"]
    assert [m["target"] for m in group] == ["Russian government", "Ukrainian government"]
    assert first["id"] in {m["id"] for m in group}
    tasks = Task.objects.filter(pk__in=[m["id"] for m in group])
    assert {t.sentence_id for t in tasks} == {first["sentence"]["id"]}
    assert active(ann) == sorted(m["id"] for m in group)
    # Asking again gives the same group; asking ahead gives the next sentence's.
    again = api.get(url(project, kind="stance", group="sentence")).json()
    assert {m["id"] for m in again["group"]} == {m["id"] for m in group}
    ahead = api.get(url(project, kind="stance", group="sentence", after=first["id"])).json()
    assert ahead["sentence"]["position"] == first["sentence"]["position"] + 1
    assert len(ahead["group"]) == 2
    assert len(active(ann)) == 4
    # Another annotator (overlap 1) gets neither sentence.
    other = client_for(ann2).get(url(project, kind="stance", group="sentence")).json()
    assert other["sentence"]["position"] == first["sentence"]["position"] + 2
    for member in group:
        assert put(api, member["id"], {"label": "neutral"}).status_code == 200
    follow = api.get(url(project, kind="stance", group="sentence", after=ahead["id"])).json()
    assert follow["sentence"]["position"] == first["sentence"]["position"] + 3
    assert_invariant()


# --- settings --------------------------------------------------------------------------


def test_settings_are_stored_per_user(world) -> None:
    _project, ann, ann2 = world
    api = client_for(ann)
    assert api.get("/api/me/settings/").json()["confirm_with_enter"] is False
    response = api.patch("/api/me/settings/", {"confirm_with_enter": True}, format="json")
    assert response.status_code == 200
    assert api.get("/api/me/settings/").json()["confirm_with_enter"] is True
    assert client_for(ann2).get("/api/me/settings/").json()["confirm_with_enter"] is False
    bad = api.patch("/api/me/settings/", {"confirm_with_enter": "maybe"}, format="json")
    assert bad.status_code == 400
    assert "confirm_with_enter" in bad.json()["errors"]
    unknown = api.patch("/api/me/settings/", {"colour": "red"}, format="json")
    assert unknown.status_code == 400
    assert "colour" in unknown.json()["errors"]
