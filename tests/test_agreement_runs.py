"""Agreement runs: bulk loading, stored results, failures, progress, idempotence, debounce."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext

from labeling.agreement import summarize_attributions, summarize_labels
from labeling.agreement_runs import runs as agreement_runs
from labeling.agreement_runs.runs import (
    TRIGGER_AUTO,
    execute_agreement_run,
    request_agreement_run,
    schedule_agreement_run,
)
from labeling.jobs import lifecycle
from labeling.jobs.sweeps import sweep_jobs
from labeling.jobs.tasks import agreement_run_job
from labeling.kinds import kind_spec
from labeling.kinds.attribution import ATTRIBUTION
from labeling.models import AgreementRun, Annotation, JobStatus, LabelSchema, Task
from tests.factories import add_documents, make_project

pytestmark = pytest.mark.django_db


def load_label_matrix(*, project_id: int, kind: str):
    """The kind's reliability matrix, as the agreement run loads it."""
    schema = LabelSchema.objects.get(project_id=project_id, kind=kind)
    return kind_spec(kind).load_matrix(project_id=project_id, schema=schema)


def load_attribution_items(*, project_id: int):
    """The attribution items, as the agreement run loads them."""
    return ATTRIBUTION.load_items(project_id=project_id)


LABELS = ["verifiable", "unverifiable", "not_a_claim"]


def sentences_text(n: int) -> str:
    """A document of ``n`` one-line sentences."""
    return "\n".join(f"Sentence number {i} says something." for i in range(n))


def label_tasks(project, kind: str = "verifiability", target: str = "") -> list[Task]:
    return list(
        Task.objects.filter(project=project, kind=kind, target=target).order_by(
            "document", "position"
        )
    )


def annotate(tasks: Sequence[Task], users: Sequence, table: Sequence[Sequence[str | None]]) -> None:
    """``table[i][j]`` is user j's label for task i (None: not annotated)."""
    Annotation.objects.bulk_create(
        Annotation(task=task, annotator=user, value={"label": label})
        for task, row in zip(tasks, table, strict=False)
        for user, label in zip(users, row, strict=True)
        if label is not None
    )


@pytest.fixture
def team(make_user):
    lead = make_user("lead")
    annotators = [make_user(f"ann{i}") for i in range(3)]
    project = make_project(lead=lead, annotators=annotators, overlap=3)
    return project, lead, annotators


TABLE = [
    ["verifiable", "verifiable", "verifiable"],
    ["verifiable", "unverifiable", "verifiable"],
    ["not_a_claim", "not_a_claim", None],
    ["unverifiable", "not_a_claim", "verifiable"],
    ["verifiable", None, None],
]


@pytest.fixture
def annotated(team):
    project, lead, annotators = team
    add_documents(project, [sentences_text(5)])
    tasks = label_tasks(project)
    annotate(tasks, annotators, TABLE)
    return project, lead, annotators, tasks


def expected_codes(table) -> np.ndarray:
    return np.array([[LABELS.index(v) if v else -1 for v in row] for row in table])


def test_loader_builds_the_reliability_matrix(annotated):
    project, _, annotators, tasks = annotated
    matrix = load_label_matrix(project_id=project.pk, kind="verifiability")
    assert matrix.task_ids.tolist() == [t.pk for t in tasks]
    assert matrix.annotator_ids.tolist() == sorted(u.pk for u in annotators)
    assert matrix.labels == LABELS
    np.testing.assert_array_equal(matrix.codes, expected_codes(TABLE))


def test_loader_leaves_out_unknown_labels_and_counts_them(annotated):
    project, _, annotators, tasks = annotated
    Annotation.objects.filter(task=tasks[0], annotator=annotators[0]).update(
        value={"label": "retired_label"}
    )
    matrix = load_label_matrix(project_id=project.pk, kind="verifiability")
    assert matrix.n_unknown_labels == 1
    assert matrix.codes[0].tolist() == [-1, 0, 0]


