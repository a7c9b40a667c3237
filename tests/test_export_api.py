"""Export, gold and annotator-accuracy endpoints: streaming, jobs, permissions, errors."""

from __future__ import annotations

import csv
import hashlib
import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.http import StreamingHttpResponse

from labeling.exporting.params import ExportOptions
from labeling.exporting.records import iter_records
from labeling.models import Annotation, Export, GoldLabel, Task
from tests.api_helpers import client_for, make_world

pytestmark = pytest.mark.django_db

LABELS = ["verifiable", "unverifiable", "not_a_claim"]


@pytest.fixture
def world(make_user):
    world = make_world(make_user)
    for i, task in enumerate(
        Task.objects.filter(project=world.project, kind="verifiability").order_by("id")
    ):
        Annotation.objects.create(
            task=task, annotator=world.annotator, value={"label": LABELS[i % 3]}
        )
        Annotation.objects.create(
            task=task, annotator=world.annotator2, value={"label": LABELS[(i + i % 2) % 3]}
        )
    other_task = Task.objects.filter(project=world.other, kind="verifiability").first()
    Annotation.objects.create(
        task=other_task, annotator=world.other_annotator, value={"label": "verifiable"}
    )
    return world


def url(project_id: int, query: str = "") -> str:
    return f"/api/projects/{project_id}/export/" + (f"?{query}" if query else "")


def body_of(response) -> bytes:
    """The records of a streamed export, after checking and removing its trailer line."""
    assert isinstance(response, StreamingHttpResponse)
    content = b"".join(response.streaming_content)
    if response["Content-Type"].startswith("application/vnd.apache.parquet"):
        return content
    cut = content.rindex(b"\n", 0, len(content) - 1) + 1 if content.count(b"\n") > 1 else 0
    data, trailer = content[:cut], content[cut:].decode()
    if trailer.startswith("{"):
        stated = json.loads(trailer)["export_trailer"]
    else:
        mark, records, sha = trailer.strip().split(",")
        assert mark == "#export_trailer"
        stated = {"records": int(records.split("=")[1]), "sha256": sha.split("=")[1]}
    assert stated["sha256"] == hashlib.sha256(data).hexdigest()
    return data


def test_lead_streams_jsonl_with_a_filename(world):
    response = client_for(world.lead).get(url(world.project.pk, "format=jsonl&kind=verifiability"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/x-ndjson")
    assert response["Content-Disposition"].startswith('attachment; filename="project-')
    assert response["Content-Disposition"].endswith('.jsonl"')
    lines = [json.loads(line) for line in body_of(response).decode().splitlines()]
    expected = list(iter_records(world.project, ExportOptions(kind="verifiability")))
    assert lines == json.loads(json.dumps(expected))
    assert {r["kind"] for r in lines} == {"verifiability"}
    assert all(len(r["annotations"]) == 2 for r in lines)
    everything = body_of(client_for(world.lead).get(url(world.project.pk))).decode()
    assert f'"annotator":"{world.annotator.username}"' not in everything
    assert '"annotator":"annotator-' in everything


def test_default_format_is_jsonl_and_every_format_parses(world):
    client = client_for(world.staff)
    default = client.get(url(world.project.pk))
    assert default.status_code == 200
    n = len(body_of(default).splitlines())
    assert n == Task.objects.filter(project=world.project, kind="verifiability").count()

    csv_response = client.get(url(world.project.pk, "format=csv"))
    assert csv_response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(body_of(csv_response).decode(), newline="")))
    assert len(rows) == n

    parquet = client.get(url(world.project.pk, "format=parquet"))
    assert parquet["Content-Type"] == "application/vnd.apache.parquet"
    table = pq.read_table(pa.BufferReader(body_of(parquet)))
    assert table.num_rows == n


def test_format_is_the_file_format_and_accept_headers_of_export_types_are_served(world):
    """?format= never picks a DRF renderer; Accept: text/csv etc. is not a 406."""
    client = client_for(world.lead)
    for fmt, media_type in [
        ("csv", "text/csv"),
        ("parquet", "application/vnd.apache.parquet"),
        ("jsonl", "application/x-ndjson"),
    ]:
        response = client.get(url(world.project.pk, f"format={fmt}"), HTTP_ACCEPT=media_type)
        assert response.status_code == 200, (fmt, response.content[:200])
        assert response["Content-Type"].startswith(media_type)
    bad = client.get(url(world.project.pk, "format=api"))
    assert bad.status_code == 400
    assert bad.json()["errors"]["format"]


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("anonymous", 401),
        ("annotator", 403),
        ("other_lead", 404),
        ("other_annotator", 404),
        ("lead", 200),
        ("staff", 200),
    ],
)
def test_only_leads_and_staff_may_export(world, who, expected):
    user = None if who == "anonymous" else getattr(world, who)
    response = client_for(user).get(url(world.project.pk))
    assert response.status_code == expected
    if expected != 200:
        assert "annotations" not in response.content.decode()
        assert response.json()["code"]


