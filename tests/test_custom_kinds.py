"""Custom label kinds: defined per project, they flow through every part of the system.

The end-to-end test drives a custom kind through the REST API (project, members,
import, next-task, PUT annotation), an agreement run (checked against the
``krippendorff`` package at the interval level with the kind's values), the disputed
queue, adjudication and gold aggregation, every export format, and the admin pages.
"""

from __future__ import annotations

import csv
import io
import json

import krippendorff
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.urls import reverse

from labeling.kinds import BUILTIN_NAMES, kind_spec
from labeling.models import GoldLabel, LabelSchema, Project, Task
from tests.api_helpers import client_for
from tests.test_export_api import body_of

pytestmark = pytest.mark.django_db

CERTAINTY = {
    "kind": "certainty",
    "description": "How certain does the sentence present its claim?",
    "labels": ["doubtful", "possible", "likely", "certain"],
    "level": "interval",
    "values": [0, 0.4, 0.7, 1],
}
HAS_NUMBER = {"kind": "has_number", "labels": ["yes", "no"]}
# Non-BMP emoji, a flag, a ZWJ sequence, CJK and a combining mark, in separate sentences.
TEXT = (
    "Officials said 3 people were hurt 👍.\n"
    "The mayor 🇺🇦 denied it.\n"
    "Critics, 例えば the union, disagree 👩‍💻.\n"
    "The cafe\u0301 reopened on Monday.\n"
    "Nobody knows what happens next."
)
# What each of the three annotators answers on the five sentences (label indices).
ANSWERS = [[3, 3, 2], [0, 1, 0], [2, 2, 3], [1, 1, 1], [0, 3, 1]]


@pytest.fixture
def people(make_user):
    return {
        "staff": make_user("staff", is_staff=True),
        "lead": make_user("lead"),
        "anns": [make_user(f"ann{i}") for i in range(3)],
    }


def _create_project(client, schemas, **extra):
    body = {"name": "Custom", "annotators_per_item": 3, "schemas": schemas, **extra}
    return client.post("/api/projects/", body, format="json")


