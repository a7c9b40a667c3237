"""Suggestions come with attribution tasks; annotations record whether they started from one."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from labeling.exporting.records import ExportOptions, iter_records
from labeling.models import Annotation, Task
from labeling.suggesting import suggest_attributions
from labeling.text.segmentation import split_sentences
from tests.api_helpers import client_for
from tests.factories import add_documents, make_project

pytestmark = pytest.mark.django_db

E_ACUTE = "e\u0301"
# Emoji, a flag, a ZWJ sequence, CJK and a combining mark before and inside the triples;
# "He added" (sentence 5) refers to Mizintsev in sentence 1, outside the ±2 window.
TEXT = (
    "Fans 👍 waved 🇺🇦 flags as the coder 👩‍💻 typed 例えば.\n"
    f"“The pause begins at dawn 🌅,” Mikhail Mizintsev, head of the caf{E_ACUTE} centre, "
    "told reporters.\n"
    "Shelling continued overnight.\n"
    "Trains were cancelled.\n"
    "Schools stayed shut.\n"
    "He added that 1,844 soldiers had surrendered in Mariupol."
)


def span_text(span: dict) -> str:
    return TEXT[span["start"] : span["end"]]


def utf16(offset: int) -> int:
    return len(TEXT[:offset].encode("utf-16-le")) // 2


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def world(make_user):
    lead, ann, ann2 = make_user("lead"), make_user("ann"), make_user("ann2")
    project = make_project(
        lead=lead,
        annotators=[ann, ann2],
        overlap=2,
        schemas=[{"kind": "attribution"}, {"kind": "verifiability", "labels": ["yes", "no"]}],
    )
    add_documents(project, [TEXT])
    return project, lead, ann, ann2


def next_task(client, project, kind: str = "attribution", query: str = "") -> dict:
    response = client.get(f"/api/projects/{project.pk}/next-task/?kind={kind}{query}")
    assert response.status_code == 200, response.content
    return response.json()


def task_on(project, kind: str, position: int) -> Task:
    return Task.objects.get(project=project, kind=kind, position=position)


def test_next_task_carries_the_suggested_triples_in_code_points(world):
    project, _, ann, _ = world
    body = next_task(client_for(ann), project)
    assert body["sentence"]["position"] == 0
    assert body["suggestions"] == []  # no reporting verb in the first sentence
    put = client_for(ann).put(
        f"/api/tasks/{body['id']}/annotation/", {"value": {"attributions": []}}, format="json"
    )
    assert put.status_code == 200
    body = next_task(client_for(ann), project)
    [suggestion] = body["suggestions"]
    assert span_text(suggestion["source"]) == (
        f"Mikhail Mizintsev, head of the caf{E_ACUTE} centre"
    )
    assert span_text(suggestion["cue"]) == "told"
    assert span_text(suggestion["content"]) == "The pause begins at dawn 🌅"
    assert suggestion["rule"] == "quote-before-cue"
    assert 0 < suggestion["confidence"] <= 1
    # Exactly what the pure suggester says for that sentence of the document.
    spans = split_sentences(TEXT)
    expected = suggest_attributions(TEXT, spans[1], spans)
    assert [s.as_dict() for s in expected] == body["suggestions"]


def test_suggestions_follow_offset_unit_utf16(world):
    project, lead, _, _ = world
    task = task_on(project, "attribution", 1)
    plain = client_for(lead).get(f"/api/tasks/{task.pk}/").json()["suggestions"][0]
    converted = client_for(lead).get(f"/api/tasks/{task.pk}/?offset_unit=utf16").json()
    [suggestion] = converted["suggestions"]
    for role in ("source", "cue", "content"):
        assert suggestion[role] == {
            "start": utf16(plain[role]["start"]),
            "end": utf16(plain[role]["end"]),
        }
    assert suggestion["content"]["start"] != plain["content"]["start"]  # emoji came before


def test_pronoun_source_resolves_outside_the_sentence_window(world):
    project, lead, _, _ = world
    task = task_on(project, "attribution", 5)
    body = client_for(lead).get(f"/api/tasks/{task.pk}/").json()
    assert [s["position"] for s in body["previous"]] == [3, 4]  # sentence 1 is not shown
    [suggestion] = body["suggestions"]
    assert span_text(suggestion["source"]) == f"Mikhail Mizintsev, head of the caf{E_ACUTE} centre"
    assert span_text(suggestion["cue"]) == "added"
    assert span_text(suggestion["content"]) == "1,844 soldiers had surrendered in Mariupol"
    assert suggestion["rule"] == "cue-that+pronoun"


def test_other_kinds_have_no_suggestions_and_no_extra_query(world):
    project, _, ann, _ = world
    with CaptureQueriesContext(connection) as queries:
        body = next_task(client_for(ann), project, kind="verifiability")
    assert body["suggestions"] == []
    assert not any("CASE WHEN S.POSITION" in q["sql"].upper() for q in queries.captured_queries)


def test_suggestions_are_computed_once_per_sentence(world):
    project, _, ann, ann2 = world
    task = task_on(project, "attribution", 1)

    def context_reads(client) -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/api/tasks/{task.pk}/")
        assert response.status_code in (200, 404)
        return sum("CASE WHEN S.POSITION" in q["sql"].upper() for q in queries.captured_queries)

    lead = project.memberships.get(role="lead").user
    assert context_reads(client_for(lead)) == 1
    assert context_reads(client_for(lead)) == 0  # cached
    cache.clear()
    assert context_reads(client_for(lead)) == 1


def test_annotation_records_that_it_started_from_a_suggestion(world):
    project, _, ann, _ = world
    client = client_for(ann)
    first = next_task(client, project)
    client.put(
        f"/api/tasks/{first['id']}/annotation/", {"value": {"attributions": []}}, format="json"
    )
    body = next_task(client, project)
    suggestion = body["suggestions"][0]
    triple = {role: suggestion[role] for role in ("source", "cue", "content")}
    url = f"/api/tasks/{body['id']}/annotation/"
    response = client.put(
        url, {"value": {"attributions": [triple]}, "from_suggestion": True}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["from_suggestion"] is True
    stored = Annotation.objects.get(task_id=body["id"], annotator=ann)
    assert stored.from_suggestion is True
    # An edit without the flag: the earlier revision keeps it, the current value not.
    response = client.put(url, {"value": {"attributions": []}}, format="json")
    assert response.json()["from_suggestion"] is False
    detail = client.get(url).json()
    assert detail["from_suggestion"] is False
    assert [(r["revision"], r["from_suggestion"]) for r in detail["revisions"]] == [(1, True)]
    assert client.get(f"/api/tasks/{body['id']}/").json()["annotation"]["from_suggestion"] is False


def test_bad_from_suggestion_is_refused_and_nothing_is_stored(world):
    project, _, ann, _ = world
    client = client_for(ann)
    body = next_task(client, project)
    url = f"/api/tasks/{body['id']}/annotation/"
    response = client.put(
        url, {"value": {"attributions": []}, "from_suggestion": "perhaps"}, format="json"
    )
    assert response.status_code == 400
    assert "from_suggestion" in response.json()["errors"]
    label_task = next_task(client, project, kind="verifiability")
    response = client.put(
        f"/api/tasks/{label_task['id']}/annotation/",
        {"value": {"label": "yes"}, "from_suggestion": True},
        format="json",
    )
    assert response.status_code == 400
    assert "from_suggestion" in response.json()["errors"]
    assert not Annotation.objects.exists()


def test_export_tells_which_annotations_started_from_a_suggestion(world):
    project, _, ann, ann2 = world
    for user, flag in ((ann, True), (ann2, False)):
        client = client_for(user)
        first = next_task(client, project)
        value = {"attributions": []}
        response = client.put(
            f"/api/tasks/{first['id']}/annotation/",
            {"value": value, "from_suggestion": flag},
            format="json",
        )
        assert response.status_code == 200
    [record] = [
        r
        for r in iter_records(project, ExportOptions(kind="attribution", reveal_annotators=True))
        if r["annotations"]
    ]
    assert {a["annotator"]: a["from_suggestion"] for a in record["annotations"]} == {
        "ann": True,
        "ann2": False,
    }
