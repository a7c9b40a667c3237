"""Quality control through the API: controls, pausing, qualification, assignments, quotas."""

from __future__ import annotations

import json

import pytest

from labeling.models import Annotation, Assignment, Task
from labeling.quality.models import (
    CONTROL_OVERLAP,
    AnnotatorState,
    QualitySettings,
    Reservation,
)
from tests.api_helpers import client_for
from tests.factories import add_documents, make_project

pytestmark = pytest.mark.django_db

VERIF = [{"kind": "verifiability", "labels": ["verifiable", "unverifiable", "not_a_claim"]}]
TEXTS = [" ".join(f"Sentence {j} of document {i}." for j in range(5)) for i in range(4)]


@pytest.fixture
def setup(make_user):
    lead = make_user("lead")
    anns = [make_user(f"a{i}") for i in range(3)]
    project = make_project(lead=lead, annotators=anns, overlap=2, schemas=VERIF)
    docs = add_documents(project, TEXTS)
    return project, lead, anns, docs


def _tasks(project) -> list[Task]:
    return list(Task.objects.filter(project=project).order_by("document_id", "position"))


def _next(client, project):
    return client.get(f"/api/projects/{project.pk}/next-task/?kind=verifiability")


def _put(client, task_id, label="verifiable"):
    return client.put(
        f"/api/tasks/{task_id}/annotation/", {"value": {"label": label}}, format="json"
    )


def _settings(project, **values) -> None:
    QualitySettings.objects.update_or_create(project=project, defaults=values)


# --- controls -------------------------------------------------------------------------


def test_lead_sets_controls_and_they_leave_the_regular_queue(setup) -> None:
    project, lead, anns, _ = setup
    tasks = _tasks(project)
    body = [{"task": tasks[0].pk, "value": {"label": "verifiable"}}]
    response = client_for(lead).post(f"/api/projects/{project.pk}/controls/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()[0]["task"] == tasks[0].pk
    assert Task.objects.get(pk=tasks[0].pk).overlap == CONTROL_OVERLAP
    # control_rate is 0: the control is never offered, the regular queue skips it
    got = _next(client_for(anns[0]), project)
    assert got.status_code == 200
    assert got.json()["id"] == tasks[1].pk
    listed = client_for(lead).get(f"/api/projects/{project.pk}/controls/").json()
    assert [c["task"] for c in listed["results"]] == [tasks[0].pk]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([{"task": 0, "value": {"label": "verifiable"}}], "[0].task"),
        ([{"task": "x", "value": {"label": "verifiable"}}], "[0].task"),
        ([{"value": {"label": "verifiable"}}], "[0].task"),
        ([{"task": "TASK"}], "[0].value"),
        ([{"task": "TASK", "value": {"label": "nonsense"}}], "[0].value.label"),
        ([{"task": "OTHER", "value": {"label": "verifiable"}}], "[0].task"),
        ([], ""),
        (["oops"], "[0]"),
    ],
)
def test_bad_controls_get_400_naming_the_field_and_store_nothing(
    setup, make_user, body, field
) -> None:
    project, lead, _, _ = setup
    other = make_project(lead=make_user("olead"), schemas=VERIF, name="B")
    add_documents(other, TEXTS[:1])
    task = _tasks(project)[0].pk
    other_task = _tasks(other)[0].pk
    for item in body:
        if isinstance(item, dict) and item.get("task") == "TASK":
            item["task"] = task
        if isinstance(item, dict) and item.get("task") == "OTHER":
            item["task"] = other_task
    response = client_for(lead).post(f"/api/projects/{project.pk}/controls/", body, format="json")
    assert response.status_code == 400, response.json()
    data = response.json()
    assert data["code"] == "invalid"
    if field:
        assert field in data["errors"], data
    assert not project.controls.exists()


