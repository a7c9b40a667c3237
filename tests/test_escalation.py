"""Low-agreement routing: disagreeing full tasks get more annotators, first in the queue."""

from __future__ import annotations

import pytest

from labeling.models import Task
from labeling.projects import set_annotators_per_item
from labeling.quality.escalation import check_escalation, disagreement
from labeling.quality.models import Escalation, QualitySettings
from labeling.queue import next_task, submit_annotation
from tests.api_helpers import client_for
from tests.factories import add_documents, make_project

pytestmark = pytest.mark.django_db

LABELS = ["verifiable", "unverifiable", "not_a_claim"]
VERIF = [{"kind": "verifiability", "labels": LABELS}]
TEXTS = [" ".join(f"Sentence {j} of document {i}." for j in range(4)) for i in range(3)]


def _labels(*given: str, level: str = "nominal", values=None) -> float | None:
    return disagreement(
        [{"label": g} for g in given],
        kind="verifiability",
        labels=["a", "b", "c"],
        level=level,
        label_values=values,
    )


def test_disagreement_is_the_items_observed_disagreement() -> None:
    assert _labels("a", "a") == 0
    assert _labels("a", "b") == 1
    assert _labels("a") is None
    assert _labels("a", "a", "b") == pytest.approx(2 / 3)
    # interval: squared distances over the largest, (1 - 0)^2 / (10 - 0)^2
    assert _labels("a", "b", level="interval", values=[0, 1, 10]) == pytest.approx(0.01)
    assert _labels("a", "b", level="interval") == pytest.approx(0.25)  # equally spaced


def test_attribution_disagreement_is_the_share_of_differing_pairs() -> None:
    span = {
        "source": {"start": 0, "end": 2},
        "cue": {"start": 3, "end": 4},
        "content": {"start": 5, "end": 9},
    }
    same = [{"attributions": [span]}, {"attributions": [dict(span)]}, {"attributions": []}]
    found = disagreement(same, kind="attribution", labels=[], level="nominal")
    assert found == pytest.approx(2 / 3)


@pytest.fixture
def world(make_user):
    anns = [make_user(f"a{i}") for i in range(5)]
    project = make_project(lead=make_user("lead"), annotators=anns, overlap=2, schemas=VERIF)
    add_documents(project, TEXTS)
    QualitySettings.objects.create(
        project=project,
        escalation_enabled=True,
        escalation_threshold=0.5,
        escalation_step=1,
        escalation_max_extra=2,
    )
    return project, anns


def _annotate(user, project, label, task_id=None):
    held = next_task(user=user, project=project, kind="verifiability")
    if task_id is not None:
        assert held.task_id == task_id, "the escalated task should come first"
    submit_annotation(user=user, task=held.task, value={"label": label})
    return held.task_id


def test_a_disagreeing_task_escalates_comes_first_up_to_the_maximum(world) -> None:
    project, anns = world
    first = _annotate(anns[0], project, "verifiable")
    assert _annotate(anns[1], project, "not_a_claim") == first
    escalation = check_escalation(task_id=first)
    assert escalation is not None
    assert escalation.extra == 1
    task = Task.objects.get(pk=first)
    assert (task.overlap, task.is_open) == (3, True)
    # a2 has other work in reading order, but the escalated task comes first
    _annotate(anns[2], project, "verifiable", task_id=first)
    escalation = check_escalation(task_id=first)
    # 2 of 3 agree: D_o = 2/3 > 0.5, one more annotator (the maximum is 2 extra)
    assert escalation.extra == 2
    assert escalation.status == "open"
    _annotate(anns[3], project, "unverifiable", task_id=first)
    escalation = check_escalation(task_id=first)
    assert escalation.status == "unresolved"  # D_o = 5/6 with the maximum reached
    assert Task.objects.get(pk=first).overlap == 4
    assert Task.objects.get(pk=first).is_open is False
    counts = client_for(anns[0]).get(f"/api/projects/{project.pk}/escalations/")
    assert counts.status_code == 403


