"""Bad input gets a 400 or 413 in the error envelope naming the field; nothing is written.

Covers the cases of the fault drills: deep nesting, NUL and lone surrogates in any string
field, duplicate keys, over-long strings, numbers out of bounds, oversized bodies and
uploads (the admin's too), unmatched /api/ URLs.
"""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from labeling.models import Annotation, Document, ImportJob, Project
from labeling.strings import MAX_DEPTH
from tests.api_helpers import client_for, make_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(make_user):
    return make_world(make_user)


def post_raw(api, url: str, raw: str, method: str = "POST"):
    """Send ``raw`` as the JSON body exactly as written (escapes, duplicate keys...)."""
    return api.generic(method, url, raw.encode(), content_type="application/json")


def assert_envelope(response, status: int, field: str | None) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"detail", "code", "errors"}
    if field is not None:
        assert field in body["errors"], body
        assert field in body["detail"]
    return body


def documents_url(world) -> str:
    return f"/api/projects/{world.project.pk}/documents/"


# --- nesting ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    ['{"a": ' * 10_000 + "1" + "}" * 10_000, "[" * 100_000 + "]" * 100_000],
    ids=["object-10k", "list-100k"],
)
def test_body_nested_far_too_deep_is_400(world, raw: str) -> None:
    response = post_raw(client_for(world.lead), "/api/projects/", raw)
    body = assert_envelope(response, 400, None)
    assert f"nested deeper than {MAX_DEPTH} levels" in body["detail"]


def test_nesting_just_over_the_limit_names_the_field(world) -> None:
    metadata: dict = {}
    inner = metadata
    for _ in range(MAX_DEPTH):
        inner["a"] = {}
        inner = inner["a"]
    body = {"title": "t", "text": "Some text.", "metadata": metadata}
    response = client_for(world.lead).post(documents_url(world), body, format="json")
    body = assert_envelope(response, 400, None)
    (field,) = body["errors"]
    assert field.startswith("metadata.a.a")
    assert Document.objects.filter(project=world.project).count() == 1


# --- NUL and lone surrogates in any string ----------------------------------------------

BAD_STRINGS = {"nul": "\\u0000", "surrogate": "\\ud800"}


@pytest.mark.parametrize("bad", BAD_STRINGS)
@pytest.mark.parametrize(
    ("template", "field"),
    [
        ('{"title": "a%sb", "text": "Fine text."}', "title"),
        ('{"text": "Fine%s text."}', "text"),
        ('{"text": "Fine text.", "external_id": "x%s"}', "external_id"),
        ('{"text": "Fine text.", "source_url": "https://e.org/%s"}', "source_url"),
        ('{"text": "Fine text.", "metadata": {"k%s": 1}}', "metadata.k"),
        ('{"text": "Fine text.", "metadata": {"k": ["ok", "v%s"]}}', "metadata.k[1]"),
        ('[{"text": "One."}, {"text": "Two.", "title": "%s"}]', "[1].title"),
    ],
)
def test_nul_or_lone_surrogate_in_a_document_field_is_400(world, bad, template, field) -> None:
    before = Document.objects.count()
    response = post_raw(client_for(world.lead), documents_url(world), template % BAD_STRINGS[bad])
    body = assert_envelope(response, 400, None)
    assert any(f.startswith(field) for f in body["errors"]), body
    assert ("NUL" if bad == "nul" else "lone surrogate") in body["detail"]
    assert Document.objects.count() == before


@pytest.mark.parametrize("bad", BAD_STRINGS)
@pytest.mark.parametrize(
    ("schema", "field"),
    [
        ('{"kind": "stance", "targets": ["Kyiv%s"]}', "schemas[0].targets[0]"),
        ('{"kind": "verifiability", "labels": ["yes%s", "no"]}', "schemas[0].labels[0]"),
    ],
)
def test_nul_or_lone_surrogate_in_targets_and_labels_is_400(world, bad, schema, field) -> None:
    schema = schema.replace("%s", BAD_STRINGS[bad])
    raw = f'{{"name": "P", "annotators_per_item": 2, "schemas": [{schema}]}}'
    before = Project.objects.count()
    assert_envelope(post_raw(client_for(world.lead), "/api/projects/", raw), 400, field)
    assert Project.objects.count() == before


def test_nul_in_an_annotation_label_is_400(world) -> None:
    api = client_for(world.annotator)
    task = api.get(f"/api/projects/{world.project.pk}/next-task/?kind=verifiability").json()
    url = f"/api/tasks/{task['id']}/annotation/"
    assert_envelope(
        post_raw(api, url, '{"value": {"label": "a\\u0000"}}', "PUT"), 400, "value.label"
    )
    assert not Annotation.objects.exists()


def test_nul_in_a_query_parameter_is_400(world) -> None:
    api = client_for(world.annotator)
    url = f"/api/projects/{world.project.pk}/next-task/?kind=stance&target=Kyiv%00"
    assert_envelope(api.get(url), 400, "target")


