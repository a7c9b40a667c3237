"""Model predictions: import (JSON, JSON Lines), checks, access, task payload, agreement."""

from __future__ import annotations

import json

import pytest

from labeling.models import Prediction, Task
from tests.api_helpers import client_for, make_world
from tests.factories import add_documents, make_project
from tests.test_offset_units_api import TEXT, cp_span, js_slice, js_span

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world(make_user):
    return make_world(make_user)


def _tasks(project, kind="verifiability") -> list[int]:
    return list(
        Task.objects.filter(project=project, kind=kind)
        .order_by("document_id", "position", "target")
        .values_list("pk", flat=True)
    )


def _post(client, project, body, **extra):
    return client.post(f"/api/projects/{project.pk}/predictions/", body, format="json", **extra)


def test_leads_import_predictions_and_reimporting_replaces_them(world):
    tasks = _tasks(world.project)
    lead = client_for(world.lead)
    body = [
        {"task": tasks[0], "model": "bert-v1", "value": {"label": "verifiable"}, "score": 0.9},
        {"task": tasks[1], "model": "bert-v1", "value": {"label": "not_a_claim"}},
        {"task": tasks[0], "model": "rules", "value": {"label": "unverifiable"}, "score": 0.2},
    ]
    first = _post(lead, world.project, body)
    assert first.status_code == 201, first.content
    assert first.json() == {"created": 3, "updated": 0}
    again = _post(lead, world.project, [{**body[0], "value": {"label": "not_a_claim"}}])
    assert again.json() == {"created": 0, "updated": 1}
    stored = Prediction.objects.get(task_id=tasks[0], model_name="bert-v1")
    assert (stored.value, stored.score) == ({"label": "not_a_claim"}, 0.9)

    listed = lead.get(f"/api/projects/{world.project.pk}/predictions/?model=bert-v1").json()
    assert [(p["task"], p["model"], p["kind"]) for p in listed["results"]] == [
        (tasks[0], "bert-v1", "verifiability"),
        (tasks[1], "bert-v1", "verifiability"),
    ]
    one = _post(
        lead, world.project, {"task": tasks[2], "model": "m", "value": {"label": "verifiable"}}
    )
    assert one.json() == {"created": 1, "updated": 0}

    gone = lead.delete(f"/api/projects/{world.project.pk}/predictions/?model=bert-v1")
    assert gone.json() == {"deleted": 2}
    assert sorted(Prediction.objects.values_list("model_name", flat=True)) == ["m", "rules"]
    assert lead.delete(f"/api/projects/{world.project.pk}/predictions/").status_code == 400


def test_json_lines_are_imported_and_errors_name_the_line(world):
    tasks = _tasks(world.project)
    lead = client_for(world.lead)
    url = f"/api/projects/{world.project.pk}/predictions/"
    lines = [
        {"task": tasks[0], "model": "m", "value": {"label": "verifiable"}, "score": 1},
        {"task": tasks[1], "model": "m", "value": {"label": "unverifiable"}},
    ]
    body = "\n".join(json.dumps(x) for x in lines) + "\n\n"
    ok = lead.post(url, body, content_type="application/x-ndjson")
    assert ok.status_code == 201, ok.content
    assert ok.json() == {"created": 2, "updated": 0}

    bad = json.dumps(lines[0]) + "\n" + json.dumps({**lines[1], "value": {"label": "maybe"}})
    refused = lead.post(url, bad, content_type="application/x-ndjson")
    assert refused.status_code == 400
    assert "line 2.value.label" in refused.json()["errors"]
    broken = lead.post(url, '{"task": 1,\n', content_type="application/x-ndjson")
    assert broken.status_code == 400
    assert "line 1" in broken.json()["errors"]
    assert Prediction.objects.count() == 2


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"value": {"label": "maybe"}}, "[1].value.label"),
        ({"value": {"label": "verifiable", "extra": 1}}, "[1].value.extra"),
        ({"model": ""}, "[1].model"),
        ({"model": " padded "}, "[1].model"),
        ({"model": "x" * 101}, "[1].model"),
        ({"score": "high"}, "[1].score"),
        ({"score": True}, "[1].score"),
        ({"task": "7"}, "[1].task"),
        ({"task": 10**12}, "[1].task"),
        ({"colour": "red"}, "[1].colour"),
        ({"value": None}, "[1].value"),
    ],
)
def test_bad_predictions_are_refused_naming_the_item_and_nothing_is_stored(world, item, field):
    tasks = _tasks(world.project)
    good = {"task": tasks[0], "model": "m", "value": {"label": "verifiable"}}
    response = _post(
        client_for(world.lead), world.project, [good, {**good, "task": tasks[1], **item}]
    )
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"], response.json()
    assert not Prediction.objects.exists()