def test_controls_at_full_rate_are_served_once_each_and_judged(setup) -> None:
    project, lead, anns, _ = setup
    tasks = _tasks(project)
    client = client_for(lead)
    client.post(
        f"/api/projects/{project.pk}/controls/",
        [
            {"task": tasks[0].pk, "value": {"label": "verifiable"}},
            {"task": tasks[1].pk, "value": {"label": "not_a_claim"}},
        ],
        format="json",
    )
    _settings(project, control_rate=1.0)
    ann = client_for(anns[0])
    served = []
    for _ in range(3):
        got = _next(ann, project)
        served.append(got.json()["id"])
        answer = _put(ann, got.json()["id"], "verifiable")
        assert answer.status_code == 200
        assert "feedback" not in answer.json()  # silent controls look like any task
    assert sorted(served[:2]) == [tasks[0].pk, tasks[1].pk]
    assert served[2] not in (tasks[0].pk, tasks[1].pk)  # never twice: back to real tasks
    report = {
        r["username"]: r for r in client.get(f"/api/projects/{project.pk}/annotators/").json()
    }
    assert report["a0"]["control_accuracy"] == 0.5
    assert report["a0"]["n_control_answers"] == 2
    assert report["a0"]["n_annotations"] == 1  # control answers are not dataset annotations
    assert report["a1"]["control_accuracy"] is None
    assert report["a1"]["status"] == "active"


def test_control_payload_has_the_same_shape_as_a_real_task(setup) -> None:
    project, lead, anns, _ = setup
    tasks = _tasks(project)
    client_for(lead).post(
        f"/api/projects/{project.pk}/controls/",
        [{"task": tasks[3].pk, "value": {"label": "verifiable"}}],
        format="json",
    )
    _settings(project, control_rate=1.0)
    control = _next(client_for(anns[0]), project).json()
    real = _next(client_for(anns[1]), project).json()  # a1 gets the control too
    _settings(project, control_rate=0.0)
    real = _next(client_for(anns[2]), project).json()
    assert control["id"] == tasks[3].pk
    assert real["id"] != tasks[3].pk
    assert set(control) == set(real)
    assert set(control["lease"]) == set(real["lease"])


# --- pausing --------------------------------------------------------------------------


