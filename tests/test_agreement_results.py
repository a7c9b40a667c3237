"""What agreement runs store for issue 12: label values, warnings, per-target, span measures."""

from __future__ import annotations

import numpy as np
import pytest

from labeling.agreement_runs.runs import execute_agreement_run
from labeling.models import AgreementRun, Annotation, JobStatus, Task
from tests.factories import add_documents, make_project

pytestmark = pytest.mark.django_db

# Krippendorff (2011) sec. C-E: 4 observers x 12 units, values 1..5 (None: missing).
K2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]
# Sentences with text outside the BMP, CJK and a combining mark (offsets are code points).
TEXT = "Anna 👍 sagte 🇺🇦 „die Lage 👩‍💻 ist 例えば café\u0301 ruhig“."


def lines(n: int) -> str:
    return "\n".join(f"Satz {i} 👍 例えば café\u0301." for i in range(n))


def run_result(project, kind: str) -> dict:
    run = AgreementRun.objects.create(project=project, kind=kind)
    execute_agreement_run(run.pk)
    run.refresh_from_db()
    assert run.status == JobStatus.DONE, run.error
    return run.result


def tasks_of(project, kind: str, target: str = "") -> list[Task]:
    return list(
        Task.objects.filter(project=project, kind=kind, target=target).order_by(
            "document", "position"
        )
    )


def test_ratio_alpha_uses_the_labels_numbers_not_their_index(make_user):
    """D1: Krippendorff (2011) at the ratio level is .797; the index 0..4 gives .734."""
    users = [make_user(f"coder{i}") for i in range(4)]
    labels = ["1", "2", "3", "4", "5"]
    project = make_project(
        annotators=users,
        overlap=4,
        schemas=[
            {
                "kind": "verifiability",
                "labels": labels,
                "level": "ratio",
                "values": [1, 2, 3, 4, 5],
            }
        ],
    )
    add_documents(project, [lines(12)])
    tasks = tasks_of(project, "verifiability")
    Annotation.objects.bulk_create(
        Annotation(task=task, annotator=user, value={"label": str(row[u])})
        for user, row in zip(users, K2011, strict=True)
        for u, task in enumerate(tasks)
        if row[u] is not None
    )
    result = run_result(project, "verifiability")
    assert round(result["alpha"], 3) == 0.797
    assert result["values"] == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert isinstance(result["warnings"], list)
    assert all(set(w) == {"code", "message"} for w in result["warnings"])
    assert "alpha" in result["definitions"]
    assert result["alpha_interval"]["n_draws"] == 1000 or result["alpha_interval"] is None


def test_stance_reports_each_target_with_its_interval_and_flags_a_failing_one(make_user):
    users = [make_user(f"ann{i}") for i in range(3)]
    project = make_project(annotators=users, overlap=3)
    add_documents(project, [lines(60)])
    rng = np.random.default_rng(0)
    labels = ["against", "neutral", "favor"]
    rows = []
    for task in tasks_of(project, "stance", "Ukrainian government"):
        truth = labels[int(rng.integers(0, 3))]
        rows += [(task, user, truth) for user in users]
    for task in tasks_of(project, "stance", "Russian government"):
        rows += [(task, user, labels[int(rng.integers(0, 3))]) for user in users]
    Annotation.objects.bulk_create(
        Annotation(task=t, annotator=u, value={"label": v}) for t, u, v in rows
    )
    result = run_result(project, "stance")
    assert result["alpha_scope"] == "pooled over targets"
    assert result["alpha_interval"]["resampled"] == "sentences"
    ukr, rus = result["per_target"]
    assert ukr["target"] == "Ukrainian government"
    assert ukr["alpha"] == 1.0
    assert rus["alpha"] < 0.3
    assert rus["alpha_ci95"][1] < 0.667
    assert rus["alpha_interval"]["resampled"] == "items"  # one task per sentence and target
    failing = [w for w in result["warnings"] if w["code"] == "failing_target"]
    assert len(failing) == 1
    assert "Russian government" in failing[0]["message"]


def test_document_bootstrap_on_request(make_user, settings):
    settings.LABELING = {**settings.LABELING, "BOOTSTRAP_CLUSTER": "document"}
    users = [make_user(f"ann{i}") for i in range(2)]
    project = make_project(annotators=users, overlap=2)
    add_documents(project, [lines(8), lines(9)])
    rng = np.random.default_rng(1)
    labels = ["verifiable", "unverifiable", "not_a_claim"]
    Annotation.objects.bulk_create(
        Annotation(task=t, annotator=u, value={"label": labels[int(rng.integers(0, 2))]})
        for t in tasks_of(project, "verifiability")
        for u in users
    )
    result = run_result(project, "verifiability")
    assert result["alpha_interval"]["resampled"] == "documents"


def test_attribution_runs_carry_alpha_u_gamma_and_triple_f1_with_intervals(make_user):
    users = [make_user(f"ann{i}") for i in range(3)]
    project = make_project(annotators=users, overlap=3)
    add_documents(project, ["\n".join([TEXT] * 12)])
    rows = []
    for n, task in enumerate(tasks_of(project, "attribution")):
        s = task.sentence

        def span(sub: str, shift: int = 0, s=s) -> dict:
            i = TEXT.index(sub)
            return {"start": s.start + i + shift, "end": s.start + i + len(sub)}

        quote = {"source": span("Anna"), "cue": span("sagte"), "content": span("„die Lage")}
        swapped = {**quote, "content": span("„die Lage", 1)}
        values = [[quote], [quote], [swapped if n % 3 == 0 else quote]] if n % 2 else [[]] * 3
        rows += [(task, u, v) for u, v in zip(users, values, strict=True)]
    Annotation.objects.bulk_create(
        Annotation(task=t, annotator=u, value={"attributions": v}) for t, u, v in rows
    )
    result = run_result(project, "attribution")
    u, g = result["unitizing_alpha"], result["gamma"]
    assert 0 < u["alpha"] < 1
    assert u["ci95"][0] <= u["alpha"] <= u["ci95"][1]
    assert u["interval"]["resampled"] == "tasks"
    assert 0 < g["gamma"] < 1
    assert g["ci95"][0] <= g["gamma"] <= g["ci95"][1]
    assert set(g["per_role"]) == {"source", "cue", "content"}
    assert 0 < result["triple_f1"]["exact"] < 1
    assert result["triple_f1"]["overlap"] == 1.0
    assert len(result["triple_f1_ci95"]["exact"]) == 2
    assert "gamma" in result["definitions"]