def test_custom_kind_end_to_end(people, django_capture_on_commit_callbacks, client) -> None:
    staff = client_for(people["staff"])
    created = _create_project(
        staff, [{"kind": "verifiability"}, CERTAINTY, HAS_NUMBER], description="custom kinds"
    )
    assert created.status_code == 201, created.json()
    project_id = created.json()["id"]
    schemas = {s["kind"]: s for s in created.json()["schemas"]}
    assert schemas["certainty"]["values"] == [0, 0.4, 0.7, 1]
    assert schemas["certainty"]["level"] == "interval"
    assert schemas["certainty"]["description"] == CERTAINTY["description"]
    assert schemas["has_number"]["values"] is None
    staff.post(
        f"/api/projects/{project_id}/members/",
        {"username": "lead", "role": "lead"},
        format="json",
    )
    for ann in people["anns"]:
        member = staff.post(
            f"/api/projects/{project_id}/members/",
            {"username": ann.username, "role": "annotator"},
            format="json",
        )
        assert member.status_code in (200, 201)
    lead = client_for(people["lead"])
    imported = lead.post(
        f"/api/projects/{project_id}/documents/",
        {"title": "Doc", "text": TEXT, "external_id": "d1"},
        format="json",
    )
    assert imported.status_code == 201, imported.json()
    # Task creation: one task per sentence for each custom kind, like verifiability.
    n_sentences = imported.json()["n_sentences"]
    assert n_sentences == 5
    for kind in ("certainty", "has_number", "verifiability"):
        assert Task.objects.filter(project_id=project_id, kind=kind).count() == n_sentences

    # The queue: every annotator works through the custom kind with next-task and PUT.
    labels = CERTAINTY["labels"]
    for column, ann in enumerate(people["anns"]):
        annotator = client_for(ann)
        seen = 0
        while True:
            response = annotator.get(f"/api/projects/{project_id}/next-task/?kind=certainty")
            if response.status_code == 204:
                break
            assert response.status_code == 200, response.content
            task = response.json()
            assert task["kind"] == "certainty"
            assert task["schema"]["labels"] == labels
            assert task["schema"]["values"] == [0, 0.4, 0.7, 1]
            assert task["schema"]["widget"] == "labels"
            assert task["schema"]["description"] == CERTAINTY["description"]
            if seen == 0 and column == 0:
                bad = annotator.put(
                    f"/api/tasks/{task['id']}/annotation/",
                    {"value": {"label": "sure"}},
                    format="json",
                )
                assert bad.status_code == 400
                assert "value.label" in bad.json()["errors"]
            label = labels[ANSWERS[task["sentence"]["position"]][column]]
            put = annotator.put(
                f"/api/tasks/{task['id']}/annotation/",
                {"value": {"label": label}, "lead_time_ms": 1200},
                format="json",
            )
            assert put.status_code in (200, 201), put.content
            seen += 1
        assert seen == n_sentences
    progress = lead.get(f"/api/projects/{project_id}/progress/").json()
    by_kind = {row["kind"]: row for row in progress["by_kind"]}
    assert by_kind["certainty"]["n_annotations"] == 3 * n_sentences

    # Agreement: interval alpha uses the kind's values (the krippendorff package agrees).
    with django_capture_on_commit_callbacks(execute=True):
        started = lead.post(
            f"/api/projects/{project_id}/agreement-runs/", {"kind": "certainty"}, format="json"
        )
    assert started.status_code == 202, started.content
    run = lead.get(f"/api/agreement-runs/{started.json()['id']}/").json()
    assert run["status"] == "done", run
    result = run["result"]
    numbers = np.array(CERTAINTY["values"], dtype=float)
    reliability = numbers[np.array(ANSWERS).T]  # (annotators, items)
    expected = krippendorff.alpha(reliability, level_of_measurement="interval")
    assert result["alpha"] == pytest.approx(expected, abs=1e-9)
    equally_spaced = krippendorff.alpha(
        np.array(ANSWERS, dtype=float).T, level_of_measurement="interval"
    )
    assert result["alpha"] != pytest.approx(equally_spaced, abs=1e-6)  # values matter
    assert result["level"] == "interval"
    assert result["values"] == [0, 0.4, 0.7, 1]
    assert result["labels"] == labels
    assert result["n_items"] == n_sentences
    assert len(result["alpha_ci95"]) == 2
    assert set(result["per_label"]) == set(labels)
    assert {p["a_username"] for p in result["pairwise"]} <= {"ann0", "ann1", "ann2"}

    # Review: the disputed queue, adjudication, gold aggregation.
    disputed = lead.get(f"/api/projects/{project_id}/disputed/?kind=certainty").json()
    rows = disputed["results"] if isinstance(disputed, dict) else disputed
    assert rows
    assert all(row["kind"] == "certainty" for row in rows)
    top = rows[0]["task_id"]
    bad_gold = lead.put(f"/api/tasks/{top}/gold/", {"value": {"label": "nah"}}, format="json")
    assert bad_gold.status_code == 400
    assert "value.label" in bad_gold.json()["errors"]
    gold = lead.put(f"/api/tasks/{top}/gold/", {"value": {"label": "likely"}}, format="json")
    assert gold.status_code == 200, gold.content
    for method in ("majority", "dawid_skene"):
        with django_capture_on_commit_callbacks(execute=True):
            aggregated = lead.post(
                f"/api/projects/{project_id}/gold/aggregate/",
                {"kind": "certainty", "method": method},
                format="json",
            )
        assert aggregated.status_code == 202, aggregated.content
        job = lead.get(f"/api/gold-jobs/{aggregated.json()['id']}/").json()
        assert job["status"] == "done", job
        assert job["result"]["n_adjudicated"] == 1
    golds = dict(
        GoldLabel.objects.filter(task__kind="certainty").values_list("task__position", "value")
    )
    assert golds[3] == {"label": "possible"}  # unanimous
    assert golds[rows[0]["sentence"]["position"]] == {"label": "likely"}  # adjudicated

    # Export: every format carries the custom kind's annotations and gold.
    jsonl = body_of(lead.get(f"/api/projects/{project_id}/export/?kind=certainty"))
    records = [json.loads(line) for line in jsonl.decode().splitlines()]
    assert len(records) == n_sentences
    assert {r["kind"] for r in records} == {"certainty"}
    assert all(len(r["annotations"]) == 3 for r in records)
    assert all(r["tokens"] is None and r["bio"] is None for r in records)
    by_position = {r["sentence_position"]: r for r in records}
    assert by_position[3]["gold"] == {"label": "possible"}
    assert by_position[3]["modal_share"] == 1.0
    assert by_position[0]["modal_share"] == pytest.approx(2 / 3)
    csv_body = body_of(lead.get(f"/api/projects/{project_id}/export/?kind=certainty&format=csv"))
    table = list(csv.DictReader(io.StringIO(csv_body.decode(), newline="")))
    assert [json.loads(r["gold"]) for r in table] == [r["gold"] for r in records]
    parquet = body_of(lead.get(f"/api/projects/{project_id}/export/?kind=certainty&format=parquet"))
    frame = pq.read_table(pa.BufferReader(parquet)).to_pylist()
    assert [row["kind"] for row in frame] == ["certainty"] * n_sentences
    assert [row["gold"]["label"] for row in frame] == [r["gold"]["label"] for r in records]
    assert [len(row["annotations"]) for row in frame] == [3] * n_sentences
    missing = lead.get(f"/api/projects/{project_id}/export/?kind=sentiment")
    assert missing.status_code == 400
    assert "kind" in missing.json()["errors"]

    # The web admin: workspace config, dashboard and adjudication page for the custom kind.
    client.force_login(people["lead"])
    page = client.get(reverse("admin:labeling_annotate") + f"?project={project_id}&kind=certainty")
    assert page.status_code == 200
    config = page.context["workspace_config"]
    assert config["kind"] == "certainty"
    assert config["kindConfig"]["widget"] == "labels"
    assert config["kindConfig"]["labels"] == labels
    dashboard = client.get(
        reverse("admin:labeling_agreement", args=[project_id]) + "?kind=certainty"
    )
    assert dashboard.status_code == 200
    assert b"certainty" in dashboard.content
    adjudicate = client.get(reverse("admin:labeling_adjudicate", args=[top]))
    assert adjudicate.status_code == 200
    assert b'data-label="likely"' in adjudicate.content