def test_agreement_after_escalation_resolves_it(world, make_user) -> None:
    project, anns = world
    QualitySettings.objects.filter(project=project).update(escalation_threshold=0.6)
    first = _annotate(anns[0], project, "verifiable")
    _annotate(anns[1], project, "not_a_claim")
    check_escalation(task_id=first)
    _annotate(anns[2], project, "verifiable", task_id=first)
    escalation = check_escalation(task_id=first)  # D_o = 2/3 > 0.6: one more
    assert escalation.extra == 2
    _annotate(anns[3], project, "verifiable", task_id=first)
    escalation = check_escalation(task_id=first)  # 3 vs 1: D_o = 0.5 <= 0.6
    assert escalation.status == "resolved"
    lead = project.memberships.get(role="lead").user
    body = client_for(lead).get(f"/api/projects/{project.pk}/escalations/").json()
    assert body["n_escalated"] == 1
    assert body["n_resolved"] == 1


def test_no_escalation_when_off_agreeing_or_not_complete(world) -> None:
    project, anns = world
    first = _annotate(anns[0], project, "verifiable")
    assert check_escalation(task_id=first) is None  # one of two annotations
    _annotate(anns[1], project, "verifiable")
    assert check_escalation(task_id=first) is None  # agreement
    second = _annotate(anns[0], project, "verifiable")
    _annotate(anns[1], project, "unverifiable")
    QualitySettings.objects.filter(project=project).update(escalation_enabled=False)
    assert check_escalation(task_id=second) is None
    QualitySettings.objects.filter(project=project).update(
        escalation_enabled=True, escalation_thresholds={"verifiability": 1.0}
    )
    assert check_escalation(task_id=second) is None  # the kind's threshold wins
    assert not Escalation.objects.exists()


def test_changing_the_overlap_keeps_escalations_and_controls(world) -> None:
    from labeling.quality.controls import ControlSpec, set_controls
    from labeling.quality.models import CONTROL_OVERLAP

    project, anns = world
    first = _annotate(anns[0], project, "verifiable")
    _annotate(anns[1], project, "not_a_claim")
    check_escalation(task_id=first)
    control = Task.objects.filter(project=project, n_assigned=0).last()
    set_controls(
        project=project, specs=[ControlSpec(control.pk, {"label": "verifiable"})], user=None
    )
    set_annotators_per_item(project=project, annotators_per_item=3)
    assert Task.objects.get(pk=first).overlap == 4  # 3 + its extra annotator
    assert Task.objects.get(pk=control.pk).overlap == CONTROL_OVERLAP
    assert Escalation.objects.get(task_id=first).base_overlap == 3
    others = Task.objects.exclude(pk__in=[first, control.pk]).filter(project=project)
    assert set(others.values_list("overlap", flat=True)) == {3}


def test_the_task_completed_event_routes_disagreement_through_the_api(
    world, django_capture_on_commit_callbacks
) -> None:
    project, anns = world
    clients = [client_for(a) for a in anns]
    url = f"/api/projects/{project.pk}/next-task/?kind=verifiability"
    first = clients[0].get(url).json()["id"]
    clients[0].put(
        f"/api/tasks/{first}/annotation/", {"value": {"label": "verifiable"}}, format="json"
    )
    assert clients[1].get(url).json()["id"] == first
    with django_capture_on_commit_callbacks(execute=True):
        with_event = clients[1].put(
            f"/api/tasks/{first}/annotation/", {"value": {"label": "not_a_claim"}}, format="json"
        )
    assert with_event.status_code == 200
    escalation = Escalation.objects.get(task_id=first)  # published on commit, routed
    assert escalation.extra == 1
    assert clients[2].get(url).json()["id"] == first  # first in the queue


def test_completion_costs_one_query_when_escalation_is_off(
    world, django_assert_num_queries
) -> None:
    from labeling.events import Event
    from labeling.quality.escalation import on_task_completed

    project, _ = world
    QualitySettings.objects.filter(project=project).update(escalation_enabled=False)
    task = Task.objects.filter(project=project).first()
    with django_assert_num_queries(1):
        on_task_completed(Event("task_completed", project.pk, {"task_id": task.pk}))