@pytest.mark.parametrize("kind", ["verifiability", "attribution"])
def test_loader_queries_do_not_grow_with_tasks(team, kind):
    project, _, annotators = team

    def queries_for(n_tasks: int) -> int:
        Task.objects.filter(project=project).delete()
        add_documents(
            project,
            [sentences_text(n_tasks)],
        )
        tasks = label_tasks(project, kind)
        assert len(tasks) == n_tasks
        if kind == "attribution":
            Annotation.objects.bulk_create(
                Annotation(task=t, annotator=u, value={"attributions": []})
                for t in tasks
                for u in annotators
            )
        else:
            annotate(tasks, annotators, [["verifiable", "unverifiable", None]] * n_tasks)
        loader = load_attribution_items if kind == "attribution" else load_label_matrix
        kwargs = {} if kind == "attribution" else {"kind": kind}
        with CaptureQueriesContext(connection) as ctx:
            loader(project_id=project.pk, **kwargs)
        return len(ctx.captured_queries)

    small = queries_for(10)
    project.documents.all().delete()
    assert queries_for(100) == small
    assert small <= 4


def test_whole_run_queries_do_not_grow_with_tasks(team):
    project, _, annotators = team

    def queries_for(n_tasks: int) -> int:
        project.documents.all().delete()
        add_documents(project, [sentences_text(n_tasks)])
        annotate(
            label_tasks(project),
            annotators,
            [["verifiable", "unverifiable", "verifiable"]] * n_tasks,
        )
        run = AgreementRun.objects.create(project=project, kind="verifiability")
        with CaptureQueriesContext(connection) as ctx:
            execute_agreement_run(run.pk)
        run.refresh_from_db()
        assert run.status == JobStatus.DONE
        return len(ctx.captured_queries)

    assert queries_for(10) == queries_for(100)


def test_run_stores_the_direct_computation_with_users_and_tasks(annotated, settings):
    project, lead, annotators, tasks = annotated
    settings.LABELING = {**settings.LABELING, "BOOTSTRAP_DRAWS": 300}
    run = AgreementRun.objects.create(project=project, kind="verifiability", requested_by=lead)
    execute_agreement_run(run.pk)
    run.refresh_from_db()
    assert run.status == JobStatus.DONE, run.error
    assert run.progress == 1.0
    assert set(run.timings) >= {"load", "compute", "store", "total"}
    direct = summarize_labels(expected_codes(TABLE), LABELS, "nominal", bootstrap_draws=300, seed=0)
    result = run.result
    for key in (
        "alpha",
        "alpha_ci95",
        "percent_agreement",
        "n_items",
        "n_annotations",
        "fleiss_kappa",
        "gwet_ac1",
        "cohen_kappa",
        "scott_pi",
        "per_label",
    ):
        assert result[key] == pytest.approx(direct[key]), key
    assert result["coincidence"] == direct["coincidence"]
    assert result["n_items"] == 5
    assert result["n_annotations"] == 12
    assert "item_disagreement" not in result
    ids = sorted(u.pk for u in annotators)
    first = result["pairwise"][0]
    assert (first["a"], first["b"]) == (ids[0], ids[1])
    assert first["a_username"] == "ann0"
    assert first["b_username"] == "ann1"
    assert [a["username"] for a in result["annotators"]] == ["ann0", "ann1", "ann2"]
    assert [a["n_annotations"] for a in result["annotators"]] == [5, 4, 3]


def test_most_disputed_lists_tasks_with_text_and_every_value(annotated):
    project, _, annotators, tasks = annotated
    run = AgreementRun.objects.create(project=project, kind="verifiability")
    execute_agreement_run(run.pk)
    run.refresh_from_db()
    disputed = run.result["most_disputed"]
    # Task 3 (three different labels) first, then task 1 (one dissent); the rest agree.
    assert [d["task_id"] for d in disputed] == [tasks[3].pk, tasks[1].pk]
    top = disputed[0]
    assert top["text"] == tasks[3].sentence.text
    assert [(a["username"], a["value"]["label"]) for a in top["annotations"]] == [
        ("ann0", "unverifiable"),
        ("ann1", "not_a_claim"),
        ("ann2", "verifiable"),
    ]
    assert top["score"] > disputed[1]["score"] > 0