def test_interval_without_values_means_equally_spaced(people) -> None:
    staff = client_for(people["staff"])
    response = _create_project(staff, [{**CERTAINTY, "values": None}])
    assert response.status_code == 201, response.json()
    schema = LabelSchema.objects.get(project_id=response.json()["id"], kind="certainty")
    assert schema.values is None
    assert schema.level == "interval"


@pytest.mark.parametrize(
    ("schemas", "field"),
    [
        ([HAS_NUMBER, HAS_NUMBER], "schemas[1].kind"),  # duplicate kind
        ([{"kind": "stance", "labels": ["a", "b"]}], "schemas[0].targets"),  # built-in rules
        ([{"kind": "attribution", "labels": ["a", "b"]}], "schemas[0].labels"),
        ([{"kind": "Has-Number", "labels": ["yes", "no"]}], "schemas[0].kind"),
        ([{"kind": "1st", "labels": ["yes", "no"]}], "schemas[0].kind"),
        ([{"kind": "x" * 33, "labels": ["yes", "no"]}], "schemas[0].kind"),
        ([{"kind": "", "labels": ["yes", "no"]}], "schemas[0].kind"),
        ([{"kind": 7, "labels": ["yes", "no"]}], "schemas[0].kind"),
        ([{"kind": "mood"}], "schemas[0].labels"),
        ([{"kind": "mood", "labels": []}], "schemas[0].labels"),
        ([{"kind": "mood", "labels": ["only"]}], "schemas[0].labels"),
        ([{**CERTAINTY, "values": [0, 1]}], "schemas[0].values"),  # length mismatch
        ([{**CERTAINTY, "values": [0, "a", 2, 3]}], "schemas[0].values[1]"),
        ([{**CERTAINTY, "values": [0, True, 2, 3]}], "schemas[0].values[1]"),
        ([{**CERTAINTY, "values": [0, 1, 1, 3]}], "schemas[0].values[2]"),
        ([{**CERTAINTY, "values": "0,1,2,3"}], "schemas[0].values"),
        ([{**CERTAINTY, "level": "ratio", "values": None}], "schemas[0].values"),
        ([{"kind": "weight", "labels": ["a", "b"], "level": "ratio"}], "schemas[0].values"),
        ([{**CERTAINTY, "level": "ratio", "values": [-1, 0, 1, 2]}], "schemas[0].values"),
        ([{**CERTAINTY, "level": "nominal"}], "schemas[0].values"),
        ([{**CERTAINTY, "level": "fuzzy"}], "schemas[0].level"),
        ([{**CERTAINTY, "targets": ["x"]}], "schemas[0].targets"),
        ([{**CERTAINTY, "description": 5}], "schemas[0].description"),
    ],
)
def test_bad_custom_kinds_are_a_400_naming_the_field(people, schemas, field) -> None:
    before = Project.objects.count()
    response = _create_project(client_for(people["staff"]), schemas)
    assert response.status_code == 400, response.json()
    body = response.json()
    assert field in body["errors"], body
    assert body["detail"].startswith(field)
    assert Project.objects.count() == before
    assert not LabelSchema.objects.exists()


