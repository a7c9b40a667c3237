"""The agreement-runs and disputed-queue API: contract shape, roles, history, query counts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from labeling.agreement_runs.runs import execute_agreement_run
from labeling.models import AgreementRun, GoldLabel, GoldMethod
from tests.factories import add_documents, make_project
from tests.test_agreement_runs import TABLE, annotate, label_tasks, sentences_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(make_user):
    lead = make_user("lead")
    annotators = [make_user(f"ann{i}") for i in range(3)]
    project = make_project(lead=lead, annotators=annotators, overlap=3)
    add_documents(project, [sentences_text(5)])
    tasks = label_tasks(project)
    annotate(tasks, annotators, TABLE)
    return project, lead, annotators, tasks


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def start_run(client: APIClient, project, kind: str = "verifiability", capture=None):
    with capture(execute=True):
        return client.post(f"/api/projects/{project.pk}/agreement-runs/", {"kind": kind})


def test_lead_starts_a_run_and_reads_the_contract_result(setup, django_capture_on_commit_callbacks):
    project, lead, *_ = setup
    client = client_for(lead)
    response = start_run(client, project, capture=django_capture_on_commit_callbacks)
    assert response.status_code == 202, response.content
    run_id = response.json()["id"]
    assert response.json()["status"] in {"queued", "running", "done"}
    body = client.get(f"/api/agreement-runs/{run_id}/").json()
    assert body["status"] == "done"
    assert body["progress"] == 1.0
    result = body["result"]
    for key in ("alpha", "percent_agreement", "pairwise", "per_label", "coincidence"):
        assert key in result
    assert result["n_items"] == 5
    assert result["n_annotations"] == 12
    low, high = result["alpha_ci95"]
    assert low <= result["alpha"] <= high
    assert {"fleiss_kappa", "gwet_ac1", "cohen_kappa", "scott_pi", "most_disputed"} <= set(result)


def test_result_is_hidden_until_the_run_is_done(setup):
    project, lead, *_ = setup
    run = AgreementRun.objects.create(project=project, kind="verifiability", status="running")
    AgreementRun.objects.filter(pk=run.pk).update(progress=0.4, result={"alpha": 1.0})
    body = client_for(lead).get(f"/api/agreement-runs/{run.pk}/").json()
    assert body["status"] == "running"
    assert body["progress"] == 0.4
    assert body["result"] is None


def test_unknown_kind_is_refused_naming_the_field(setup):
    project, lead, *_ = setup
    response = client_for(lead).post(
        f"/api/projects/{project.pk}/agreement-runs/", {"kind": "sentiment"}
    )
    assert response.status_code == 400
    assert "kind" in response.json()["errors"]


def test_kind_without_a_schema_is_refused(make_user):
    lead = make_user("lead")
    project = make_project(lead=lead, schemas=[{"kind": "verifiability", "labels": ["yes", "no"]}])
    response = client_for(lead).post(
        f"/api/projects/{project.pk}/agreement-runs/", {"kind": "stance"}
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"kind": ["this project has no stance schema"]}


def test_annotators_cannot_see_or_start_runs(setup, make_user):
    project, _, annotators, _ = setup
    run = AgreementRun.objects.create(project=project, kind="verifiability")
    execute_agreement_run(run.pk)
    annotator = client_for(annotators[0])
    # A member without the lead role gets 403 (permissions' convention); nothing leaks.
    for response in (
        annotator.get(f"/api/agreement-runs/{run.pk}/"),
        annotator.get(f"/api/projects/{project.pk}/agreement-runs/"),
        annotator.post(f"/api/projects/{project.pk}/agreement-runs/", {"kind": "verifiability"}),
        annotator.get(f"/api/projects/{project.pk}/disputed/?kind=verifiability"),
    ):
        assert response.status_code == 403
        assert "alpha" not in response.content.decode()
    assert AgreementRun.objects.count() == 1


def test_outsiders_get_404_as_for_missing_runs(setup, make_user):
    project, *_ = setup
    run = AgreementRun.objects.create(project=project, kind="verifiability")
    outsider = client_for(make_user("outsider"))
    assert outsider.get(f"/api/agreement-runs/{run.pk}/").status_code == 404
    assert outsider.get(f"/api/agreement-runs/{run.pk + 1000}/").status_code == 404
    assert outsider.get(f"/api/projects/{project.pk}/agreement-runs/").status_code == 404
    assert APIClient().get(f"/api/agreement-runs/{run.pk}/").status_code in {401, 403}


def test_staff_see_every_run(setup, make_user):
    project, *_ = setup
    run = AgreementRun.objects.create(project=project, kind="verifiability")
    staff = client_for(make_user("admin", is_staff=True))
    assert staff.get(f"/api/agreement-runs/{run.pk}/").status_code == 200


def test_history_lists_runs_newest_first_with_headline_figures(setup):
    project, lead, *_ = setup
    runs = [AgreementRun.objects.create(project=project, kind="verifiability") for _ in range(2)]
    AgreementRun.objects.create(project=project, kind="stance")
    execute_agreement_run(runs[1].pk)
    body = client_for(lead).get(f"/api/projects/{project.pk}/agreement-runs/?kind=verifiability")
    assert body.status_code == 200
    page = body.json()
    assert page["count"] == 2
    assert [r["id"] for r in page["results"]] == [runs[1].pk, runs[0].pk]
    done, queued = page["results"]
    runs[1].refresh_from_db()
    assert done["summary"]["alpha"] == runs[1].result["alpha"]
    assert done["summary"]["alpha_ci95"] == runs[1].result["alpha_ci95"]
    assert done["summary"]["n_items"] == 5
    assert queued["summary"] is None
    assert "result" not in done


def test_history_queries_do_not_grow_with_runs(setup):
    project, lead, *_ = setup
    client = client_for(lead)

    def queries_for(n_runs: int) -> int:
        for _ in range(n_runs):
            run = AgreementRun.objects.create(project=project, kind="verifiability")
            execute_agreement_run(run.pk)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(f"/api/projects/{project.pk}/agreement-runs/")
        assert response.status_code == 200
        return len(ctx.captured_queries)

    assert queries_for(2) == queries_for(6)


def test_disputed_queue_lists_most_disputed_first_without_adjudicated(setup):
    project, lead, annotators, tasks = setup
    run = AgreementRun.objects.create(project=project, kind="verifiability")
    execute_agreement_run(run.pk)
    client = client_for(lead)
    page = client.get(f"/api/projects/{project.pk}/disputed/?kind=verifiability").json()
    assert [t["task_id"] for t in page["results"]] == [tasks[3].pk, tasks[1].pk]
    top = page["results"][0]
    assert top["sentence"]["text"] == tasks[3].sentence.text
    assert top["run_id"] == run.pk
    assert len(top["annotations"]) == 3
    assert top["gold"] is None
    GoldLabel.objects.create(
        task=tasks[3], value={"label": "verifiable"}, method=GoldMethod.ADJUDICATED, decided_by=lead
    )
    page = client.get(f"/api/projects/{project.pk}/disputed/?kind=verifiability").json()
    assert [t["task_id"] for t in page["results"]] == [tasks[1].pk]
    page = client.get(
        f"/api/projects/{project.pk}/disputed/?kind=verifiability&include_adjudicated=true"
    ).json()
    assert page["results"][0]["gold"]["method"] == "adjudicated"


def test_disputed_queue_needs_a_kind_and_is_empty_before_any_run(setup):
    project, lead, *_ = setup
    client = client_for(lead)
    response = client.get(f"/api/projects/{project.pk}/disputed/")
    assert response.status_code == 400
    assert "kind" in response.json()["errors"]
    page = client.get(f"/api/projects/{project.pk}/disputed/?kind=stance").json()
    assert page["count"] == 0


def test_disputed_queue_queries_do_not_grow_with_tasks(make_user):
    lead = make_user("lead")
    annotators = [make_user(f"ann{i}") for i in range(2)]
    client = client_for(lead)

    def queries_for(n_tasks: int) -> int:
        project = make_project(lead=lead, annotators=annotators, name=f"P{n_tasks}")
        add_documents(project, [sentences_text(n_tasks)])
        annotate(label_tasks(project), annotators, [["verifiable", "unverifiable"]] * n_tasks)
        run = AgreementRun.objects.create(project=project, kind="verifiability")
        execute_agreement_run(run.pk)
        with CaptureQueriesContext(connection) as ctx:
            page = client.get(f"/api/projects/{project.pk}/disputed/?kind=verifiability").json()
        assert len(page["results"]) == min(n_tasks, 50)
        return len(ctx.captured_queries)

    assert queries_for(5) == queries_for(60)


def test_openapi_schema_documents_the_agreement_routes(setup):
    project, lead, *_ = setup
    response = client_for(lead).get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    text = response.content.decode()
    for route in (
        "/api/projects/{project_id}/agreement-runs/",
        "/api/agreement-runs/{run_id}/",
        "/api/projects/{project_id}/disputed/",
    ):
        assert route in text
