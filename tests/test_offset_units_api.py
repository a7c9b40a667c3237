"""Offsets through the API in both units: code points (default) and ``offset_unit=utf16``.

The text has an emoji, a flag, a ZWJ sequence, CJK and a combining mark; every endpoint
that reads or writes offsets is exercised in both units.
"""

from __future__ import annotations

import pytest

from labeling.agreement_runs.runs import request_agreement_run
from labeling.models import Annotation, GoldLabel, Task
from labeling.queue import next_task, submit_annotation
from tests.api_helpers import client_for
from tests.factories import add_documents, make_project

pytestmark = pytest.mark.django_db

QUOTE = 'A spokesperson later posted 🇺🇦👍 and said the talks were "productive" for Kyiv.'
TEXT = QUOTE + "\n例えば the cafe\u0301 owner 👩\u200d💻 said: “fine.”"
SCHEMAS = [{"kind": "attribution"}]


def js_index(text: str, needle: str, nth: int = 0) -> int:
    """``text.indexOf(needle)`` as JavaScript computes it (UTF-16 code units)."""
    at = -1
    for _ in range(nth + 1):
        at = text.index(needle, at + 1)
    return len(text[:at].encode("utf-16-le")) // 2


def js_span(text: str, needle: str, nth: int = 0) -> dict[str, int]:
    start = js_index(text, needle, nth)
    return {"start": start, "end": start + len(needle.encode("utf-16-le")) // 2}


def cp_span(text: str, needle: str) -> dict[str, int]:
    start = text.index(needle)
    return {"start": start, "end": start + len(needle)}


def js_slice(text: str, span: dict[str, int]) -> str:
    """``text.slice(start, end)`` in JavaScript."""
    units = text.encode("utf-16-le")
    return units[2 * span["start"] : 2 * span["end"]].decode("utf-16-le")


def stored(annotation: Annotation, role: str, i: int = 0) -> str:
    span = annotation.value["attributions"][i][role]
    return TEXT[span["start"] : span["end"]]


@pytest.fixture
def world(make_user):
    lead, ann, ann2 = make_user("lead"), make_user("ann"), make_user("ann2")
    project = make_project(lead=lead, annotators=[ann, ann2], schemas=SCHEMAS, overlap=2)
    (doc_id,) = add_documents(project, [TEXT])
    return project, lead, ann, ann2, doc_id


def triple(span) -> dict:
    return {
        "source": span(TEXT, "A spokesperson"),
        "cue": span(TEXT, "said"),
        "content": span(TEXT, 'the talks were "productive" for Kyiv'),
    }


def test_js_offsets_without_offset_unit_are_read_as_code_points(world) -> None:
    """The reported bug: UTF-16 numbers read as code points store 'd th' for 'said'."""
    project, _lead, ann, _ann2, _doc = world
    api = client_for(ann)
    task = api.get(f"/api/projects/{project.pk}/next-task/?kind=attribution").json()
    value = {"attributions": [triple(js_span)]}
    assert api.put(f"/api/tasks/{task['id']}/annotation/", {"value": value}).status_code == 200
    assert stored(Annotation.objects.get(annotator=ann), "cue") == "d th"


def test_utf16_client_stores_exactly_what_it_selected(world) -> None:
    project, _lead, ann, _ann2, _doc = world
    api = client_for(ann)
    task = api.get(f"/api/projects/{project.pk}/next-task/?kind=attribution&offset_unit=utf16")
    task = task.json()
    # The sentence's offsets are UTF-16 ones: slicing the text as JavaScript does gives it.
    sentence = task["sentence"]
    assert js_slice(TEXT, sentence) == sentence["text"] == QUOTE
    (after,) = task["next"]
    assert js_slice(TEXT, after) == after["text"]
    assert after["start"] == len(QUOTE) + 1 + 3  # the newline; 🇺🇦👍 are 3 more units than 2 cps
    # Source in the next sentence (combining mark, ZWJ sequence); cue "said" after the emoji.
    value = {
        "attributions": [
            triple(js_span),
            {
                "source": js_span(TEXT, "cafe\u0301 owner 👩\u200d💻"),
                "cue": js_span(TEXT, "posted"),
                "content": js_span(TEXT, "例えば"),
            },
        ]
    }
    response = api.put(
        f"/api/tasks/{task['id']}/annotation/?offset_unit=utf16", {"value": value}, format="json"
    )
    assert response.status_code == 200, response.json()
    annotation = Annotation.objects.get(annotator=ann)
    by_cue = {stored(annotation, "cue", i): i for i in range(2)}
    assert stored(annotation, "source", by_cue["said"]) == "A spokesperson"
    assert stored(annotation, "content", by_cue["said"]) == 'the talks were "productive" for Kyiv'
    assert stored(annotation, "source", by_cue["posted"]) == "cafe\u0301 owner 👩\u200d💻"
    assert stored(annotation, "content", by_cue["posted"]) == "例えば"
    # The answer is in the client's unit too.
    for t in response.json()["value"]["attributions"]:
        assert js_slice(TEXT, t["cue"]) in {"said", "posted"}


def test_offset_unit_may_be_a_body_field(world) -> None:
    project, _lead, ann, _ann2, _doc = world
    api = client_for(ann)
    task = api.get(f"/api/projects/{project.pk}/next-task/?kind=attribution").json()
    body = {"value": {"attributions": [triple(js_span)]}, "offset_unit": "utf16"}
    response = api.put(f"/api/tasks/{task['id']}/annotation/", body, format="json")
    assert response.status_code == 200, response.json()
    assert stored(Annotation.objects.get(annotator=ann), "cue") == "said"
    conflicting = api.put(f"/api/tasks/{task['id']}/annotation/?offset_unit=codepoint", body)
    assert conflicting.status_code == 400
    assert "offset_unit" in conflicting.json()["errors"]


@pytest.mark.parametrize(
    ("needle", "inside", "what"),
    [
        ("👍 and", 1, "surrogate pair"),
        ("🇺🇦", 2, "grapheme cluster"),  # between the flag's two regional indicators
        ("e\u0301", 1, "grapheme cluster"),  # between e and the combining acute accent
        ("👩\u200d💻", 2, "grapheme cluster"),  # between 👩 and the zero-width joiner
    ],
)
def test_utf16_offset_inside_a_character_is_refused_naming_the_field(
    world, needle: str, inside: int, what: str
) -> None:
    project, _lead, ann, _ann2, _doc = world
    api = client_for(ann)
    task = api.get(f"/api/projects/{project.pk}/next-task/?kind=attribution").json()
    value = {"attributions": [triple(js_span)]}
    value["attributions"][0]["source"] = {"start": js_index(TEXT, needle) + inside, "end": 120}
    response = api.put(
        f"/api/tasks/{task['id']}/annotation/?offset_unit=utf16", {"value": value}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert list(body["errors"]) == ["value.attributions[0].source.start"]
    assert what in body["detail"]
    assert not Annotation.objects.exists()


def test_unknown_offset_unit_is_refused(world) -> None:
    project, _lead, ann, _ann2, doc = world
    response = client_for(ann).get(f"/api/documents/{doc}/?offset_unit=bytes")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "offset_unit": ["must be one of codepoint, utf16; got 'bytes'"]
    }


def test_utf16_past_the_end_names_the_length_in_utf16(world) -> None:
    project, _lead, ann, _ann2, _doc = world
    api = client_for(ann)
    task = api.get(f"/api/projects/{project.pk}/next-task/?kind=attribution").json()
    value = {"attributions": [triple(js_span)]}
    length = len(TEXT.encode("utf-16-le")) // 2
    value["attributions"][0]["content"] = {"start": 0, "end": length + 1}
    response = api.put(
        f"/api/tasks/{task['id']}/annotation/?offset_unit=utf16", {"value": value}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "value.attributions[0].content.end": [
            f"must be <= the document length {length} (UTF-16 code units)"
        ]
    }


def test_every_reading_endpoint_answers_in_both_units(
    world, django_capture_on_commit_callbacks
) -> None:
    project, lead, ann, ann2, doc = world
    for user, content in ((ann, 'the talks were "productive" for Kyiv'), (ann2, "the talks")):
        held = next_task(user=user, project=project, kind="attribution")
        value = {"attributions": [{**triple(cp_span), "content": cp_span(TEXT, content)}]}
        submit_annotation(user=user, task=held.task, value=value)
    task = Task.objects.get(sentence__position=0)
    annotation = Annotation.objects.get(annotator=ann)
    with django_capture_on_commit_callbacks(execute=True):
        request_agreement_run(project=project, kind="attribution", user=lead)
    GoldLabel.objects.filter(task=task).delete()
    put = client_for(lead).put(
        f"/api/tasks/{task.pk}/gold/",
        {"value": {"attributions": [triple(js_span)]}, "offset_unit": "utf16"},
        format="json",
    )
    assert put.status_code == 200, put.json()
    gold_cue = GoldLabel.objects.get(task=task).value["attributions"][0]["cue"]
    assert TEXT[gold_cue["start"] : gold_cue["end"]] == "said"
    assert js_slice(TEXT, put.json()["value"]["attributions"][0]["cue"]) == "said"

    def cues(body, path):
        for key in path:
            body = body[key]
        return body

    reads = [
        (ann, f"/api/tasks/{task.pk}/", ["annotation", "value", "attributions", 0, "cue"]),
        (ann, f"/api/tasks/{task.pk}/annotation/", ["value", "attributions", 0, "cue"]),
        (
            ann,
            f"/api/tasks/{task.pk}/annotation/",
            ["value", "attributions", 0, "cue"],
        ),
        (ann, f"/api/annotations/{annotation.pk}/", ["value", "attributions", 0, "cue"]),
        (
            ann,
            f"/api/projects/{project.pk}/my-annotations/",
            ["results", 0, "value", "attributions", 0, "cue"],
        ),
        (
            lead,
            f"/api/projects/{project.pk}/annotations/",
            ["results", 0, "value", "attributions", 0, "cue"],
        ),
        (lead, f"/api/tasks/{task.pk}/gold/", ["value", "attributions", 0, "cue"]),
        (
            lead,
            f"/api/projects/{project.pk}/disputed/?kind=attribution&include_adjudicated=1",
            ["results", 0, "annotations", 0, "value", "attributions", 0, "cue"],
        ),
        (
            lead,
            f"/api/projects/{project.pk}/disputed/?kind=attribution&include_adjudicated=1",
            ["results", 0, "gold", "value", "attributions", 0, "cue"],
        ),
        (lead, f"/api/documents/{doc}/", ["sentences", 1]),
        (ann, f"/api/tasks/{task.pk}/", ["next", 0]),
    ]
    run = project.agreement_runs.filter(kind="attribution").latest("id")
    assert run.status == "done", (run.status, run.error)
    assert run.result["most_disputed"]
    reads.append(
        (
            lead,
            f"/api/agreement-runs/{run.pk}/",
            ["result", "most_disputed", 0, "annotations", 0, "value", "attributions", 0, "cue"],
        )
    )
    for user, url, path in reads:
        api = client_for(user)
        sep = "&" if "?" in url else "?"
        in_cp = api.get(url)
        in_u16 = api.get(f"{url}{sep}offset_unit=utf16")
        assert in_cp.status_code == in_u16.status_code == 200, (url, in_u16.json())
        cp, u16 = cues(in_cp.json(), path), cues(in_u16.json(), path)
        expected = cp.get("text") or "said"
        assert TEXT[cp["start"] : cp["end"]] == expected, url
        assert js_slice(TEXT, u16) == expected, url
        assert u16["start"] == cp["start"] + 3, url  # 🇺🇦👍 come before


def test_controls_and_qualification_feedback_in_both_units(world) -> None:
    from labeling.quality.models import ControlQuestion, QualitySettings

    project, lead, ann, _, doc = world
    task = Task.objects.get(sentence__position=0)
    url = f"/api/projects/{project.pk}/controls/?offset_unit=utf16"
    posted = client_for(lead).post(
        url, [{"task": task.pk, "value": {"attributions": [triple(js_span)]}}], format="json"
    )
    assert posted.status_code == 201, posted.json()
    cue = ControlQuestion.objects.get(task=task).value["attributions"][0]["cue"]
    assert TEXT[cue["start"] : cue["end"]] == "said"  # stored in code points
    assert js_slice(TEXT, posted.json()[0]["value"]["attributions"][0]["cue"]) == "said"
    listed = client_for(lead).get(url).json()["results"][0]
    assert js_slice(TEXT, listed["value"]["attributions"][0]["cue"]) == "said"
    bad = client_for(lead).post(
        url,
        [
            {
                "task": task.pk,
                "value": {"attributions": [{**triple(js_span), "cue": {"start": 29, "end": 30}}]},
            }
        ],
        format="json",
    )
    assert bad.status_code == 400  # 29 is inside the surrogate pair of 🇺🇦
    assert "[0].value.attributions[0].cue.start" in bad.json()["errors"], bad.json()
    QualitySettings.objects.create(project=project, qualification_size=1)
    api = client_for(ann)
    got = api.get(f"/api/projects/{project.pk}/next-task/?kind=attribution").json()
    assert got["id"] == task.pk
    answer = api.put(
        f"/api/tasks/{task.pk}/annotation/?offset_unit=utf16",
        {"value": {"attributions": [triple(js_span)]}},
        format="json",
    ).json()
    assert answer["feedback"]["correct"] is True
    assert js_slice(TEXT, answer["feedback"]["answer"]["attributions"][0]["cue"]) == "said"