def test_paused_annotator_gets_a_clear_403_until_resumed(setup) -> None:
    project, lead, anns, _ = setup
    held = _next(client_for(anns[0]), project).json()["id"]
    url = f"/api/projects/{project.pk}/annotators/{anns[0].pk}/"
    response = client_for(lead).patch(
        url, {"status": "paused", "paused_reason": "check the guidelines"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "paused"
    got = _next(client_for(anns[0]), project)
    assert got.status_code == 403
    assert got.json()["code"] == "annotator_paused"
    assert "check the guidelines" in got.json()["detail"]
    # the held lease went back to the pool
    assert Task.objects.get(pk=held).n_assigned == 0
    client_for(lead).patch(url, {"status": "active"}, format="json")
    assert _next(client_for(anns[0]), project).status_code == 200


def test_low_control_accuracy_pauses_the_annotator(setup) -> None:
    project, lead, anns, _ = setup
    tasks = _tasks(project)
    client_for(lead).post(
        f"/api/projects/{project.pk}/controls/",
        [{"task": t.pk, "value": {"label": "not_a_claim"}} for t in tasks[:3]],
        format="json",
    )
    _settings(project, control_rate=1.0, pause_below=0.5, min_control_answers=2)
    ann = client_for(anns[0])
    for _ in range(2):
        _put(ann, _next(ann, project).json()["id"], "verifiable")
    got = _next(ann, project)
    assert got.status_code == 403
    assert got.json()["code"] == "annotator_paused"
    assert AnnotatorState.objects.get(project=project, user=anns[0]).status == "paused"


def test_annotator_patch_validates_and_hides_other_projects(setup, make_user) -> None:
    project, lead, anns, _ = setup
    url = f"/api/projects/{project.pk}/annotators/{anns[0].pk}/"
    bad = client_for(lead).patch(url, {"status": "sleeping"}, format="json")
    assert bad.status_code == 400
    assert "status" in bad.json()["errors"]
    bad = client_for(lead).patch(url, {"quota_total": -1}, format="json")
    assert "quota_total" in bad.json()["errors"]
    stranger = make_user("stranger")
    missing = f"/api/projects/{project.pk}/annotators/{stranger.pk}/"
    assert client_for(lead).patch(missing, {"status": "paused"}, format="json").status_code == 404


# --- qualification --------------------------------------------------------------------


def test_qualification_gives_feedback_then_real_tasks_after_passing(setup) -> None:
    project, lead, anns, _ = setup
    project.guidelines = "Claims can be checked."
    project.save()
    tasks = _tasks(project)
    client_for(lead).post(
        f"/api/projects/{project.pk}/controls/",
        [{"task": t.pk, "value": {"label": "verifiable"}} for t in tasks[:3]],
        format="json",
    )
    _settings(project, qualification_size=2, qualification_accuracy=0.5)
    ann = client_for(anns[0])
    first = _next(ann, project).json()["id"]
    assert first in {t.pk for t in tasks[:3]}
    answer = _put(ann, first, "not_a_claim").json()
    assert answer["feedback"] == {
        "correct": False,
        "answer": {"label": "verifiable"},
        "guidelines": "Claims can be checked.",
    }
    second = _next(ann, project).json()["id"]
    assert _put(ann, second, "verifiable").json()["feedback"]["correct"] is True
    third = _next(ann, project).json()["id"]
    assert third not in {t.pk for t in tasks[:3]}  # passed (1/2 >= 0.5): real tasks now
    assert "feedback" not in _put(ann, third).json()
    row = next(
        r
        for r in client_for(lead).get(f"/api/projects/{project.pk}/annotators/").json()
        if r["username"] == "a0"
    )
    assert row["qualification"]["status"] == "passed"
    assert row["qualification"]["wrong_tasks"] == [first]
    assert row["control_accuracy"] is None  # qualification answers are not silent controls


def test_failed_qualification_blocks_real_tasks(setup) -> None:
    project, lead, anns, _ = setup
    tasks = _tasks(project)
    client_for(lead).post(
        f"/api/projects/{project.pk}/controls/",
        [{"task": t.pk, "value": {"label": "verifiable"}} for t in tasks[:2]],
        format="json",
    )
    _settings(project, qualification_size=2, qualification_accuracy=0.8)
    ann = client_for(anns[0])
    for _ in range(2):
        _put(ann, _next(ann, project).json()["id"], "not_a_claim")
    got = _next(ann, project)
    assert got.status_code == 403
    assert got.json()["code"] == "qualification_failed"
    assert not Assignment.objects.filter(annotator=anns[0], task__control__isnull=True).exists()


# --- assignments and quotas -----------------------------------------------------------


def test_assigned_documents_come_first_and_go_to_no_one_else(make_user) -> None:
    lead = make_user("lead")
    anns = [make_user(f"a{i}") for i in range(2)]
    project = make_project(lead=lead, annotators=anns, overlap=1, schemas=VERIF)
    docs = add_documents(project, TEXTS)
    response = client_for(lead).post(
        f"/api/projects/{project.pk}/assignments/",
        {"username": "a1", "documents": [docs[2]]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    reserved = set(response.json()["reserved"])
    assert len(reserved) == 5
    other = client_for(anns[0])
    seen = set()
    while (got := _next(other, project)).status_code == 200:
        seen.add(got.json()["id"])
        _put(other, got.json()["id"])
    assert seen.isdisjoint(reserved)
    assert len(seen) == 15
    mine = client_for(anns[1])
    first = _next(mine, project).json()
    assert first["id"] in reserved
    assert first["document"]["id"] == docs[2]
    summary = client_for(lead).get(f"/api/projects/{project.pk}/assignments/").json()
    assert summary == [{"user": anns[1].pk, "username": "a1", "n_reserved": 4}]


def test_assign_a_count_and_release_it(setup) -> None:
    project, lead, anns, _ = setup
    client = client_for(lead)
    url = f"/api/projects/{project.pk}/assignments/"
    body = client.post(url, {"username": "a0", "count": 3}, format="json").json()
    assert len(body["reserved"]) == 3
    tasks = Task.objects.filter(pk__in=body["reserved"])
    assert all(t.n_assigned == 1 for t in tasks)
    assert client.delete(f"{url}{anns[0].pk}/").status_code == 204
    assert all(t.n_assigned == 0 for t in Task.objects.filter(pk__in=body["reserved"]))
    assert not Reservation.objects.exists()
    share = client.post(url, {"username": "a1", "share": 0.5}, format="json").json()
    assert len(share["reserved"]) == 10


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "nobody", "count": 1}, "username"),
        ({"username": "a0"}, "documents"),
        ({"username": "a0", "count": 1, "share": 0.5}, "documents"),
        ({"username": "a0", "documents": ["x"]}, "documents[0]"),
        ({"username": "a0", "documents": [999999]}, "documents[0]"),
        ({"username": "a0", "share": 2}, "share"),
        ({"username": "a0", "count": 0}, "count"),
    ],
)
def test_bad_assignments_get_400_naming_the_field(setup, body, field) -> None:
    project, lead, _, _ = setup
    response = client_for(lead).post(
        f"/api/projects/{project.pk}/assignments/", body, format="json"
    )
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"], response.json()
    assert not Reservation.objects.exists()