def test_failing_computation_stores_failed_with_its_error(annotated, monkeypatch):
    project, *_ = annotated

    def explode(*args, **kwargs):
        raise RuntimeError("the numbers went wrong")

    monkeypatch.setattr("labeling.agreement.summarize_labels", explode)
    run = AgreementRun.objects.create(project=project, kind="verifiability")
    agreement_run_job.apply(args=(run.pk,))
    run.refresh_from_db()
    assert run.status == JobStatus.FAILED
    assert "RuntimeError: the numbers went wrong" in run.error
    assert run.result is None
    assert run.finished_at is not None


def test_progress_moves_while_the_run_works(annotated, monkeypatch):
    project, *_ = annotated
    monkeypatch.setattr(lifecycle, "PROGRESS_INTERVAL", 0.0)
    seen: list[float] = []

    def observing(*args, progress=None, **kwargs):
        for fraction in (0.25, 0.5, 0.75):
            progress(fraction)
            seen.append(AgreementRun.objects.get(pk=run.pk).progress)
        return summarize_labels(*args, progress=progress, **kwargs)

    monkeypatch.setattr("labeling.agreement.summarize_labels", observing)
    run = AgreementRun.objects.create(project=project, kind="verifiability")
    execute_agreement_run(run.pk)
    assert seen == sorted(seen)
    assert seen[0] > agreement_runs.LOAD_SHARE - 1e-9
    assert seen[-1] > seen[0]
    run.refresh_from_db()
    assert run.status == JobStatus.DONE
    assert run.progress == 1.0


def test_rerunning_a_done_run_is_a_no_op(annotated):
    project, *_ = annotated
    run = AgreementRun.objects.create(project=project, kind="verifiability")
    execute_agreement_run(run.pk)
    run.refresh_from_db()
    finished, result = run.finished_at, run.result
    Annotation.objects.all().delete()
    execute_agreement_run(run.pk)
    run.refresh_from_db()
    assert (run.finished_at, run.result) == (finished, result)


def test_a_run_left_running_by_a_dead_worker_is_recomputed(annotated):
    project, *_ = annotated
    run = AgreementRun.objects.create(project=project, kind="verifiability", status="running")
    execute_agreement_run(run.pk)
    run.refresh_from_db()
    assert run.status == JobStatus.DONE
    assert run.result["n_items"] == 5


def test_a_deleted_run_is_tolerated(annotated):
    project, *_ = annotated
    run = AgreementRun.objects.create(project=project, kind="verifiability")
    run_id = run.pk
    run.delete()
    agreement_run_job.apply(args=(run_id,))
    assert not AgreementRun.objects.filter(pk=run_id).exists()


def test_stance_pools_targets_and_reports_each_target(team):
    project, _, annotators = team
    add_documents(project, [sentences_text(4)])
    ukr = label_tasks(project, "stance", "Ukrainian government")
    rus = label_tasks(project, "stance", "Russian government")
    ukr_table = [["against", "against", "neutral"]] * 2 + [["favor", "favor", "favor"]] * 2
    rus_table = [["neutral", "favor", "against"]] * 4
    annotate(ukr, annotators, ukr_table)
    annotate(rus, annotators, rus_table)
    run = AgreementRun.objects.create(project=project, kind="stance")
    execute_agreement_run(run.pk)
    run.refresh_from_db()
    result = run.result
    assert run.status == JobStatus.DONE, run.error
    assert result["n_items"] == 8
    assert result["level"] == "ordinal"
    labels = ["against", "neutral", "favor"]
    codes = lambda table: np.array([[labels.index(v) for v in row] for row in table])  # noqa: E731
    pooled = summarize_labels(
        np.vstack([codes(ukr_table), codes(rus_table)]), labels, "ordinal", bootstrap_draws=0
    )
    assert result["alpha"] == pytest.approx(pooled["alpha"])
    ukr_result, rus_result = result["per_target"]
    assert ukr_result["target"] == "Ukrainian government"
    assert rus_result["target"] == "Russian government"
    alone = summarize_labels(codes(ukr_table), labels, "ordinal", bootstrap_draws=0)
    assert ukr_result["alpha"] == pytest.approx(alone["alpha"])
    assert rus_result["n_items"] == 4


