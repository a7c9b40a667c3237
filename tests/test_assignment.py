"""The task queue: reading order, overlap, leases, expiry and skipping."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from labeling.exceptions import Conflict, InvalidInput
from labeling.models import Assignment, AssignmentStatus, Task
from labeling.queue import next_task, release_all_expired_leases, skip_task, submit_annotation
from tests.api_helpers import client_for
from tests.factories import add_documents, make_project

pytestmark = pytest.mark.django_db

TWO_DOCS = ["First one. Second one. Third one.", "Alpha here. Beta here."]
VERIF = [{"kind": "verifiability"}]


def expire(assignment: Assignment) -> None:
    Assignment.objects.filter(pk=assignment.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )


def order(task: Task) -> tuple[int, int]:
    return task.document_id, task.position


@pytest.fixture
def people(make_user):
    return [make_user(f"a{i}") for i in range(4)]


def test_tasks_come_in_reading_order_and_never_twice(people) -> None:
    project = make_project(annotators=people[:1], overlap=2, schemas=VERIF)
    add_documents(project, TWO_DOCS)
    seen = []
    while (held := next_task(user=people[0], project=project, kind="verifiability")) is not None:
        seen.append(order(held.task))
        submit_annotation(user=people[0], task=held.task, value={"label": "verifiable"})
    assert seen == sorted(seen)
    assert len(seen) == len(set(seen)) == 5


def test_asking_again_while_holding_a_lease_returns_the_same_task(people) -> None:
    project = make_project(annotators=people[:1], schemas=VERIF)
    add_documents(project, TWO_DOCS)
    first = next_task(user=people[0], project=project, kind="verifiability")
    again = next_task(user=people[0], project=project, kind="verifiability")
    assert again.pk == first.pk
    assert Task.objects.get(pk=first.task_id).n_assigned == 1


def test_overlap_is_never_exceeded(people) -> None:
    project = make_project(annotators=people, overlap=2, schemas=VERIF)
    add_documents(project, ["Only one sentence here."])
    got = [next_task(user=u, project=project, kind="verifiability") for u in people]
    assert [g is not None for g in got] == [True, True, False, False]
    task = Task.objects.get(project=project)
    assert (task.n_assigned, task.is_open) == (2, False)


def test_skipped_task_is_not_offered_again_and_frees_its_slot(people) -> None:
    project = make_project(annotators=people, overlap=1, schemas=VERIF)
    add_documents(project, ["Only one sentence here."])
    held = next_task(user=people[0], project=project, kind="verifiability")
    assert next_task(user=people[1], project=project, kind="verifiability") is None
    skip_task(user=people[0], task=held.task)
    assert next_task(user=people[0], project=project, kind="verifiability") is None
    other = next_task(user=people[1], project=project, kind="verifiability")
    assert other is not None
    assert other.task_id == held.task_id
    assert Task.objects.get(pk=held.task_id).n_assigned == 1


def test_expired_lease_returns_the_task_to_the_pool_exactly_once(people) -> None:
    project = make_project(annotators=people, overlap=1, schemas=VERIF)
    add_documents(project, ["Only one sentence here."])
    held = next_task(user=people[0], project=project, kind="verifiability")
    expire(held)
    assert release_all_expired_leases() == 1
    assert release_all_expired_leases() == 0
    task = Task.objects.get(pk=held.task_id)
    assert (task.n_assigned, task.is_open) == (0, True)
    held.refresh_from_db()
    assert held.status == AssignmentStatus.EXPIRED


def test_next_task_releases_expired_leases_lazily(people) -> None:
    project = make_project(annotators=people, overlap=1, schemas=VERIF)
    add_documents(project, ["Only one sentence here."])
    held = next_task(user=people[0], project=project, kind="verifiability")
    expire(held)
    other = next_task(user=people[1], project=project, kind="verifiability")
    assert other is not None
    assert other.task_id == held.task_id
    assert Task.objects.get(pk=held.task_id).n_assigned == 1


def test_expired_task_may_be_offered_again_to_the_same_annotator(people) -> None:
    project = make_project(annotators=people, overlap=1, schemas=VERIF)
    add_documents(project, ["Only one sentence here."])
    held = next_task(user=people[0], project=project, kind="verifiability")
    expire(held)
    again = next_task(user=people[0], project=project, kind="verifiability")
    assert again.pk == held.pk
    assert again.status == AssignmentStatus.ACTIVE
    assert again.expires_at > timezone.now()
    assert Task.objects.get(pk=held.task_id).n_assigned == 1


def test_submit_on_expired_lease_retakes_the_slot_when_there_is_room(people) -> None:
    project = make_project(annotators=people, overlap=1, schemas=VERIF)
    add_documents(project, ["Only one sentence here."])
    held = next_task(user=people[0], project=project, kind="verifiability")
    expire(held)
    release_all_expired_leases()
    submit_annotation(user=people[0], task=held.task, value={"label": "verifiable"})
    task = Task.objects.get(pk=held.task_id)
    assert (task.n_assigned, task.n_submitted, task.is_open) == (1, 1, False)


def test_submit_on_expired_lease_is_refused_when_others_filled_the_task(people) -> None:
    project = make_project(annotators=people, overlap=1, schemas=VERIF)
    add_documents(project, ["Only one sentence here."])
    held = next_task(user=people[0], project=project, kind="verifiability")
    expire(held)
    assert next_task(user=people[1], project=project, kind="verifiability") is not None
    with pytest.raises(Conflict, match="expired"):
        submit_annotation(user=people[0], task=held.task, value={"label": "verifiable"})
    assert Task.objects.get(pk=held.task_id).n_assigned == 1


def test_submit_on_expired_lease_over_http_says_409(people) -> None:
    project = make_project(annotators=people, overlap=1, schemas=VERIF)
    add_documents(project, ["Only one sentence here."])
    held = next_task(user=people[0], project=project, kind="verifiability")
    expire(held)
    next_task(user=people[1], project=project, kind="verifiability")
    response = client_for(people[0]).put(
        f"/api/tasks/{held.task_id}/annotation/", {"value": {"label": "verifiable"}}, format="json"
    )
    assert response.status_code == 409
    assert "expired" in response.json()["detail"]


def test_annotator_stays_in_their_current_document(people) -> None:
    project = make_project(annotators=people, overlap=1, schemas=VERIF)
    add_documents(project, TWO_DOCS)
    a, b = people[:2]
    b_leases = [next_task(user=b, project=project, kind="verifiability") for _ in range(1)]
    # b holds doc 1 position 0; a starts at doc 1 position 1 and goes on in doc 1.
    first = next_task(user=a, project=project, kind="verifiability")
    assert order(first.task)[1] == 1
    submit_annotation(user=a, task=first.task, value={"label": "verifiable"})
    second = next_task(user=a, project=project, kind="verifiability")
    assert second.task.document_id == first.task.document_id
    submit_annotation(user=a, task=second.task, value={"label": "verifiable"})
    # doc 1 is exhausted for a (b holds position 0): on to doc 2, and stays there even
    # when b's position 0 comes back to the pool.
    third = next_task(user=a, project=project, kind="verifiability")
    assert third.task.document_id != first.task.document_id
    submit_annotation(user=a, task=third.task, value={"label": "verifiable"})
    skip_task(user=b, task=b_leases[0].task)
    fourth = next_task(user=a, project=project, kind="verifiability")
    assert fourth.task.document_id == third.task.document_id
    submit_annotation(user=a, task=fourth.task, value={"label": "verifiable"})
    fifth = next_task(user=a, project=project, kind="verifiability")
    assert order(fifth.task) == order(b_leases[0].task)


def test_stance_without_target_covers_every_target_in_reading_order(people) -> None:
    schemas = [{"kind": "stance", "targets": ["X", "Y"]}]
    project = make_project(annotators=people[:1], overlap=1, schemas=schemas)
    add_documents(project, ["One. Two."])
    seen = []
    while (held := next_task(user=people[0], project=project, kind="stance")) is not None:
        seen.append((held.task.position, held.task.target))
        submit_annotation(user=people[0], task=held.task, value={"label": "neutral"})
    assert seen == [(0, "X"), (0, "Y"), (1, "X"), (1, "Y")]


def test_stance_with_target_stays_on_that_target(people) -> None:
    schemas = [{"kind": "stance", "targets": ["X", "Y"]}]
    project = make_project(annotators=people[:1], overlap=1, schemas=schemas)
    add_documents(project, ["One. Two."])
    held = next_task(user=people[0], project=project, kind="stance", target="Y")
    assert held.task.target == "Y"


@pytest.mark.parametrize(
    ("kind", "target", "field"),
    [(None, None, "kind"), ("nope", None, "kind"), ("stance", "Z", "target")],
)
def test_unknown_kind_or_target_is_refused_naming_the_field(people, kind, target, field) -> None:
    project = make_project(annotators=people[:1])
    add_documents(project)
    with pytest.raises(InvalidInput) as info:
        next_task(user=people[0], project=project, kind=kind, target=target)
    assert info.value.field == field
    assert not Assignment.objects.exists()


def test_next_task_over_http_returns_204_when_nothing_is_left(people) -> None:
    project = make_project(annotators=people, overlap=1, schemas=VERIF)
    add_documents(project, ["Only one sentence here."])
    url = f"/api/projects/{project.pk}/next-task/?kind=verifiability"
    assert client_for(people[0]).get(url).status_code == 200
    assert client_for(people[1]).get(url).status_code == 204
    response = client_for(people[1]).get(f"/api/projects/{project.pk}/next-task/?kind=zzz")
    assert response.status_code == 400
    assert response.json()["errors"].keys() == {"kind"}


def test_next_task_payload_carries_neighbours_schema_and_lease(people) -> None:
    project = make_project(annotators=people[:1], overlap=1, schemas=VERIF)
    add_documents(project, ["S0. S1. S2. S3. S4. S5."])
    client = client_for(people[0])
    for _ in range(3):
        body = client.get(f"/api/projects/{project.pk}/next-task/?kind=verifiability").json()
        client.put(f"/api/tasks/{body['id']}/annotation/", {"value": {"label": "verifiable"}})
    body = client.get(f"/api/projects/{project.pk}/next-task/?kind=verifiability").json()
    assert body["sentence"]["text"] == "S3."
    assert [s["text"] for s in body["previous"]] == ["S1.", "S2."]
    assert [s["text"] for s in body["next"]] == ["S4.", "S5."]
    assert body["schema"]["labels"] == ["verifiable", "unverifiable", "not_a_claim"]
    assert body["lease"]["status"] == "active"
    assert body["annotation"] is None
    assert body["document"]["title"] == "Doc 0"


def test_skip_over_http_then_task_is_never_offered(people) -> None:
    project = make_project(annotators=people[:1], overlap=1, schemas=VERIF)
    add_documents(project, ["Only one sentence here."])
    client = client_for(people[0])
    task_id = client.get(f"/api/projects/{project.pk}/next-task/?kind=verifiability").json()["id"]
    response = client.post(f"/api/tasks/{task_id}/skip/")
    assert response.json() == {"task": task_id, "status": "skipped"}
    assert (
        client.get(f"/api/projects/{project.pk}/next-task/?kind=verifiability").status_code == 204
    )
    put = client.put(f"/api/tasks/{task_id}/annotation/", {"value": {"label": "verifiable"}})
    assert put.status_code == 409