def test_total_quota_is_never_exceeded(setup) -> None:
    project, lead, anns, _ = setup
    client_for(lead).patch(
        f"/api/projects/{project.pk}/annotators/{anns[0].pk}/", {"quota_total": 2}, format="json"
    )
    ann = client_for(anns[0])
    for _ in range(2):
        assert _put(ann, _next(ann, project).json()["id"]).status_code == 200
    assert _next(ann, project).status_code == 204
    assert Annotation.objects.filter(annotator=anns[0]).count() == 2


def test_daily_quota_from_project_settings(setup) -> None:
    project, lead, anns, _ = setup
    client_for(lead).patch(
        f"/api/projects/{project.pk}/quality/", {"quota_per_day": 1}, format="json"
    )
    ann = client_for(anns[1])
    assert _put(ann, _next(ann, project).json()["id"]).status_code == 200
    assert _next(ann, project).status_code == 204
    Assignment.objects.filter(annotator=anns[1]).update(
        leased_at="2020-01-01T00:00:00Z"
    )  # yesterday's work does not count today
    assert _next(ann, project).status_code == 200


def test_settings_validate_and_name_the_field(setup) -> None:
    project, lead, _, _ = setup
    url = f"/api/projects/{project.pk}/quality/"
    bad = client_for(lead).patch(url, {"control_rate": 1.5}, format="json")
    assert bad.status_code == 400
    assert "control_rate" in bad.json()["errors"]
    ok = client_for(lead).patch(
        url, {"control_rate": 0.1, "escalation_enabled": True}, format="json"
    )
    assert ok.status_code == 200
    assert client_for(lead).get(url).json()["control_rate"] == 0.1


def test_annotator_report_has_constant_queries(setup, django_assert_num_queries, make_user) -> None:
    project, lead, anns, _ = setup
    for ann in anns[:1]:
        c = client_for(ann)
        _put(c, _next(c, project).json()["id"])
    from labeling.quality.reports import annotator_report

    with django_assert_num_queries(11):
        annotator_report(project=project)
    for i in range(4):
        from labeling.projects import add_member

        add_member(project=project, username=make_user(f"extra{i}").username, role="annotator")
    for ann in anns:
        c = client_for(ann)
        _put(c, _next(c, project).json()["id"])
    with django_assert_num_queries(11):
        rows = annotator_report(project=project)
    assert len(rows) == 7