def test_attribution_run_matches_the_direct_computation(team):
    project, _, annotators = team
    add_documents(project)
    task = label_tasks(project, "attribution")[1]
    s = task.sentence
    quote = {
        "source": {"start": s.start + 27, "end": s.start + 39},
        "cue": {"start": s.start + 40, "end": s.start + 44},
        "content": {"start": s.start + 1, "end": s.start + 24},
    }
    values = [[quote], [quote], []]
    Annotation.objects.bulk_create(
        Annotation(task=task, annotator=u, value={"attributions": v})
        for u, v in zip(annotators, values, strict=True)
    )
    run = AgreementRun.objects.create(project=project, kind="attribution")
    execute_agreement_run(run.pk)
    run.refresh_from_db()
    assert run.status == JobStatus.DONE, run.error
    data = load_attribution_items(project_id=project.pk)
    direct = summarize_attributions(data.items, 3, bootstrap_draws=1000, seed=0)
    for key in ("alpha", "token_alpha", "span_f1", "n_items", "n_annotations"):
        assert run.result[key] == direct[key], key
    assert run.result["most_disputed"][0]["task_id"] == task.pk


@pytest.fixture
def broker_mode(monkeypatch):
    """Pretend a broker is configured and record what is published to it."""
    from config.celery import app

    sent: list[tuple] = []
    monkeypatch.setattr(lifecycle, "is_eager", lambda: False)
    monkeypatch.setattr(agreement_runs, "is_eager", lambda: False)
    monkeypatch.setattr(app, "send_task", lambda name, args, **kw: sent.append((name, args)))
    return sent


def test_request_creates_a_run_and_publishes_it_on_commit(
    annotated, broker_mode, django_capture_on_commit_callbacks
):
    project, lead, *_ = annotated
    with django_capture_on_commit_callbacks(execute=True):
        run = request_agreement_run(project=project, kind="verifiability", user=lead)
        assert broker_mode == []  # not before the commit
    assert broker_mode == [("labeling.agreement_run_job", (run.pk,))]
    run.refresh_from_db()
    assert run.published_at is not None
    assert run.requested_by == lead
    assert run.trigger == "manual"


def test_a_queued_manual_run_is_published_again_not_duplicated_nor_blocking(
    annotated, broker_mode, django_capture_on_commit_callbacks
):
    """A run whose message was lost (never picked up) does not block a new request."""
    project, lead, *_ = annotated
    with django_capture_on_commit_callbacks(execute=True):
        run = request_agreement_run(project=project, kind="verifiability", user=lead)
        again = request_agreement_run(project=project, kind="verifiability", user=lead)
    assert again.pk == run.pk
    assert broker_mode == [("labeling.agreement_run_job", (run.pk,))] * 2


