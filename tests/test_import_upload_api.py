"""``POST /api/projects/{id}/documents/`` with a JSONL body or a multipart file.

The same readers, size limit and all-or-nothing rule as the admin upload; large uploads
become an import job with progress.
"""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from labeling.models import Document, ImportJob, Sentence
from tests.factories import make_project

pytestmark = pytest.mark.django_db

NDJSON = "application/x-ndjson"
HARD = (
    "Flag 🇺🇦 said so.\nCoder 👩‍💻 agreed. 東京の記者は述べた。\nCafe\u0301 owners were not asked."
)


@pytest.fixture
def setup(make_user):
    lead = make_user("lead")
    annotator = make_user("ann")
    project = make_project(lead=lead, annotators=[annotator])
    client = APIClient()
    client.force_authenticate(lead)
    return project, client, annotator


def url(project) -> str:
    return f"/api/projects/{project.pk}/documents/"


def post_jsonl(client, project, body: bytes):
    return client.generic("POST", url(project), body, content_type=NDJSON)


def post_file(client, project, name: str, content: bytes, **extra):
    upload = SimpleUploadedFile(name, content, content_type="application/octet-stream")
    return client.post(url(project), {"file": upload, **extra}, format="multipart")


def test_jsonl_body_imports_every_line_and_round_trips_unicode(setup):
    project, client, _ = setup
    lines = [
        {"title": "One", "text": HARD, "external_id": "a"},
        {"text": "Second 👍 document. Ends here.", "external_id": "b", "metadata": {"k": "ü"}},
    ]
    body = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines).encode()
    response = post_jsonl(client, project, body)
    assert response.status_code == 201, response.json()
    assert len(response.json()["created"]) == 2
    doc = Document.objects.get(project=project, external_id="a")
    assert doc.text == HARD
    for sentence in Sentence.objects.filter(document=doc):
        assert HARD[sentence.start : sentence.end] == sentence.text
    detail = client.get(f"/api/documents/{doc.pk}/").json()
    assert "".join(s["text"] for s in detail["sentences"]).replace(" ", "") == HARD.replace(
        "\n", ""
    ).replace(" ", "")
    again = post_jsonl(client, project, body)  # idempotent, as every import
    assert again.status_code == 200
    assert sorted(again.json()["existing"]) == sorted(response.json()["created"])


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("article.txt", HARD.encode()),
        ("docs.jsonl", (json.dumps({"text": HARD}, ensure_ascii=False) + "\n").encode()),
        ("docs.csv", ('title,text\nT,"' + HARD + '"\n').encode()),
        ("DOCS.CSV", ("\ufefftext\n" + '"' + HARD + '"\n').encode()),  # BOM, upper case
    ],
)
def test_multipart_file_in_each_format_round_trips_the_text(setup, name, content):
    project, client, _ = setup
    response = post_file(client, project, name, content)
    assert response.status_code == 201, response.json()
    (doc_id,) = response.json()["created"]
    doc = Document.objects.get(pk=doc_id)
    assert doc.text == HARD
    if name == "article.txt":
        assert doc.title == "article"  # as the admin upload: the file name's stem
    assert [s["text"] for s in client.get(f"/api/documents/{doc_id}/").json()["sentences"]] == [
        HARD[s.start : s.end] for s in doc.sentences.order_by("position")
    ]


def test_format_field_overrides_the_extension(setup):
    project, client, _ = setup
    response = post_file(client, project, "export.data", b'{"text": "A line."}\n', format="jsonl")
    assert response.status_code == 201, response.json()


def test_bad_jsonl_line_is_400_naming_the_line_and_imports_nothing(setup):
    project, client, _ = setup
    body = b'{"text": "Good."}\n{"text": "Also good."}\n{"text": \n{"title": "no text"}\n'
    response = post_jsonl(client, project, body)
    assert response.status_code == 400
    payload = response.json()
    messages = payload["errors"]["body"]
    assert messages[0].startswith("line 3: malformed JSON")
    assert messages[1] == "line 4: text: must be a non-empty string"
    assert "line 3" in payload["detail"]
    assert not Document.objects.filter(project=project).exists()

    response = post_file(client, project, "docs.jsonl", body)
    assert response.status_code == 400
    assert response.json()["errors"]["file"][0].startswith("line 3: malformed JSON")
    assert not Document.objects.filter(project=project).exists()


def test_bad_csv_row_is_400_naming_line_and_column(setup):
    project, client, _ = setup
    content = b'text,source_url\n"Fine.",\n"Bad url.",ftp://x\n'
    response = post_file(client, project, "docs.csv", content)
    assert response.status_code == 400
    (message,) = response.json()["errors"]["file"]
    assert message.startswith("line 3: source_url: must be an absolute http(s) URL")
    assert not Document.objects.filter(project=project).exists()


@pytest.mark.parametrize(
    ("name", "extra", "field", "fragment"),
    [
        ("notes.pdf", {}, "file", "no known extension"),
        ("notes", {}, "file", "no known extension"),
        ("notes.txt", {"format": "xml"}, "format", "unknown format 'xml'"),
    ],
)
def test_wrong_extension_or_format_is_400(setup, name, extra, field, fragment):
    project, client, _ = setup
    response = post_file(client, project, name, b"Some text.", **extra)
    assert response.status_code == 400
    payload = response.json()
    assert fragment in payload["errors"][field][0]
    assert payload["detail"].startswith(f"{field}:")