def test_control_answers_stay_out_of_agreement_gold_export_and_progress(setup) -> None:
    from labeling.agreement_runs.runs import compute_run_result
    from labeling.review.gold import aggregate_gold

    project, lead, anns, _ = setup
    tasks = _tasks(project)
    control = tasks[0].pk
    client_for(lead).post(
        f"/api/projects/{project.pk}/controls/",
        [{"task": control, "value": {"label": "verifiable"}}],
        format="json",
    )
    _settings(project, control_rate=1.0)
    for ann in anns:
        c = client_for(ann)
        assert _next(c, project).json()["id"] == control
        _put(c, control)
    _settings(project, control_rate=0.0)
    for ann in anns[:2]:
        c = client_for(ann)
        _put(c, _next(c, project).json()["id"])
    assert Annotation.objects.filter(task_id=control).count() == 3
    result, _ = compute_run_result(project_id=project.pk, kind="verifiability", bootstrap_draws=10)
    assert result["n_annotations"] == 2
    aggregate_gold(project=project, kind="verifiability")
    assert not Task.objects.filter(pk=control, gold__isnull=False).exists()
    export = client_for(lead).get(f"/api/projects/{project.pk}/export/?format=jsonl")
    lines = b"".join(export.streaming_content).decode().splitlines()

    records = [json.loads(line) for line in lines]
    exported = {r["task_id"] for r in records if "task_id" in r}  # the last line: a trailer
    assert control not in exported
    assert exported  # the real annotated task is there
    progress = client_for(lead).get(f"/api/projects/{project.pk}/progress/").json()
    assert sum(k["n_annotations"] for k in progress["by_kind"]) == 2
    assert sum(k["n_tasks"] for k in progress["by_kind"]) == len(tasks) - 1


# --- priorities -----------------------------------------------------------------------


def test_prioritized_documents_come_first_in_reading_order(setup) -> None:
    project, lead, anns, docs = setup
    url = f"/api/projects/{project.pk}/priorities/"
    body = [{"document": docs[2], "priority": 5}, {"document": docs[1], "priority": 9}]
    response = client_for(lead).put(url, body, format="json")
    assert response.status_code == 200, response.json()
    assert [p["document"] for p in response.json()] == [docs[1], docs[2]]
    ann = client_for(anns[0])
    order = []
    for _ in range(12):
        got = _next(ann, project).json()
        order.append((got["document"]["id"], got["sentence"]["position"]))
        _put(ann, got["id"])
    expected = [(docs[1], p) for p in range(5)] + [(docs[2], p) for p in range(5)]
    assert order[:10] == expected
    # then the regular queue, from where the annotator is in reading order
    assert order[10:] == [(docs[3], 0), (docs[3], 1)]
    client_for(lead).put(url, [{"document": docs[1], "priority": 0}], format="json")
    assert [p["document"] for p in client_for(lead).get(url).json()] == [docs[2]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([{"document": "DOC", "priority": -1}], "[0].priority"),
        ([{"document": "DOC", "priority": "high"}], "[0].priority"),
        ([{"document": 999999, "priority": 1}], "[0].document"),
        ([{"priority": 1}], "[0].document"),
        ({"document": "DOC", "priority": 1}, ""),
    ],
)
def test_bad_priorities_get_400_naming_the_field(setup, body, field) -> None:
    from labeling.quality.models import DocumentPriority

    project, lead, _, docs = setup
    items = body if isinstance(body, list) else [body]
    for item in items:
        if item.get("document") == "DOC":
            item["document"] = docs[0]
    response = client_for(lead).put(f"/api/projects/{project.pk}/priorities/", body, format="json")
    assert response.status_code == 400, response.json()
    if field:
        assert field in response.json()["errors"], response.json()
    assert not DocumentPriority.objects.exists()


