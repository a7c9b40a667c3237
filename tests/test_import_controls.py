"""Control questions imported with their documents (a ``controls`` field in JSONL/CSV/JSON).

The same readers serve the API (JSON, JSON Lines, files) and the admin upload; each
control becomes a control question through ``quality.controls.set_controls`` (the kind
checks the answer); a bad control names its line and field, and nothing is imported.
"""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from labeling.importing.readers import ReadError, read_jsonl
from labeling.models import Document, ImportJob, Task
from labeling.quality.models import CONTROL_OVERLAP, ControlQuestion
from tests.factories import make_project

pytestmark = pytest.mark.django_db

TEXT = (
    "Kyiv 🇺🇦 said the talks were productive.\nCafe\u0301 owners 👩‍💻 disagreed. 東京は静かだった。"
)
SAY = TEXT.index("said")


@pytest.fixture
def setup(make_user):
    lead = make_user("lead")
    project = make_project(lead=lead)
    client = APIClient()
    client.force_authenticate(lead)
    return project, client, lead


def url(project) -> str:
    return f"/api/projects/{project.pk}/documents/"


def line(**fields) -> str:
    return json.dumps({"text": TEXT, **fields}, ensure_ascii=False)


def post_jsonl(client, project, *lines: str):
    body = "\n".join(lines).encode()
    return client.generic("POST", url(project), body, content_type="application/x-ndjson")


def test_jsonl_controls_of_every_kind_become_control_questions(setup):
    project, client, lead = setup
    controls = [
        {"kind": "verifiability", "sentence": 0, "value": {"label": "verifiable"}},
        {
            "kind": "stance",
            "target": "Ukrainian government",
            "offset": TEXT.index("owners"),
            "value": {"label": "against"},
        },
        {
            "kind": "attribution",
            "sentence": 0,
            "value": {
                "attributions": [
                    {
                        "source": {"start": 0, "end": 4},
                        "cue": {"start": SAY, "end": SAY + 4},
                        "content": {"start": SAY + 5, "end": TEXT.index("\n")},
                    }
                ]
            },
        },
    ]
    response = post_jsonl(client, project, line(external_id="a", controls=controls))
    assert response.status_code == 201, response.json()
    assert response.json()["n_controls"] == 3
    doc = Document.objects.get(project=project, external_id="a")
    first, second, third = doc.sentences.order_by("position")
    assert second.text == "Cafe\u0301 owners 👩‍💻 disagreed."
    stored = {(c.task.sentence_id, c.kind, c.task.target): c for c in ControlQuestion.objects.all()}
    assert set(stored) == {
        (first.pk, "verifiability", ""),
        (second.pk, "stance", "Ukrainian government"),
        (first.pk, "attribution", ""),
    }
    assert stored[(first.pk, "verifiability", "")].value == {"label": "verifiable"}
    cue = stored[(first.pk, "attribution", "")].value["attributions"][0]["cue"]
    assert TEXT[cue["start"] : cue["end"]] == "said"
    assert all(c.created_by == lead for c in stored.values())
    for control in stored.values():
        assert Task.objects.get(pk=control.task_id).overlap == CONTROL_OVERLAP
    assert third.text == "東京は静かだった。"

    # Importing the same document again sets the answers again and creates nothing.
    controls[0]["value"] = {"label": "not_a_claim"}
    again = post_jsonl(client, project, line(external_id="a", controls=controls))
    assert again.status_code == 200, again.json()
    assert ControlQuestion.objects.count() == 3
    answer = ControlQuestion.objects.get(task__sentence=first, kind="verifiability").value
    assert answer == {"label": "not_a_claim"}