def test_missing_project_is_404(world):
    assert client_for(world.lead).get(url(999_999)).status_code == 404


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("format=xml", "format"),
        ("kind=sentiment", "kind"),
        ("min_agreement=high", "min_agreement"),
        ("min_agreement=2", "min_agreement"),
        ("updated_from=yesterday", "updated_from"),
        ("updated_to=2024-02-30", "updated_to"),
        ("only_adjudicated=perhaps", "only_adjudicated"),
        ("annotator=ghost", "annotator"),
        ("bogus=1", "bogus"),
    ],
)
def test_bad_parameters_get_400_naming_the_parameter(world, query, field):
    response = client_for(world.lead).get(url(world.project.pk, query))
    assert response.status_code == 400
    body = response.json()
    assert field in body["errors"]
    assert body["detail"].startswith(field)


def test_filters_pass_through_the_endpoint(world):
    client = client_for(world.lead)
    response = client.get(
        url(world.project.pk, f"annotator={world.annotator2.username}&min_agreement=1")
    )
    lines = [json.loads(line) for line in body_of(response).splitlines()]
    assert lines
    assert all(r["modal_share"] == 1.0 for r in lines)
    revealed = client.get(url(world.project.pk, "reveal_annotators=true"))
    names = {
        a["annotator"]
        for line in body_of(revealed).splitlines()
        for a in json.loads(line)["annotations"]
    }
    assert names == {world.annotator.username, world.annotator2.username}


def test_export_job_writes_a_file_to_download(world, django_capture_on_commit_callbacks):
    client = client_for(world.lead)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/projects/{world.project.pk}/exports/",
            {"format": "csv", "kind": "verifiability", "min_agreement": 0.5},
            format="json",
        )
    assert response.status_code == 202
    job = response.json()
    assert job["filters"]["kind"] == "verifiability"
    detail = client.get(f"/api/exports/{job['id']}/").json()
    assert detail["status"] == "done"  # eager in the embedded mode
    assert detail["progress"] == 1.0
    assert detail["n_records"] > 0
    assert detail["download_url"].endswith(f"/api/exports/{job['id']}/download/")
    download = client.get(detail["download_url"])
    assert download.status_code == 200
    assert "attachment" in download["Content-Disposition"]
    content = b"".join(download.streaming_content)
    streamed = body_of(
        client.get(url(world.project.pk, "format=csv&kind=verifiability&min_agreement=0.5"))
    )
    assert content == streamed
    listing = client.get(f"/api/projects/{world.project.pk}/exports/").json()
    assert [e["id"] for e in listing["results"]] == [job["id"]]


def test_export_job_rejects_bad_parameters_and_outsiders(world):
    lead = client_for(world.lead)
    bad = lead.post(f"/api/projects/{world.project.pk}/exports/", {"format": "xml"}, format="json")
    assert bad.status_code == 400
    assert "format" in bad.json()["errors"]
    assert not Export.objects.exists()
    job = lead.post(f"/api/projects/{world.project.pk}/exports/", {}, format="json").json()
    for user, status in (
        (world.annotator, 403),
        (world.other_lead, 404),
        (world.other_annotator, 404),
    ):
        client = client_for(user)
        assert client.get(f"/api/exports/{job['id']}/").status_code == status
        assert client.get(f"/api/exports/{job['id']}/download/").status_code == status
        assert (
            client.post(f"/api/projects/{world.project.pk}/exports/", {}, format="json").status_code
            == status
        )
    assert client_for(world.staff).get(f"/api/exports/{job['id']}/").status_code == 200


def test_unfinished_export_cannot_be_downloaded(world):
    export = Export.objects.create(project=world.project, format="jsonl")
    response = client_for(world.lead).get(f"/api/exports/{export.pk}/download/")
    assert response.status_code == 409
    assert client_for(world.lead).get(f"/api/exports/{export.pk}/").json()["download_url"] is None


def test_failed_export_job_records_its_error(
    world, monkeypatch, django_capture_on_commit_callbacks
):
    import labeling.exporting.job as exporting

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(exporting, "write_export_file", boom)
    client = client_for(world.lead)
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(f"/api/projects/{world.project.pk}/exports/", {}, format="json")
    job = client.get(f"/api/exports/{created.json()['id']}/").json()
    assert job["status"] == "failed"
    assert "disk full" in job["error"]