def test_ratio_schema_without_values_names_the_field(people) -> None:
    response = _create_project(
        client_for(people["staff"]), [{"kind": "weight", "labels": ["a", "b"], "level": "ratio"}]
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "schemas[0].values": [
            "is required for the ratio level: one number per label, e.g. [0, 1, 2.5]"
        ]
    }


def test_kind_names_outside_the_project_are_refused_everywhere(people) -> None:
    response = _create_project(client_for(people["staff"]), [HAS_NUMBER])
    project_id = response.json()["id"]
    Project.objects.get(pk=project_id).memberships.create(user=people["lead"], role="lead")
    lead = client_for(people["lead"])
    for bad in ("certainty", "Bad Name"):
        run = lead.post(f"/api/projects/{project_id}/agreement-runs/", {"kind": bad})
        assert run.status_code == 400
        assert "kind" in run.json()["errors"]
        gold = lead.post(f"/api/projects/{project_id}/gold/aggregate/", {"kind": bad})
        assert gold.status_code == 400
        assert "kind" in gold.json()["errors"]
        queue = lead.get(f"/api/projects/{project_id}/next-task/", {"kind": bad})
        assert queue.status_code == 400
        assert "kind" in queue.json()["errors"]


def test_admin_project_form_creates_custom_kinds_and_names_bad_fields(people, client) -> None:
    client.force_login(people["lead"])
    people["lead"].is_staff = True
    people["lead"].save()
    url = reverse("admin:labeling_project_create")
    form = client.get(url)
    assert b'name="custom-0-kind"' in form.content
    for name in BUILTIN_NAMES:
        assert f'name="{name}_enabled"'.encode() in form.content
    data = {
        "name": "Form project",
        "annotators_per_item": 2,
        "lease_minutes": 30,
        "verifiability_enabled": "on",
        "verifiability_labels": "yes, no",
        "verifiability_level": "nominal",
        "custom-TOTAL_FORMS": "3",
        "custom-INITIAL_FORMS": "0",
        "custom-MIN_NUM_FORMS": "0",
        "custom-MAX_NUM_FORMS": "20",
        "custom-0-kind": "certainty",
        "custom-0-description": "How certain?",
        "custom-0-labels": "doubtful, possible, likely, certain",
        "custom-0-level": "ratio",
        "custom-0-values": "0, 0.4, x, 1",
        "custom-1-kind": "",
        "custom-1-labels": "",
        "custom-1-level": "nominal",
    }
    response = client.post(url, data)
    assert response.status_code == 200
    errors = response.context["custom_kinds"].forms[0].errors
    assert "values" in errors, errors
    assert not Project.objects.filter(name="Form project").exists()
    data["custom-0-values"] = "0, 0.4, 0.7, 1"
    response = client.post(url, data)
    assert response.status_code == 302, response.context and response.context["form"].errors
    project = Project.objects.get(name="Form project")
    schema = project.schemas.get(kind="certainty")
    assert schema.values == [0, 0.4, 0.7, 1]
    assert schema.level == "ratio"
    assert schema.description == "How certain?"
    assert sorted(project.schemas.values_list("kind", flat=True)) == [
        "certainty",
        "verifiability",
    ]


def test_a_custom_kind_spec_is_the_generic_single_label_kind() -> None:
    spec = kind_spec("has_number")
    assert not spec.builtin
    assert spec.widget == kind_spec("verifiability").widget
    assert spec.value_key({"label": "yes"}) == "yes"


def test_admin_schema_inline_is_checked_by_the_registry() -> None:
    from labeling.admin.model_admins import LabelSchemaForm

    ratio = {"kind": "weight", "labels": '["a", "b"]', "level": "ratio", "enabled": True}
    form = LabelSchemaForm(data={**ratio, "values": "null", "targets": "[]"})
    assert not form.is_valid()
    assert "values" in form.errors
    form = LabelSchemaForm(data={**ratio, "kind": "Weight!", "values": "[0, 2]", "targets": "[]"})
    assert not form.is_valid()
    assert "kind" in form.errors
    form = LabelSchemaForm(data={**ratio, "values": "[0, 2.5]", "targets": "[]"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["values"] == [0, 2.5]
