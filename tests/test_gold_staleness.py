"""Gold marked stale when annotations arrive after it was decided; re-aggregation as a job."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from labeling.models import Annotation, GoldJob, GoldLabel, Task
from labeling.review.gold import adjudicate, aggregate_gold
from labeling.review.staleness import gold_status
from tests.factories import add_documents, make_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(make_user):
    lead = make_user("lead")
    annotators = [make_user(f"ann{i}") for i in range(3)]
    project = make_project(lead=lead, annotators=annotators, overlap=3)
    add_documents(project, ["One sentence 😀.\nTwo 東京 sentences.\nThree e\u0301."])
    tasks = list(Task.objects.filter(project=project, kind="verifiability").order_by("id"))
    for task in tasks:
        for user in annotators[:2]:
            Annotation.objects.create(task=task, annotator=user, value={"label": "verifiable"})
    return {"lead": lead, "annotators": annotators, "project": project, "tasks": tasks}


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_new_and_edited_annotations_make_aggregated_gold_stale(world):
    project, tasks = world["project"], world["tasks"]
    aggregate_gold(project=project, kind="verifiability")
    status = gold_status(project_id=project.pk, kind="verifiability")
    assert (status["n_gold"], status["n_stale"], status["annotations_since"]) == (3, 0, 0)
    third = world["annotators"][2]
    Annotation.objects.create(task=tasks[0], annotator=third, value={"label": "unverifiable"})
    edited = Annotation.objects.get(task=tasks[1], annotator=world["annotators"][0])
    edited.value = {"label": "not_a_claim"}
    edited.save()
    status = gold_status(project_id=project.pk, kind="verifiability")
    assert (status["n_stale"], status["annotations_since"]) == (2, 2)
    # Re-aggregating confirms task 0's value (2 of 3 still say verifiable) and clears both.
    result = aggregate_gold(project=project, kind="verifiability")
    assert result.n_unchanged >= 1
    status = gold_status(project_id=project.pk, kind="verifiability")
    assert (status["n_stale"], status["annotations_since"]) == (0, 0)


def test_adjudicated_gold_goes_stale_too_and_reaggregation_leaves_it(world):
    project, tasks, lead = world["project"], world["tasks"], world["lead"]
    adjudicate(task=tasks[2], value={"label": "not_a_claim"}, user=lead)
    Annotation.objects.create(
        task=tasks[2], annotator=world["annotators"][2], value={"label": "verifiable"}
    )
    aggregate_gold(project=project, kind="verifiability")
    status = gold_status(project_id=project.pk, kind="verifiability")
    assert status["n_stale"] == 1
    assert status["n_stale_adjudicated"] == 1
    assert GoldLabel.objects.get(task=tasks[2]).value == {"label": "not_a_claim"}


def test_task_gold_api_says_stale_with_the_count(world):
    project, tasks, lead = world["project"], world["tasks"], world["lead"]
    aggregate_gold(project=project, kind="verifiability")
    client = client_for(lead)
    body = client.get(f"/api/tasks/{tasks[0].pk}/gold/").json()
    assert body["stale"] is False
    assert body["annotations_since"] == 0
    assert body["decided_at"] is not None
    Annotation.objects.create(
        task=tasks[0], annotator=world["annotators"][2], value={"label": "verifiable"}
    )
    body = client.get(f"/api/tasks/{tasks[0].pk}/gold/").json()
    assert body["stale"] is True
    assert body["annotations_since"] == 1
    # Adjudicating decides afresh: the answer is not stale.
    body = client.put(
        f"/api/tasks/{tasks[0].pk}/gold/", {"value": {"label": "verifiable"}}, format="json"
    ).json()
    assert body["stale"] is False


def test_status_and_reaggregate_endpoints(world, django_capture_on_commit_callbacks):
    project, tasks, lead = world["project"], world["tasks"], world["lead"]
    client = client_for(lead)
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(
            f"/api/projects/{project.pk}/gold/aggregate/",
            {"kind": "verifiability", "method": "dawid_skene"},
            format="json",
        )
    assert first.status_code == 202
    Annotation.objects.create(
        task=tasks[1], annotator=world["annotators"][2], value={"label": "verifiable"}
    )
    url = f"/api/projects/{project.pk}/gold/status/"
    status = client.get(url, {"kind": "verifiability"}).json()
    assert status["n_stale"] == 1
    assert status["reaggregate_method"] == "dawid_skene"
    assert status["latest_aggregation"]["id"] == first.json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/projects/{project.pk}/gold/reaggregate/",
            {"kind": "verifiability"},
            format="json",
        )
    assert response.status_code == 202
    job = GoldJob.objects.get(pk=response.json()["id"])
    assert (job.operation, job.method, job.status) == ("aggregate", "dawid_skene", "done")
    assert client.get(url, {"kind": "verifiability"}).json()["n_stale"] == 0
    # Bad input names the field; annotators and outsiders are refused like elsewhere.
    bad = client.get(url, {"kind": "stance!"})
    assert bad.status_code == 400
    assert "kind" in bad.json()["errors"]
    assert client.get(url).status_code == 400
    missing = client.post(f"/api/projects/{project.pk}/gold/reaggregate/", {}, format="json")
    assert missing.status_code == 400
    assert "kind" in missing.json()["errors"]
    annotator = client_for(world["annotators"][0])
    assert annotator.get(url, {"kind": "verifiability"}).status_code == 403
    assert (
        annotator.post(
            f"/api/projects/{project.pk}/gold/reaggregate/",
            {"kind": "verifiability"},
            format="json",
        ).status_code
        == 403
    )


def test_status_reads_a_constant_number_of_queries(world, django_assert_max_num_queries):
    aggregate_gold(project=world["project"], kind="verifiability")
    client = client_for(world["lead"])
    with django_assert_max_num_queries(8):
        client.get(f"/api/projects/{world['project'].pk}/gold/status/", {"kind": "verifiability"})


def test_dashboard_and_admin_show_stale_gold_with_a_button(client, world):
    project, tasks = world["project"], world["tasks"]
    aggregate_gold(project=project, kind="verifiability")
    Annotation.objects.create(
        task=tasks[0], annotator=world["annotators"][2], value={"label": "verifiable"}
    )
    client.force_login(world["lead"])
    page = client.get(
        reverse("admin:labeling_agreement", args=[project.pk]) + "?kind=verifiability"
    ).content.decode()
    assert 'data-testid="reaggregate"' in page
    assert "1 stale" in page
    listing = client.get(reverse("admin:labeling_goldlabel_changelist")).content.decode()
    assert "stale: 1 annotation since" in listing
    assert listing.count(">fresh<") == 2


def test_disputed_queue_gold_says_stale_with_the_count(world):
    from labeling.agreement_runs.runs import execute_agreement_run
    from labeling.models import AgreementRun

    project, tasks, annotators = world["project"], world["tasks"], world["annotators"]
    # Two of three say verifiable: majority gold, and the task is disputed.
    third = Annotation.objects.create(
        task=tasks[0], annotator=annotators[2], value={"label": "unverifiable"}
    )
    aggregate_gold(project=project, kind="verifiability")
    row = AgreementRun.objects.create(project=project, kind="verifiability")
    execute_agreement_run(row.pk)
    url = f"/api/projects/{project.pk}/disputed/?kind=verifiability"
    client = client_for(world["lead"])

    def gold_of_first() -> dict:
        response = client.get(url)
        assert response.status_code == 200, response.content
        (item,) = [i for i in response.json()["results"] if i["task_id"] == tasks[0].pk]
        return item["gold"]

    fresh = gold_of_first()
    assert (fresh["stale"], fresh["annotations_since"]) == (False, 0)
    third.value = {"label": "not_a_claim"}
    third.save()
    edited = Annotation.objects.get(task=tasks[0], annotator=annotators[1])
    edited.value = {"label": "unverifiable"}
    edited.save()
    stale = gold_of_first()
    assert (stale["stale"], stale["annotations_since"]) == (True, 2)