def test_aggregate_gold_endpoint_answers_202_and_the_job_holds_the_result(
    world, django_capture_on_commit_callbacks
):
    client = client_for(world.lead)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/projects/{world.project.pk}/gold/aggregate/",
            {"kind": "verifiability", "method": "dawid_skene"},
            format="json",
        )
    assert response.status_code == 202
    job = client.get(f"/api/gold-jobs/{response.json()['id']}/").json()
    assert (job["operation"], job["status"], job["progress"]) == ("aggregate", "done", 1.0)
    result = job["result"]
    assert result["method"] == "dawid_skene"
    assert result["n_created"] == GoldLabel.objects.count() > 0
    assert {a["username"] for a in result["annotator_accuracy"]} == {"ann", "ann2"}
    bad = client.post(
        f"/api/projects/{world.project.pk}/gold/aggregate/",
        {"kind": "verifiability", "method": "vote"},
        format="json",
    )
    assert bad.status_code == 400
    assert "method" in bad.json()["errors"]
    for user, status in ((world.annotator, 403), (world.other_lead, 404)):
        denied = client_for(user).post(
            f"/api/projects/{world.project.pk}/gold/aggregate/",
            {"kind": "verifiability"},
            format="json",
        )
        assert denied.status_code == status
        assert client_for(user).get(f"/api/gold-jobs/{job['id']}/").status_code == status
    assert client.get("/api/gold-jobs/999999/").status_code == 404


def test_lead_adjudicates_a_task_and_it_shows_in_the_export(
    world, django_capture_on_commit_callbacks
):
    task = Task.objects.filter(project=world.project, kind="verifiability").first()
    client = client_for(world.lead)
    response = client.put(
        f"/api/tasks/{task.pk}/gold/",
        {"value": {"label": "not_a_claim"}, "note": "opinion"},
        format="json",
    )
    assert response.status_code == 200
    gold = response.json()
    assert gold["method"] == "adjudicated"
    assert gold["decided_by"] == "lead"
    assert gold["note"] == "opinion"
    assert client.get(f"/api/tasks/{task.pk}/gold/").json()["value"] == {"label": "not_a_claim"}
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/api/projects/{world.project.pk}/gold/aggregate/",
            {"kind": "verifiability"},
            format="json",
        )
    lines = [
        json.loads(x)
        for x in body_of(client.get(url(world.project.pk, "only_adjudicated=true"))).splitlines()
    ]
    assert [(r["task_id"], r["gold"], r["gold_method"]) for r in lines] == [
        (task.pk, {"label": "not_a_claim"}, "adjudicated")
    ]
    bad = client.put(f"/api/tasks/{task.pk}/gold/", {"value": {"label": "nope"}}, format="json")
    assert bad.status_code == 400
    assert "value.label" in bad.json()["errors"]
    assert client.delete(f"/api/tasks/{task.pk}/gold/").status_code == 204
    assert not GoldLabel.objects.filter(task=task, method="adjudicated").exists()


def test_annotators_may_not_see_or_decide_gold(world):
    task = Task.objects.filter(project=world.project, kind="verifiability").first()
    # The annotator worked on this task, so it is visible to them, but gold is for leads.
    annotator = client_for(world.annotator)
    assert (
        annotator.put(
            f"/api/tasks/{task.pk}/gold/", {"value": {"label": "verifiable"}}, format="json"
        ).status_code
        == 403
    )
    assert annotator.get(f"/api/tasks/{task.pk}/gold/").status_code == 403
    untouched = Task.objects.filter(project=world.project, kind="stance").first()
    assert (
        annotator.put(
            f"/api/tasks/{untouched.pk}/gold/", {"value": {"label": "favor"}}, format="json"
        ).status_code
        == 404
    )
    outsider = client_for(world.other_lead)
    assert (
        outsider.put(
            f"/api/tasks/{task.pk}/gold/", {"value": {"label": "verifiable"}}, format="json"
        ).status_code
        == 404
    )
    assert not GoldLabel.objects.exists()


def test_annotator_accuracy_is_a_job(world, django_capture_on_commit_callbacks):
    client = client_for(world.lead)
    url_ = f"/api/projects/{world.project.pk}/annotator-accuracy/"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url_, {"kind": "verifiability"}, format="json")
    assert response.status_code == 202
    job = client.get(f"/api/gold-jobs/{response.json()['id']}/").json()
    assert (job["operation"], job["status"]) == ("accuracy", "done")
    report = job["result"]
    assert report["method"] == "dawid_skene"
    assert {a["username"] for a in report["annotators"]} == {"ann", "ann2"}
    assert all(0 <= a["accuracy"] <= 1 for a in report["annotators"])
    missing = client.post(url_, {}, format="json")
    assert missing.status_code == 400
    assert "kind" in missing.json()["errors"]
    denied = client_for(world.annotator).post(url_, {"kind": "verifiability"}, format="json")
    assert denied.status_code == 403


def test_openapi_schema_documents_the_export_endpoints(world):
    response = client_for(world.lead).get(
        "/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json"
    )
    assert response.status_code == 200
    text = response.content.decode()
    for path in (
        "/api/projects/{project_id}/export/",
        "/api/projects/{project_id}/exports/",
        "/api/exports/{export_id}/",
        "/api/projects/{project_id}/gold/aggregate/",
        "/api/tasks/{task_id}/gold/",
        "/api/projects/{project_id}/annotator-accuracy/",
        "/api/gold-jobs/{job_id}/",
    ):
        assert path in text