def test_other_projects_tasks_duplicates_and_shapes_are_refused(world):
    tasks = _tasks(world.project)
    (foreign,) = _tasks(world.other)[:1]
    lead = client_for(world.lead)
    good = {"task": tasks[0], "model": "m", "value": {"label": "verifiable"}}
    assert "[0].task" in _post(lead, world.project, [{**good, "task": foreign}]).json()["errors"]
    assert "[1]" in _post(lead, world.project, [good, good]).json()["errors"]
    assert "body" in _post(lead, world.project, []).json()["errors"]
    assert "body" in _post(lead, world.project, "text").json()["errors"]
    assert "[0]" in _post(lead, world.project, [3]).json()["errors"]
    assert not Prediction.objects.exists()


def test_attribution_predictions_are_checked_and_read_back_in_either_unit(make_user):
    lead, ann = make_user("lead"), make_user("ann")
    project = make_project(
        lead=lead, annotators=[ann], schemas=[{"kind": "attribution"}], overlap=1
    )
    add_documents(project, [TEXT])
    first = _tasks(project, "attribution")[0]
    triple_js = {
        "source": js_span(TEXT, "A spokesperson"),
        "cue": js_span(TEXT, "said"),
        "content": js_span(TEXT, 'the talks were "productive" for Kyiv'),
    }
    lead_client = client_for(lead)
    sent = _post(
        lead_client,
        project,
        [{"task": first, "model": "spanner", "value": {"attributions": [triple_js]}, "score": 0.5}],
        QUERY_STRING="offset_unit=utf16",
    )
    assert sent.status_code == 201, sent.content
    stored = Prediction.objects.get().value["attributions"][0]
    assert TEXT[stored["cue"]["start"] : stored["cue"]["end"]] == "said"
    assert stored["cue"] == cp_span(TEXT, "said")

    outside = {**triple_js, "cue": {"start": 0, "end": 10_000}}
    refused = _post(
        lead_client, project, [{"task": first, "model": "x", "value": {"attributions": [outside]}}]
    )
    assert refused.status_code == 400
    assert any(k.startswith("[0].value.attributions[0].cue") for k in refused.json()["errors"])

    annotator = client_for(ann)
    url = f"/api/projects/{project.pk}/next-task/?kind=attribution"
    task = annotator.get(url + "&offset_unit=utf16").json()
    assert task["id"] == first
    (prediction,) = task["predictions"]
    assert prediction["model"] == "spanner"
    cue = prediction["value"]["attributions"][0]["cue"]
    assert js_slice(TEXT, cue) == "said"
    in_codepoints = annotator.get(f"/api/tasks/{first}/").json()["predictions"][0]
    assert in_codepoints["value"]["attributions"][0]["cue"] == cp_span(TEXT, "said")


def test_annotators_see_predictions_best_first_but_cannot_manage_them(world):
    tasks = _tasks(world.project)
    lead = client_for(world.lead)
    _post(
        lead,
        world.project,
        [
            {"task": t, "model": model, "value": {"label": label}, "score": score}
            for t in tasks
            for model, label, score in (("low", "unverifiable", 0.1), ("high", "verifiable", 0.8))
        ],
    )
    annotator = client_for(world.annotator)
    task = annotator.get(f"/api/projects/{world.project.pk}/next-task/?kind=verifiability").json()
    assert [(p["model"], p["value"], p["score"]) for p in task["predictions"]] == [
        ("high", {"label": "verifiable"}, 0.8),
        ("low", {"label": "unverifiable"}, 0.1),
    ]
    url = f"/api/projects/{world.project.pk}/predictions/"
    assert annotator.get(url).status_code == 403
    assert _post(annotator, world.project, []).status_code == 403
    assert client_for(world.other_lead).get(url).status_code == 404
    assert client_for(None).get(url).status_code == 401
    stance = annotator.get(f"/api/projects/{world.project.pk}/next-task/?kind=stance").json()
    assert stance["predictions"] == []


def _annotate_all(world, answers: dict[int, tuple[str, str]]) -> None:
    """Both annotators answer every verifiability task: answers[task] = (first, second)."""
    for user, pick in ((world.annotator, 0), (world.annotator2, 1)):
        client = client_for(user)
        while True:
            response = client.get(f"/api/projects/{world.project.pk}/next-task/?kind=verifiability")
            if response.status_code == 204:
                break
            task_id = response.json()["id"]
            put = client.put(
                f"/api/tasks/{task_id}/annotation/",
                {"value": {"label": answers[task_id][pick]}},
                format="json",
            )
            assert put.status_code in (200, 201), put.content


