"""Issue 12's views: agreement per document, Dawid-Skene beside leave-one-out, and the split
by suggestion, through the job, the API and the dashboard."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from labeling.agreement_runs.runs import request_agreement_run
from labeling.models import AgreementRun, Annotation, Document
from tests.factories import add_documents, make_project
from tests.test_agreement_runs import annotate, label_tasks

pytestmark = pytest.mark.django_db

V, U, N = "verifiable", "unverifiable", "not_a_claim"
# Emoji, a flag, CJK and a combining mark before the disputed sentence: offsets are code
# points by default and UTF-16 units on request.
DISPUTED_DOC = "Intro 😀🇺🇦 東京 e\u0301.\nThey said so.\nIt rained.\nPrices rose.\nNo one knew."
CALM_DOC = "\n".join(f"Calm sentence {i}." for i in range(8))
TINY_DOC = "Only one line here."


@pytest.fixture
def world(make_user, django_capture_on_commit_callbacks):
    lead = make_user("lead")
    annotators = [make_user(f"ann{i}") for i in range(3)]
    project = make_project(lead=lead, annotators=annotators, overlap=3)
    add_documents(project, [DISPUTED_DOC, CALM_DOC, TINY_DOC])
    tasks = label_tasks(project)
    docs = {d.title: d for d in Document.objects.filter(project=project)}
    by_doc: dict[int, list] = {}
    for task in tasks:
        by_doc.setdefault(task.document_id, []).append(task)
    disputed, calm, tiny = (by_doc[docs[f"Doc {i}"].pk] for i in range(3))
    annotate(disputed, annotators, [[V, U, N], [V, V, U], [N, N, N], [V, U, V], [U, U, N]])
    annotate(calm, annotators, [[(V, U, N)[i % 3]] * 3 for i in range(len(calm))])
    annotate(tiny, annotators, [[V, V, None]])
    with django_capture_on_commit_callbacks(execute=True):
        run = request_agreement_run(project=project, kind="verifiability", user=lead)
    run.refresh_from_db()
    assert run.status == "done", run.error
    return {
        "project": project,
        "lead": lead,
        "annotators": annotators,
        "run": run,
        "docs": [docs[f"Doc {i}"] for i in range(3)],
        "disputed_tasks": disputed,
    }


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_run_result_has_alpha_per_document_with_interval_and_warnings(world):
    per_document = {e["document_id"]: e for e in world["run"].result["per_document"]}
    disputed, calm, tiny = (per_document[d.pk] for d in world["docs"])
    assert disputed["title"] == "Doc 0"
    assert disputed["n_items"] == 5
    assert disputed["n_annotations"] == 15
    assert disputed["alpha"] < 0.5
    assert calm["alpha"] == 1.0
    assert disputed["alpha_interval"]["n_draws"] > 0
    assert disputed["alpha_ci95"][0] <= disputed["alpha"] <= disputed["alpha_ci95"][1]
    # The disputed sentences, most disputed first, as tasks with their sentence.
    scores = [d["score"] for d in disputed["disputed"]]
    assert scores == sorted(scores, reverse=True)
    assert len(scores) == disputed["n_disputed"] == 4
    positions = {d["task_id"]: d["position"] for d in disputed["disputed"]}
    assert world["disputed_tasks"][2].pk not in positions  # unanimous: not disputed
    assert calm["n_disputed"] == 0
    assert calm["disputed"] == []
    # One pair of values: a document that cannot tell agreement says so.
    assert tiny["n_pairable_values"] == 2
    assert tiny["alpha"] is None
    assert tiny["alpha_ci95"] is None
    assert [w["code"] for w in tiny["warnings"]] == ["too_few_pairable_values"]


def test_documents_api_sorts_pages_and_refuses_an_unknown_ordering(world):
    client = client_for(world["lead"])
    url = f"/api/agreement-runs/{world['run'].pk}/documents/"
    ids = [d.pk for d in world["docs"]]
    body = client.get(url).json()
    assert [e["document_id"] for e in body["results"]] == [ids[0], ids[1], ids[2]]  # None last
    body = client.get(url, {"ordering": "-alpha"}).json()
    assert [e["document_id"] for e in body["results"]] == [ids[1], ids[0], ids[2]]
    body = client.get(url, {"ordering": "-n_disputed"}).json()
    assert body["results"][0]["document_id"] == ids[0]
    bad = client.get(url, {"ordering": "title"})
    assert bad.status_code == 400
    assert "ordering" in bad.content.decode()


def test_document_detail_lists_its_disputed_sentences_with_answers(world):
    client = client_for(world["lead"])
    doc = world["docs"][0]
    url = f"/api/agreement-runs/{world['run'].pk}/documents/{doc.pk}/"
    body = client.get(url).json()
    assert body["alpha"] == pytest.approx(world["run"].result["per_document"][0]["alpha"])
    first = body["disputed"][0]
    sentence = first["sentence"]
    assert doc.text[sentence["start"] : sentence["end"]] == sentence["text"]
    assert len(first["annotations"]) == 3
    assert {a["username"] for a in first["annotations"]} == {"ann0", "ann1", "ann2"}
    # The first sentence holds emoji, a flag, CJK and a combining mark: UTF-16 offsets differ.
    opener = next(d for d in body["disputed"] if d["sentence"]["position"] == 0)
    utf16 = client.get(url, {"offset_unit": "utf16"}).json()
    later = next(d for d in utf16["disputed"] if d["sentence"]["position"] == 1)
    plain = next(d for d in body["disputed"] if d["sentence"]["position"] == 1)
    assert opener["sentence"]["text"].startswith("Intro 😀🇺🇦 東京")
    assert later["sentence"]["start"] == plain["sentence"]["start"] + 3  # three astral chars
    assert client.get(f"/api/agreement-runs/{world['run'].pk}/documents/999999/").status_code == 404


def test_document_views_follow_the_run_access_rules(world, make_user):
    run = world["run"]
    urls = [
        f"/api/agreement-runs/{run.pk}/documents/",
        f"/api/agreement-runs/{run.pk}/documents/{world['docs'][0].pk}/",
    ]
    annotator = client_for(world["annotators"][0])
    outsider = client_for(make_user("outsider"))
    for url in urls:
        assert annotator.get(url).status_code == 403
        assert outsider.get(url).status_code == 404
    missing = f"/api/agreement-runs/{run.pk + 1000}/documents/"
    assert outsider.get(missing).status_code == 404
    queued = AgreementRun.objects.create(project=world["project"], kind="verifiability")
    response = client_for(world["lead"]).get(f"/api/agreement-runs/{queued.pk}/documents/")
    assert response.status_code == 400
    assert "run" in response.content.decode()


def test_documents_list_reads_a_constant_number_of_queries(world, django_assert_max_num_queries):
    client = client_for(world["lead"])
    with django_assert_max_num_queries(6):
        assert client.get(f"/api/agreement-runs/{world['run'].pk}/documents/").status_code == 200


def test_per_annotator_rows_carry_dawid_skene_beside_leave_one_out(world):
    rows = world["run"].result["per_annotator"]
    assert {r["username"] for r in rows} == {"ann0", "ann1", "ann2"}
    for row in rows:
        assert 0.0 <= row["dawid_skene_accuracy"] <= 1.0
        assert "alpha_without" in row
    assert world["run"].result["dawid_skene"]["n_iter"] >= 1


def test_the_result_splits_agreement_by_suggestion(world, django_capture_on_commit_callbacks):
    project, lead = world["project"], world["lead"]
    ann0, ann1, _ = world["annotators"]
    Annotation.objects.filter(task__project=project, annotator__in=[ann0, ann1]).update(
        from_suggestion=True
    )
    with django_capture_on_commit_callbacks(execute=True):
        run = request_agreement_run(project=project, kind="verifiability", user=lead)
    run.refresh_from_db()
    split = run.result["by_suggestion"]
    suggested, plain = split["suggested"], split["not_suggested"]
    assert suggested["n_annotations"] == 2 * 14
    assert plain["n_annotations"] == 13
    assert split["share_suggested"] == pytest.approx(28 / 41)
    # ann2 alone has nobody to pair with among the unsuggested answers.
    assert plain["alpha"] is None
    assert "too_few_pairable_values" in [w["code"] for w in plain["warnings"]]
    assert suggested["alpha"] is not None
    # Without any suggestion the split is left out.
    assert "by_suggestion" not in world["run"].result


def test_dashboard_shows_documents_dawid_skene_and_the_suggestion_split(client, world):
    client.force_login(world["lead"])
    url = reverse("admin:labeling_agreement", args=[world["project"].pk]) + "?kind=verifiability"
    response = client.get(url)
    page = response.content.decode()
    assert 'id="lb-documents"' in page
    ids = [d.pk for d in world["docs"]]
    rows = [r["document_id"] for r in response.context["documents"]]
    assert rows == ids  # lowest alpha first, undefined last
    assert "too_few_pairable_values" in page
    assert "Dawid-Skene accuracy" in page
    assert "per_document" not in response.context["dashboard"]["result"]
    response = client.get(url + "&documents=disputed")
    assert response.context["documents"][0]["document_id"] == ids[0]
    assert 'id="lb-by-suggestion"' not in page