def test_a_broker_failure_leaves_the_run_queued_and_the_sweep_publishes_it(
    annotated, broker_mode, django_capture_on_commit_callbacks, monkeypatch
):
    from config.celery import app

    project, lead, *_ = annotated

    def refuse(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(app, "send_task", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        run = request_agreement_run(project=project, kind="verifiability", user=lead)
    run.refresh_from_db()
    assert (run.status, run.published_at) == (JobStatus.QUEUED, None)
    assert sweep_jobs()["unpublished"] == 0  # within the grace the request's own publish counts
    AgreementRun.objects.filter(pk=run.pk).update(created_at="2000-01-01T00:00:00Z")
    assert sweep_jobs()["unpublished"] == 1
    monkeypatch.setattr(app, "send_task", lambda name, args, **kw: broker_mode.append((name, args)))
    assert sweep_jobs()["published"] == 1
    assert broker_mode == [("labeling.agreement_run_job", (run.pk,))]
    run.refresh_from_db()
    assert run.published_at is not None


def test_automatic_runs_are_debounced_and_published_by_the_sweep_once_due(
    annotated, broker_mode, settings, django_capture_on_commit_callbacks
):
    project, *_ = annotated
    settings.LABELING = {**settings.LABELING, "AGREEMENT_DEBOUNCE_SECONDS": 30}
    with django_capture_on_commit_callbacks(execute=True):
        first = schedule_agreement_run(project_id=project.pk, kind="verifiability")
        assert schedule_agreement_run(project_id=project.pk, kind="verifiability") is None
        other_kind = schedule_agreement_run(project_id=project.pk, kind="stance")
    assert first is not None
    assert first.trigger == TRIGGER_AUTO
    assert other_kind is not None
    assert broker_mode == []  # scheduling never talks to the broker
    assert sweep_jobs()["published"] == 0  # not due yet
    AgreementRun.objects.filter(pk=first.pk).update(run_after="2000-01-01T00:00:00Z")
    assert sweep_jobs()["published"] == 1
    assert broker_mode == [("labeling.agreement_run_job", (first.pk,))]
    # Once the pending run has started, new annotations queue the next one.
    AgreementRun.objects.filter(pk=first.pk).update(status="running")
    second = schedule_agreement_run(project_id=project.pk, kind="verifiability")
    assert second is not None
    assert second.pk != first.pk


def test_database_allows_one_pending_automatic_run(annotated):
    project, *_ = annotated
    AgreementRun.objects.create(project=project, kind="verifiability", trigger=TRIGGER_AUTO)
    AgreementRun.objects.create(project=project, kind="verifiability")  # manual: fine
    with pytest.raises(IntegrityError):
        AgreementRun.objects.create(project=project, kind="verifiability", trigger=TRIGGER_AUTO)


def test_a_lost_pending_automatic_run_is_published_again(annotated, broker_mode):
    project, *_ = annotated
    lost = AgreementRun.objects.create(
        project=project,
        kind="verifiability",
        trigger=TRIGGER_AUTO,
        run_after="2000-01-01T00:00:00Z",
        published_at="2000-01-01T00:00:00Z",
    )
    assert sweep_jobs()["published"] == 1
    assert broker_mode == [("labeling.agreement_run_job", (lost.pk,))]


def test_automatic_runs_in_eager_mode_wait_for_a_lead(
    annotated, django_capture_on_commit_callbacks
):
    """Embedded mode: scheduling computes nothing; the lead's page computes pending runs."""
    project, *_ = annotated
    with django_capture_on_commit_callbacks(execute=True):
        run = schedule_agreement_run(project_id=project.pk, kind="verifiability")
    run.refresh_from_db()
    assert run.status == JobStatus.QUEUED
    assert agreement_runs.compute_pending_runs(project_id=project.pk, kind="stance") == 0
    assert agreement_runs.compute_pending_runs(project_id=project.pk, kind="verifiability") == 1
    run.refresh_from_db()
    assert run.status == JobStatus.DONE
    assert run.result["n_items"] == 5
    assert agreement_runs.annotations_since(run) == 0
    Annotation.objects.update(updated_at=run.started_at + (run.finished_at - run.started_at) * 2)
    assert agreement_runs.annotations_since(run) == Annotation.objects.count()


def test_a_pending_automatic_run_already_covered_by_a_finished_run_is_dropped(
    annotated, django_capture_on_commit_callbacks
):
    project, lead, *_ = annotated
    with django_capture_on_commit_callbacks(execute=True):
        pending = schedule_agreement_run(project_id=project.pk, kind="verifiability")
        manual = request_agreement_run(project=project, kind="verifiability", user=lead)
    assert AgreementRun.objects.get(pk=manual.pk).status == JobStatus.DONE
    assert agreement_runs.compute_pending_runs(project_id=project.pk) == 0
    assert not AgreementRun.objects.filter(pk=pending.pk).exists()


@pytest.mark.parametrize("kind", ["verifiability", "stance", "attribution"])
def test_a_run_without_annotations_is_done_with_undefined_alpha(team, kind):
    project, *_ = team
    add_documents(project)
    run = AgreementRun.objects.create(project=project, kind=kind)
    execute_agreement_run(run.pk)
    run.refresh_from_db()
    assert run.status == JobStatus.DONE, run.error
    assert run.result["n_items"] == 0
    assert run.result["alpha"] is None
    assert run.result["most_disputed"] == []