def test_report_shows_pairwise_alpha_and_dawid_skene_from_the_latest_results(setup) -> None:
    from labeling.models import AgreementRun, GoldJob

    project, lead, anns, _ = setup
    a0, a1, a2 = (a.pk for a in anns)
    AgreementRun.objects.create(
        project=project,
        kind="verifiability",
        status="done",
        result={"pairwise": [{"a": a0, "b": a1, "n_shared": 1, "alpha": 0.0}]},
    )
    AgreementRun.objects.create(
        project=project,
        kind="verifiability",
        status="done",
        result={
            "pairwise": [
                {"a": a0, "b": a1, "n_shared": 30, "alpha": 0.9},
                {"a": a0, "b": a2, "n_shared": 10, "alpha": 0.5},
                {"a": a1, "b": a2, "n_shared": 0, "alpha": None},
            ],
            "per_annotator": [
                {"id": a0, "username": "a0", "alpha_without": 0.2, "alpha_delta": 0.4},
            ],
        },
    )
    AgreementRun.objects.create(project=project, kind="verifiability", status="failed")
    job = GoldJob.objects.create(
        project=project,
        operation="accuracy",
        kind="verifiability",
        status="done",
        result={"annotators": [{"annotator_id": a2, "accuracy": 0.75}]},
    )
    rows = {
        r["username"]: r
        for r in client_for(lead).get(f"/api/projects/{project.pk}/annotators/").json()
    }
    assert rows["a0"]["agreement_with_others"][0]["pairwise_alpha"] == pytest.approx(0.8)
    assert rows["a0"]["agreement_with_others"][0]["alpha_without"] == 0.2
    assert rows["a0"]["agreement_with_others"][0]["alpha_delta"] == 0.4
    assert rows["a1"]["agreement_with_others"][0]["alpha_without"] is None
    assert rows["a1"]["agreement_with_others"][0]["pairwise_alpha"] == pytest.approx(0.9)
    assert rows["a2"]["dawid_skene_accuracy"] == [
        {"kind": "verifiability", "job": job.pk, "accuracy": 0.75}
    ]
    assert rows["a0"]["dawid_skene_accuracy"] == []


def test_report_reads_a_real_agreement_runs_leave_one_out(
    setup, django_capture_on_commit_callbacks
) -> None:
    from labeling.agreement_runs.runs import request_agreement_run

    project, lead, anns, _ = setup
    for i, ann in enumerate(anns):
        c = client_for(ann)
        for j in range(6):
            _put(c, _next(c, project).json()["id"], ["verifiable", "not_a_claim"][(i * j) % 2])
    with django_capture_on_commit_callbacks(execute=True):
        run = request_agreement_run(project=project, kind="verifiability", user=lead)
    run.refresh_from_db()
    assert run.status == "done", run.error
    rows = client_for(lead).get(f"/api/projects/{project.pk}/annotators/").json()
    for row in rows:
        (entry,) = row["agreement_with_others"]
        assert entry["run"] == run.pk
        assert "alpha_without" in entry
    ids = {r["id"] for r in run.result["per_annotator"]}
    assert ids == {a.pk for a in anns}


def test_a_control_without_value_takes_the_tasks_adjudicated_gold(setup) -> None:
    from labeling.quality.models import ControlQuestion
    from labeling.review.gold import adjudicate

    project, lead, _, _ = setup
    task = _tasks(project)[2]
    adjudicate(task=task, value={"label": "not_a_claim"}, user=lead)
    url = f"/api/projects/{project.pk}/controls/"
    response = client_for(lead).post(url, [{"task": task.pk}], format="json")
    assert response.status_code == 201, response.json()
    assert ControlQuestion.objects.get(task=task).value == {"label": "not_a_claim"}


def test_removing_a_member_releases_their_reservations(setup) -> None:
    project, lead, anns, _ = setup
    url = f"/api/projects/{project.pk}/assignments/"
    reserved = client_for(lead).post(url, {"username": "a0", "count": 2}, format="json").json()
    assert Task.objects.get(pk=reserved["reserved"][0]).n_assigned == 1
    client_for(lead).delete(f"/api/projects/{project.pk}/members/{anns[0].pk}/")
    assert not Reservation.objects.exists()
    assert Task.objects.get(pk=reserved["reserved"][0]).n_assigned == 0


def test_a_lead_may_set_quotas_of_any_member_even_one_without_annotations(setup) -> None:
    project, lead, _, _ = setup
    url = f"/api/projects/{project.pk}/annotators/{lead.pk}/"
    response = client_for(lead).patch(url, {}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["username"] == "lead"
    response = client_for(lead).patch(url, {"quota_total": 3}, format="json")
    assert response.json()["quota_total"] == 3