def test_agreement_runs_compare_each_model_outside_the_human_figures(world, settings):
    settings.LABELING = {**settings.LABELING, "BOOTSTRAP_DRAWS": 50}
    tasks = _tasks(world.project)
    assert len(tasks) == 4
    labels = ["verifiable", "unverifiable", "not_a_claim"]
    answers = {}
    for i, task in enumerate(tasks):
        first = labels[i % 3]
        second = first if i % 4 else labels[(i + 1) % 3]  # some disagreement
        answers[task] = (first, second)
    _annotate_all(world, answers)
    lead = client_for(world.lead)
    url = f"/api/projects/{world.project.pk}/agreement-runs/"
    before = lead.post(url, {"kind": "verifiability"}, format="json").json()
    human = lead.get(f"/api/agreement-runs/{before['id']}/").json()["result"]
    assert human["models"] == []

    _post(
        lead,
        world.project,
        [
            {"task": t, "model": "copycat", "value": {"label": answers[t][0]}, "score": 1.0}
            for t in tasks
        ]
        + [{"task": t, "model": "constant", "value": {"label": "verifiable"}} for t in tasks[:3]],
    )
    gold_task = tasks[0]
    assert (
        lead.put(
            f"/api/tasks/{gold_task}/gold/",
            {"value": {"label": answers[gold_task][0]}},
            format="json",
        ).status_code
        == 200
    )
    after = lead.post(url, {"kind": "verifiability"}, format="json").json()
    result = lead.get(f"/api/agreement-runs/{after['id']}/").json()["result"]
    for key in ("alpha", "alpha_ci95", "percent_agreement", "n_items", "n_annotations", "pairwise"):
        assert result[key] == human[key], key  # the humans' figures do not move
    models = {m["model"]: m for m in result["models"]}
    assert sorted(models) == ["constant", "copycat"]
    copycat = models["copycat"]
    assert copycat["n_predictions"] == len(tasks)
    assert copycat["mean_score"] == 1.0
    agree = sum(a == b for a, b in answers.values())
    assert copycat["vs_annotators"]["n"] == 2 * len(tasks)
    assert copycat["vs_annotators"]["accuracy"] == pytest.approx(
        (len(tasks) + agree) / (2 * len(tasks))
    )
    assert copycat["vs_gold"]["n"] == 1
    assert copycat["vs_gold"]["accuracy"] == 1.0
    majority = copycat["vs_majority"]
    assert majority["n"] == agree  # ties (one vote each) have no majority
    assert majority["accuracy"] == 1.0
    assert majority["kappa"] == pytest.approx(1.0)
    low, high = copycat["vs_annotators"]["accuracy_ci95"]
    assert low <= copycat["vs_annotators"]["accuracy"] <= high
    assert models["constant"]["n_predictions"] == 3
    assert models["constant"]["vs_majority"]["kappa"] is not None
    assert models["constant"]["vs_majority"]["kappa"] < 1.0


def test_exports_carry_predictions_in_their_own_field(world):
    import csv
    import io

    import pyarrow.parquet as pq

    from tests.test_export_api import body_of

    tasks = _tasks(world.project)
    _annotate_all(world, dict.fromkeys(tasks, ("verifiable", "unverifiable")))
    lead = client_for(world.lead)
    _post(
        lead,
        world.project,
        [
            {"task": tasks[0], "model": "b", "value": {"label": "not_a_claim"}, "score": 0.25},
            {"task": tasks[0], "model": "a", "value": {"label": "verifiable"}},
        ],
    )
    base = f"/api/projects/{world.project.pk}/export/?kind=verifiability&format="
    lines = [json.loads(x) for x in body_of(lead.get(base + "jsonl")).decode().splitlines()]
    by_task = {r["task_id"]: r for r in lines}
    assert by_task[tasks[0]]["predictions"] == [
        {"model": "a", "value": {"label": "verifiable"}, "score": None},
        {"model": "b", "value": {"label": "not_a_claim"}, "score": 0.25},
    ]
    assert all(by_task[t]["predictions"] == [] for t in tasks[1:])
    assert all(len(r["annotations"]) == 2 for r in lines)  # the models are not annotators

    table = pq.read_table(io.BytesIO(body_of(lead.get(base + "parquet"))))
    rows = {r["task_id"]: r for r in table.to_pylist()}
    assert rows[tasks[0]]["predictions"] == by_task[tasks[0]]["predictions"]
    assert str(table.schema.field("predictions").type).startswith("list<element: struct<model")

    reader = csv.DictReader(io.StringIO(body_of(lead.get(base + "csv")).decode()))
    cells = {int(r["task_id"]): json.loads(r["predictions"]) for r in reader}
    assert cells[tasks[0]] == by_task[tasks[0]]["predictions"]