# --- duplicate keys, over-long strings, numbers ------------------------------------------


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ('{"text": "One.", "text": "Two."}', "text"),
        ('{"text": "One.", "metadata": {"a": 1, "a": 2}}', "metadata.a"),
    ],
)
def test_duplicate_keys_are_400_naming_the_key(world, raw: str, field: str) -> None:
    response = post_raw(client_for(world.lead), documents_url(world), raw)
    body = assert_envelope(response, 400, field)
    assert "appears twice" in body["detail"]


@pytest.mark.parametrize(
    ("field", "length"), [("title", 501), ("external_id", 256), ("source_url", 2001)]
)
def test_over_long_document_fields_are_400(world, field: str, length: int) -> None:
    value = "https://e.org/" + "a" * (length - 14) if field == "source_url" else "a" * length
    body = {"text": "Fine text.", field: value}
    response = client_for(world.lead).post(documents_url(world), body, format="json")
    assert_envelope(response, 400, field)
    fits = {"text": "Other text.", field: value[:-1]}
    assert client_for(world.lead).post(documents_url(world), fits, format="json").status_code == 201


def test_huge_string_anywhere_is_400(world, settings) -> None:
    raw = json.dumps({"name": "x" * 1_000_001, "annotators_per_item": 2, "schemas": []})
    assert_envelope(post_raw(client_for(world.lead), "/api/projects/", raw), 400, "name")


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (
            '{"value": {"label": "verifiable"}, "lead_time_ms": 1000000000000000000000}',
            "lead_time_ms",
        ),
        ('{"value": {"label": "verifiable"}, "lead_time_ms": 1e999}', None),
        ('{"value": {"label": "verifiable"}, "lead_time_ms": NaN}', None),
    ],
)
def test_numbers_beyond_bounds_are_400(world, raw: str, field: str | None) -> None:
    api = client_for(world.annotator)
    task = api.get(f"/api/projects/{world.project.pk}/next-task/?kind=verifiability").json()
    response = post_raw(api, f"/api/tasks/{task['id']}/annotation/", raw, "PUT")
    assert_envelope(response, 400, field)
    assert not Annotation.objects.exists()


@pytest.mark.parametrize("seed", [str(-(2**63) - 1), str(2**63), "9" * 5000])
def test_export_seed_out_of_bounds_is_400(world, seed: str) -> None:
    api = client_for(world.lead)
    assert_envelope(api.get(f"/api/projects/{world.project.pk}/export/?seed={seed}"), 400, "seed")
    raw = f'{{"format": "jsonl", "seed": {seed}}}'
    response = post_raw(api, f"/api/projects/{world.project.pk}/exports/", raw)
    assert response.status_code == 400
    assert "seed" in response.json()["detail"]


@pytest.mark.parametrize("value", ["0", "501", "abc", "-3", "1.5"])
def test_invalid_page_size_is_400(world, value: str) -> None:
    response = client_for(world.lead).get(f"/api/projects/?page_size={value}")
    body = assert_envelope(response, 400, "page_size")
    assert "between 1 and 500" in body["detail"]


def test_page_size_within_limits_is_honoured(world) -> None:
    response = client_for(world.lead).get(f"/api/projects/{world.project.pk}/tasks/?page_size=500")
    assert response.status_code == 200
    assert len(response.json()["results"]) == min(500, response.json()["count"])
    assert_envelope(client_for(world.lead).get("/api/projects/?page=x"), 400, "page")


# --- sizes and URLs ----------------------------------------------------------------------


def test_body_over_the_upload_limit_is_413_before_it_is_read(world, settings) -> None:
    settings.LABELING = {**settings.LABELING, "MAX_UPLOAD_BYTES": 1000}
    raw = json.dumps({"text": "word " * 400})
    response = post_raw(client_for(world.lead), documents_url(world), raw)
    body = assert_envelope(response, 413, "body")
    assert body["code"] == "too_large"
    assert "1,000 bytes" in body["detail"]


def test_admin_upload_over_the_limit_is_refused_and_nothing_is_stored(client, world, settings):
    settings.LABELING = {**settings.LABELING, "MAX_UPLOAD_BYTES": 1000}
    client.force_login(world.lead)
    url = f"/admin/labeling/project/{world.project.pk}/import/"
    big = SimpleUploadedFile("big.txt", b"All words here. " * 200, content_type="text/plain")
    response = client.post(url, {"file": big, "format": ""})
    assert response.status_code == 413
    assert "larger than the upload limit of 1,000 bytes" in response.content.decode()
    assert not ImportJob.objects.exists()
    small = SimpleUploadedFile("small.txt", b"A short text.", content_type="text/plain")
    assert client.post(url, {"file": small, "format": ""}).status_code == 302
    assert ImportJob.objects.count() == 1


@pytest.mark.parametrize(
    "url", ["/api/nothing-here/", "/api/projects/1/nope/", "/api/projects/abc/", "/api/x"]
)
def test_unmatched_api_urls_answer_the_envelope(world, url: str) -> None:
    body = assert_envelope(client_for(world.lead).get(url), 404, None)
    assert body["code"] == "not_found"


def test_unmatched_api_url_answers_the_envelope_with_debug_on(world, settings) -> None:
    settings.DEBUG = True
    body = assert_envelope(client_for(world.lead).get("/api/nothing-here/"), 404, None)
    assert body["code"] == "not_found"
