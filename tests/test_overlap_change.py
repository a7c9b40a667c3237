"""Changing ``annotators_per_item``: API and admin apply it to every task, or refuse alike."""

from __future__ import annotations

import pytest

from labeling.models import Project, Task
from labeling.queue import next_task, submit_annotation
from tests.api_helpers import client_for, make_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(make_user):
    """Overlap 2; both annotators labelled the first verifiability task (complete)."""
    w = make_world(make_user, overlap=2)
    for user in (w.annotator, w.annotator2):
        held = next_task(user=user, project=w.project, kind="verifiability")
        submit_annotation(user=user, task=held.task, value={"label": "verifiable"})
    return w


def _overlaps(project: Project) -> set[int]:
    return set(Task.objects.filter(project=project).values_list("overlap", flat=True))


def _consistent(project: Project) -> bool:
    return all(
        t.is_open == (t.n_assigned < t.overlap) for t in Task.objects.filter(project=project)
    )


def _patch(w, body):
    return client_for(w.lead).patch(f"/api/projects/{w.project.pk}/", body, format="json")


def test_api_raising_overlap_applies_to_every_task_and_reopens_complete_ones(world) -> None:
    full = Task.objects.get(project=world.project, n_assigned=2)
    assert not full.is_open
    response = _patch(world, {"annotators_per_item": 3})
    assert response.status_code == 200, response.json()
    assert response.json()["annotators_per_item"] == 3
    assert _overlaps(world.project) == {3}
    full.refresh_from_db()
    assert full.is_open
    assert _consistent(world.project)
    # A third annotator now gets the reopened task.
    third = next_task(user=world.lead, project=world.project, kind="verifiability")
    assert third.task_id == full.pk


def test_api_refuses_lowering_below_what_a_task_holds_and_changes_nothing(world) -> None:
    response = _patch(world, {"annotators_per_item": 1, "guidelines": "New text."})
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "overlap_in_use"
    assert "annotators_per_item" in body["errors"]
    assert "use 2 or more" in body["detail"]
    world.project.refresh_from_db()
    assert world.project.annotators_per_item == 2
    assert world.project.guidelines == ""
    assert _overlaps(world.project) == {2}


def test_api_lowering_closes_tasks_that_have_enough(make_user) -> None:
    w = make_world(make_user, overlap=3)
    held = next_task(user=w.annotator, project=w.project, kind="verifiability")
    submit_annotation(user=w.annotator, task=held.task, value={"label": "verifiable"})
    assert _patch(w, {"annotators_per_item": 1}).status_code == 200
    assert _overlaps(w.project) == {1}
    assert not Task.objects.get(pk=held.task_id).is_open
    assert _consistent(w.project)


@pytest.mark.parametrize("bad", [0, 101, "many", True, None])
def test_api_bad_overlap_is_a_400_naming_the_field(world, bad) -> None:
    response = _patch(world, {"annotators_per_item": bad})
    assert response.status_code == 400
    assert "annotators_per_item" in response.json()["errors"]
    assert _overlaps(world.project) == {2}


def test_annotators_cannot_change_it(world) -> None:
    url = f"/api/projects/{world.project.pk}/"
    response = client_for(world.annotator).patch(url, {"annotators_per_item": 5}, format="json")
    assert response.status_code == 403
    assert _overlaps(world.project) == {2}


def _change_form_data(response) -> dict:
    """The admin change form's current values, as the browser would post them back."""
    data: dict = {}
    ctx = response.context
    forms = [ctx["adminform"].form]
    for inline in ctx["inline_admin_formsets"]:
        forms.append(inline.formset.management_form)
        forms.extend(inline.formset.forms)
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            if value is None or value is False:
                continue
            data[form.add_prefix(name)] = "on" if value is True else value
    return data


def _admin_post(client, w, overlap: int):
    url = f"/admin/labeling/project/{w.project.pk}/change/"
    client.force_login(w.lead)
    data = _change_form_data(client.get(url))
    data["annotators_per_item"] = overlap
    return client.post(url, data)


def test_admin_raising_overlap_applies_to_every_task(client, world) -> None:
    response = _admin_post(client, world, 4)
    assert response.status_code == 302, response.context["adminform"].form.errors
    world.project.refresh_from_db()
    assert world.project.annotators_per_item == 4
    assert _overlaps(world.project) == {4}
    assert _consistent(world.project)


def test_admin_refuses_lowering_below_what_a_task_holds_as_the_api_does(client, world) -> None:
    response = _admin_post(client, world, 1)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "annotators_per_item" in errors
    assert "use 2 or more" in errors["annotators_per_item"][0]
    world.project.refresh_from_db()
    assert world.project.annotators_per_item == 2
    assert _overlaps(world.project) == {2}
