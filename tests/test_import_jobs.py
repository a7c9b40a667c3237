"""Uploads imported by the background job (eager here), with progress and errors kept."""

from __future__ import annotations

import pytest

from labeling.exceptions import InvalidInput
from labeling.importing.job import detect_format, start_import
from labeling.models import Document, ImportJob, JobStatus
from tests.factories import make_project

pytestmark = pytest.mark.django_db(transaction=True)


def test_upload_is_imported_by_the_job():
    project = make_project()
    data = b'{"title": "A", "text": "One. Two."}\n{"title": "B", "text": "Three."}\n'
    job = start_import(project=project, data=data, filename="news.jsonl")
    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    assert job.progress == 1.0
    assert (job.n_documents, job.n_created) == (2, 2)
    assert Document.objects.filter(project=project).count() == 2


def test_bad_lines_fail_the_job_with_line_numbers_and_import_nothing():
    project = make_project()
    data = b'{"title": "A", "text": "ok"}\n{"title": 5, "text": ""}\nnot json\n'
    job = start_import(project=project, data=data, filename="news.jsonl")
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert {e["line"] for e in job.errors} == {2, 3}
    assert Document.objects.count() == 0


def test_non_utf8_file_fails_clearly():
    project = make_project()
    job = start_import(project=project, data="Café".encode("latin-1"), filename="a.txt")
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "UTF-8" in job.errors[0]["message"]


def test_format_detection_and_refusals():
    assert detect_format("x.JSONL") == "jsonl"
    assert detect_format("x.dat", "csv") == "csv"
    with pytest.raises(InvalidInput, match="unknown format"):
        detect_format("x.pdf")
    project = make_project()
    with pytest.raises(InvalidInput, match="empty"):
        start_import(project=project, data=b"", filename="a.txt")
    assert ImportJob.objects.count() == 0


def test_finished_job_is_not_run_twice():
    from labeling.importing.job import run_import

    project = make_project()
    job = start_import(project=project, data=b"Hello there.", filename="a.txt")
    run_import(job.pk)
    assert Document.objects.count() == 1
    run_import(10**9)  # a deleted job is tolerated


def test_more_than_a_hundred_errors_are_counted_not_dropped():
    project = make_project()
    data = b"".join(b"not json\n" for _ in range(150))
    job = start_import(project=project, data=data, filename="many.jsonl")
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert len(job.errors) == 101
    assert job.errors[-1]["message"] == "and 50 more errors"


def test_an_import_request_over_the_task_limit_becomes_a_job(settings, make_user):
    from rest_framework.test import APIClient

    settings.LABELING = {**settings.LABELING, "MAX_REQUEST_TASKS": 8}
    lead = make_user("lead")
    project = make_project(
        lead=lead
    )  # verifiability, stance (2 targets), attribution: 4 a sentence
    client = APIClient()
    client.force_authenticate(lead)
    small = {"title": "S", "text": "One sentence 👍.", "external_id": "s"}
    assert (
        client.post(f"/api/projects/{project.pk}/documents/", small, format="json").status_code
        == 201
    )
    text = "Flag 🇺🇦 here.\nCoder 👩‍💻 there.\n例えば this.\nCafe\u0301 too."
    big = {"title": "Big é", "text": text, "external_id": "b", "metadata": {"k": "v"}}
    response = client.post(f"/api/projects/{project.pk}/documents/", big, format="json")
    assert response.status_code == 202
    job = response.json()
    assert (job["status"], job["n_created"]) == ("done", 1)  # eager: already run
    assert client.get(f"/api/import-jobs/{job['id']}/").json()["progress"] == 1.0
    document = Document.objects.get(project=project, external_id="b")
    assert (document.text, document.title, document.metadata) == (text, "Big é", {"k": "v"})
    assert document.sentences.count() == 4