def test_json_body_and_csv_upload_take_controls_too(setup):
    project, client, _ = setup
    body = {
        "text": TEXT,
        "external_id": "j",
        "controls": [{"kind": "verifiability", "sentence": 1, "value": {"label": "unverifiable"}}],
    }
    response = client.post(url(project), body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["n_controls"] == 1

    cell = json.dumps([{"kind": "verifiability", "sentence": 2, "value": {"label": "not_a_claim"}}])
    csv = 'external_id,text,controls\nc,"' + TEXT + '","' + cell.replace('"', '""') + '"\n'
    upload = SimpleUploadedFile("docs.csv", csv.encode())
    response = client.post(url(project), {"file": upload}, format="multipart")
    assert response.status_code == 201, response.json()
    control = ControlQuestion.objects.get(task__document__external_id="c")
    assert control.task.sentence.position == 2
    assert control.value == {"label": "not_a_claim"}


@pytest.mark.parametrize(
    ("control", "message"),
    [
        (
            {"kind": "verifiability", "sentence": 0, "value": {"label": "maybe"}},
            "line 2: controls[0].value.label:",
        ),
        (
            {"kind": "verifiability", "sentence": 7, "value": {"label": "verifiable"}},
            "line 2: controls[0].sentence: the document has 3 sentences (positions 0 to 2)",
        ),
        (
            {"kind": "verifiability", "offset": TEXT.index("\n"), "value": {"label": "verifiable"}},
            "line 2: controls[0].offset: falls between sentences",
        ),
        (
            {"kind": "stance", "sentence": 0, "value": {"label": "favor"}},
            "line 2: controls[0].target: must be one of 'Russian government', 'Ukrainian",
        ),
        (
            {"kind": "verifiability", "offset": 9999, "value": {"label": "verifiable"}},
            "line 2: controls[0].offset: is past the end of the text (77 code points)",
        ),
        (
            {"kind": "sentiment", "sentence": 0, "value": {"label": "x"}},
            "line 2: controls[0].kind: this project has no 'sentiment' tasks",
        ),
        (
            {
                "kind": "attribution",
                "sentence": 0,
                "value": {
                    "attributions": [
                        {
                            "source": {"start": 0, "end": 4},
                            "cue": {"start": 60, "end": 64},
                            "content": {"start": 5, "end": 9},
                        }
                    ]
                },
            },
            "line 2: controls[0].value.attributions[0].cue",
        ),
    ],
)
def test_a_bad_control_is_400_naming_line_and_field_and_imports_nothing(setup, control, message):
    project, client, _ = setup
    response = post_jsonl(
        client, project, line(external_id="ok"), line(external_id="bad", controls=[control])
    )
    assert response.status_code == 400, response.json()
    errors = response.json()["errors"]["body"]
    assert errors[0].startswith(message), errors
    assert not Document.objects.filter(project=project).exists()
    assert not ControlQuestion.objects.exists()


@pytest.mark.parametrize(
    ("controls", "message"),
    [
        ({"kind": "verifiability"}, "controls: must be a JSON array"),
        ([{"kind": "verifiability", "value": {"label": "x"}}], "controls[0]: give exactly one"),
        ([{"kind": "verifiability", "sentence": 0}], "controls[0].value: is required"),
        ([{"kind": "verifiability", "sentence": -1, "value": 1}], "controls[0].sentence: must be"),
        ([{"kind": "", "sentence": 0, "value": 1}], "controls[0].kind: must be a task kind"),
        ([{"kind": "x", "sentence": 0, "value": 1, "why": 1}], "controls[0].why: unknown field"),
    ],
)
def test_control_shape_is_checked_by_the_reader(controls, message):
    data = (json.dumps({"text": TEXT, "controls": controls}) + "\n").encode()
    with pytest.raises(ReadError) as raised:
        read_jsonl(data)
    assert str(raised.value.errors[0]).startswith(f"line 1: {message}")


def test_two_controls_on_one_task_are_refused(setup):
    project, client, _ = setup
    same = {"kind": "verifiability", "sentence": 0, "value": {"label": "verifiable"}}
    response = post_jsonl(client, project, line(controls=[same, {**same, "offset": None}]))
    assert response.status_code == 400
    assert "controls[1]: names the same task" in response.json()["errors"]["body"][0]


def test_admin_upload_imports_controls_through_the_job(
    setup, client, django_capture_on_commit_callbacks
):
    project, _, lead = setup
    client.force_login(lead)
    controls = [{"kind": "verifiability", "sentence": 1, "value": {"label": "verifiable"}}]
    good = (line(external_id="adm", controls=controls) + "\n").encode()
    upload = SimpleUploadedFile("docs.jsonl", good)
    admin_url = reverse("admin:labeling_import", args=[project.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(admin_url, {"file": upload, "format": ""})
    assert response.status_code == 302
    assert ControlQuestion.objects.get().task.sentence.position == 1

    bad_controls = [{"kind": "verifiability", "sentence": 1, "value": {"label": "nope"}}]
    bad = (line(external_id="x") + "\n" + line(external_id="y", controls=bad_controls)).encode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(admin_url, {"file": SimpleUploadedFile("bad.jsonl", bad), "format": ""})
    job = ImportJob.objects.get(filename="bad.jsonl")
    assert job.status == "failed"
    assert job.errors[0]["line"] == 2
    assert job.errors[0]["field"] == "controls[0].value.label"
    assert not Document.objects.filter(external_id__in=["x", "y"]).exists()


def test_control_offsets_in_utf16_are_converted(setup):
    project, client, _ = setup
    say16 = TEXT.encode("utf-16-le").index("said".encode("utf-16-le")) // 2
    assert say16 == SAY + 2  # the flag is two characters outside the BMP: 4 code units
    span = {"start": 0, "end": 4}
    value = {
        "attributions": [
            {
                "source": span,
                "cue": {"start": say16, "end": say16 + 4},
                "content": {"start": say16 + 5, "end": TEXT.index("\n") + 2},
            }
        ]
    }
    owners16 = TEXT.encode("utf-16-le").index("owners".encode("utf-16-le")) // 2
    controls = [
        {"kind": "attribution", "offset": say16, "value": value},
        {"kind": "verifiability", "offset": owners16, "value": {"label": "verifiable"}},
    ]
    body = line(external_id="u", controls=controls).encode()
    response = client.generic(
        "POST", url(project) + "?offset_unit=utf16", body, content_type="application/x-ndjson"
    )
    assert response.status_code == 201, response.json()
    attribution = ControlQuestion.objects.get(kind="attribution")
    cue = attribution.value["attributions"][0]["cue"]
    content = attribution.value["attributions"][0]["content"]
    assert TEXT[cue["start"] : cue["end"]] == "said"
    assert TEXT[content["start"] : content["end"]] == "the talks were productive."
    assert ControlQuestion.objects.get(kind="verifiability").task.sentence.position == 1

    inside_flag = TEXT.encode("utf-16-le").index("🇺🇦".encode("utf-16-le")) // 2 + 1
    bad = [{"kind": "verifiability", "offset": inside_flag, "value": {"label": "verifiable"}}]
    response = client.generic(
        "POST",
        url(project) + "?offset_unit=utf16",
        line(external_id="v", controls=bad).encode(),
        content_type="application/x-ndjson",
    )
    assert response.status_code == 400
    assert response.json()["errors"]["body"][0].startswith(
        "line 1: controls[0].offset: UTF-16 offset"
    )