def test_empty_file_and_empty_body_are_400(setup):
    project, client, _ = setup
    response = post_file(client, project, "empty.txt", b"")
    assert response.status_code == 400
    assert "empty" in response.json()["errors"]["file"][0]
    response = post_jsonl(client, project, b"")
    assert response.status_code == 400
    assert "empty" in response.json()["errors"]["body"][0]
    response = post_jsonl(client, project, b"\n\n")
    assert response.status_code == 400
    assert response.json()["errors"]["body"] == ["line 1: file contains no documents"]


def test_non_utf8_is_400_naming_line_and_byte(setup):
    project, client, _ = setup
    content = b"First line.\nSecond " + b"\xff\xfe line.\n"
    response = post_file(client, project, "latin.txt", content)
    assert response.status_code == 400
    (message,) = response.json()["errors"]["file"]
    assert message == "line 2: file is not valid UTF-8: invalid byte 0xff at byte offset 19"
    response = post_jsonl(client, project, b'{"text": "caf\xe9"}\n')
    assert response.status_code == 400
    assert "not valid UTF-8" in response.json()["errors"]["body"][0]


def test_multipart_without_file_or_with_unknown_fields_is_400(setup):
    project, client, _ = setup
    response = client.post(url(project), {"format": "txt"}, format="multipart")
    assert response.status_code == 400
    assert response.json()["errors"]["file"] == ["is required: the file to import"]
    response = client.post(url(project), {"file": "just text"}, format="multipart")
    assert response.status_code == 400
    assert "must be a file upload" in response.json()["errors"]["file"][0]
    upload = SimpleUploadedFile("a.txt", b"Text.")
    response = client.post(url(project), {"file": upload, "title": "x"}, format="multipart")
    assert response.status_code == 400
    assert "unknown field" in response.json()["errors"]["title"][0]


def test_oversize_upload_is_413_and_imports_nothing(setup, settings):
    project, client, _ = setup
    settings.LABELING = {**settings.LABELING, "MAX_UPLOAD_BYTES": 1000}
    big = ("A sentence here. " * 100).encode()
    response = post_file(client, project, "big.txt", big)
    assert response.status_code == 413
    payload = response.json()
    assert payload["code"] == "too_large"
    assert "1,000 bytes" in payload["detail"]
    response = post_jsonl(client, project, json.dumps({"text": big.decode()}).encode())
    assert response.status_code == 413
    assert not Document.objects.filter(project=project).exists()
    assert not ImportJob.objects.exists()


@pytest.mark.django_db(transaction=True)  # the job is published when the upload commits
def test_large_upload_becomes_an_import_job_with_progress(setup, settings):
    project, client, _ = setup
    settings.LABELING = {**settings.LABELING, "MAX_SYNC_IMPORT_BYTES": 100}
    lines = [
        json.dumps({"text": f"Document {i} 👍 said. 東京.", "external_id": str(i)})
        for i in range(5)
    ]
    body = "\n".join(lines).encode()
    response = post_file(client, project, "many.jsonl", body)
    assert response.status_code == 202, response.json()
    job = response.json()
    assert (job["status"], job["n_documents"], job["n_created"]) == ("done", 5, 5)  # eager
    polled = client.get(f"/api/import-jobs/{job['id']}/").json()
    assert (polled["progress"], polled["filename"], polled["format"]) == (
        1.0,
        "many.jsonl",
        "jsonl",
    )
    assert Document.objects.filter(project=project).count() == 5

    response = post_jsonl(client, project, body + b'\n{"text": 5}\n')
    assert response.status_code == 202
    failed = client.get(f"/api/import-jobs/{response.json()['id']}/").json()
    assert failed["status"] == "failed"
    assert failed["errors"] == [
        {"line": 6, "field": "text", "message": "must be a non-empty string (got a number)"}
    ]
    assert Document.objects.filter(project=project).count() == 5  # all or nothing


def test_annotators_and_strangers_cannot_upload(setup, make_user):
    project, _, annotator = setup
    client = APIClient()
    client.force_authenticate(annotator)
    response = post_file(client, project, "a.txt", b"Text.")
    assert response.status_code == 403
    client.force_authenticate(make_user("stranger"))
    response = post_jsonl(client, project, b'{"text": "x"}')
    assert response.status_code == 404
    missing = client.generic(
        "POST", "/api/projects/999999/documents/", b'{"text": "x"}', content_type=NDJSON
    )
    assert (missing.status_code, missing.json()) == (404, response.json())
    assert not Document.objects.filter(project=project).exists()


def test_other_content_types_are_415(setup):
    project, client, _ = setup
    response = client.generic("POST", url(project), b"text=hi", content_type="text/plain")
    assert response.status_code == 415
    form = "application/x-www-form-urlencoded"
    response = client.generic("POST", url(project), b"text=hi", content_type=form)
    assert response.status_code == 415
