"""Agreement runs: load a (project, kind)'s annotations in bulk, compute, store with progress.

All writes of ``AgreementRun`` rows live here. The math is in ``labeling.agreement``
(pure numpy); this module only builds its inputs from the database and stores its output.

Items and annotators. An item is a task; a column is an annotator (user ids sorted
ascending, mapped back to ids and usernames in the stored result). How a kind's
annotations become the inputs of ``labeling.agreement`` and which metrics apply is the
kind's own business (``KindSpec.compute_agreement`` in ``labeling.kinds``); this module
only maps indices back to tasks and users and stores the result. Stored dicts keyed by
label (``per_label``) follow ``labels`` for their order: PostgreSQL ``jsonb`` does not
keep key order.

Runs go through the one job lifecycle (``labeling.jobs.lifecycle``): claim, progress,
heartbeat, retries, failure stored. The result, the timings and ``status=done`` are one
UPDATE, so a crash never leaves a half-written result.

Automatic runs subscribe to annotation events (``labeling.events``) and are debounced:
at most one automatic run per (project, kind) is pending (``queued``) at any time,
enforced by a partial unique constraint, due ``AGREEMENT_DEBOUNCE_SECONDS`` after the
first annotation that asked for it. An annotator's request only writes that row; it
never publishes, computes or sweeps. With a broker, the beat sweep publishes the row
once due. In the embedded mode (no broker, no beat) the pending run is computed when a
lead opens the dashboard or lists runs (``compute_pending_runs``); every finished run
tells how many annotations arrived since it read them (``annotations_since``).
"""

from __future__ import annotations

import logging
import time
import tracemalloc
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

import numpy as np
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, User
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.db.models.fields.json import KeyTransform
from django.utils import timezone

from labeling import events
from labeling.access import access_lead_object
from labeling.agreement.definitions import DEFINITIONS
from labeling.jobs.lifecycle import Job, enqueue, is_eager, run_job
from labeling.kinds import kind_spec
from labeling.kinds.lookup import project_schema
from labeling.models import (
    AgreementRun,
    Annotation,
    Document,
    JobStatus,
    Project,
    Task,
)
from labeling.predictions.comparing import compare_models
from labeling.review.disputed import prune_disputed, store_disputed

logger = logging.getLogger(__name__)

TRIGGER_MANUAL = "manual"
TRIGGER_AUTO = "auto"
DISPUTED_LIMIT = 200  # tasks kept in ``most_disputed`` (the adjudication queue)
CHUNK_SIZE = 20_000
# Share of the progress bar given to each phase.
LOAD_SHARE, COMPUTE_SHARE = 0.3, 0.65

Progress = Callable[[float], None]


# ------------------------------------------------------------------------- computing


def _jsonable(value: Any) -> Any:
    """Numpy scalars/arrays to JSON types; NaN and infinities become ``None``."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return float(value) if np.isfinite(value) else None
    return value


# --------------------------------------------------------------------------- storing

PER_TARGET_KEYS = (
    "alpha",
    "alpha_ci95",
    "alpha_interval",
    "alpha_q",
    "percent_agreement",
    "observed_agreement",
    "n_items",
    "n_pairable_items",
    "n_annotations",
    "n_annotators",
    "cohen_kappa",
    "cohen_kappa_ci95",
    "weighted_kappa",
    "fleiss_kappa",
    "fleiss_kappa_ci95",
    "scott_pi",
    "scott_pi_ci95",
    "gwet_ac1",
    "gwet_ac1_ci95",
    "gwet_ac2",
    "brennan_prediger",
    "per_label",
    "warnings",
)


def _annotators(annotator_ids: np.ndarray, counts: np.ndarray | None) -> list[dict[str, Any]]:
    ids = [int(a) for a in annotator_ids]
    names = dict(get_user_model().objects.filter(pk__in=ids).values_list("pk", "username"))
    return [
        {
            "index": i,
            "id": user_id,
            "username": names.get(user_id, ""),
            "n_annotations": int(counts[i]) if counts is not None else None,
        }
        for i, user_id in enumerate(ids)
    ]


def _map_pairwise(pairwise: Iterable[dict], annotators: list[dict]) -> list[dict[str, Any]]:
    out = []
    for pair in pairwise:
        a, b = annotators[int(pair["a"])], annotators[int(pair["b"])]
        mapped = dict(pair)
        mapped.update(a=a["id"], b=b["id"], a_username=a["username"], b_username=b["username"])
        out.append(mapped)
    return out


def _top_disputed(scores: Any, task_ids: np.ndarray, limit: int | None) -> list[tuple[int, float]]:
    """The ``limit`` tasks (None: all) with the highest positive disagreement, ties by id."""
    s = np.asarray([np.nan if v is None else v for v in scores], dtype=np.float64)
    if s.size != task_ids.size:
        raise ValueError(f"item_disagreement has {s.size} entries for {task_ids.size} items")
    ok = np.flatnonzero(np.isfinite(s) & (s > 0))
    order = ok[np.lexsort((task_ids[ok], -s[ok]))][:limit]
    return [(int(task_ids[i]), float(s[i])) for i in order]


def _most_disputed(
    top: list[tuple[int, float]], annotators: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Top disputed tasks with sentence text and every annotator's current value (2 queries)."""
    ids = [task_id for task_id, _ in top]
    tasks = {
        row[0]: row
        for row in Task.objects.filter(pk__in=ids).values_list(
            "id", "target", "document_id", "sentence_id", "position", "sentence__text"
        )
    }
    username = {a["id"]: a["username"] for a in annotators}
    values: dict[int, list[dict[str, Any]]] = {}
    for task_id, annotator_id, value in (
        Annotation.objects.filter(task_id__in=ids)
        .order_by("task_id", "annotator_id")
        .values_list("task_id", "annotator_id", "value")
    ):
        values.setdefault(task_id, []).append(
            {"annotator": annotator_id, "username": username.get(annotator_id, ""), "value": value}
        )
    out = []
    for task_id, score in top:
        if task_id not in tasks:  # deleted since loading
            continue
        _, target, document_id, sentence_id, position, text = tasks[task_id]
        out.append(
            {
                "task_id": task_id,
                "target": target,
                "document_id": document_id,
                "sentence_id": sentence_id,
                "position": position,
                "text": text,
                "score": score,
                "annotations": values.get(task_id, []),
            }
        )
    return out


def _map_per_document(
    entries: list[dict[str, Any]], task_ids: np.ndarray, project_id: int | None
) -> list[dict[str, Any]]:
    """Per-document entries with document ids and titles, disputed rows as tasks (1 query,
    2 when the kind did not say each disputed row's sentence). Values are JSON types already
    (see ``labeling.agreement.groups``), so they skip ``_jsonable``."""
    documents = (
        Document.objects.filter(project_id=project_id)
        if project_id is not None
        else Document.objects.filter(pk__in=[int(e["group"]) for e in entries])
    )
    titles = dict(documents.values_list("id", "title"))
    missing = {
        int(task_ids[d["item"]]) for e in entries for d in e["disputed"] if "position" not in d
    }
    sentences = (
        {
            task_id: {"sentence_id": sentence_id, "position": position, "target": target}
            for task_id, sentence_id, position, target in Task.objects.filter(
                pk__in=missing
            ).values_list("id", "sentence_id", "position", "target")
        }
        if missing
        else {}
    )
    out = []
    for entry in entries:
        document_id = int(entry["group"])
        disputed = []
        for d in entry["disputed"]:
            task_id = int(task_ids[d["item"]])
            where = (
                {k: d[k] for k in ("sentence_id", "position", "target")}
                if "position" in d
                else sentences.get(task_id)
            )
            if where is None:  # deleted since loading
                continue
            disputed.append({"task_id": task_id, **where, "score": d["score"]})
        rest = {k: v for k, v in entry.items() if k not in ("group", "disputed")}
        out.append(
            {
                "document_id": document_id,
                "title": titles.get(document_id, ""),
                **rest,
                "disputed": disputed,
            }
        )
    return out


def build_result(
    summary: dict[str, Any],
    *,
    kind: str,
    task_ids: np.ndarray,
    annotator_ids: np.ndarray,
    annotation_counts: np.ndarray | None,
    extra: dict[str, Any] | None = None,
    disputed_limit: int = DISPUTED_LIMIT,
    project_id: int | None = None,
) -> dict[str, Any]:
    """The stored result: the summary with users and tasks in place of matrix indices.

    ``item_disagreement`` (one score per item) is not stored; it becomes
    ``most_disputed``, the top tasks with their sentence and each annotator's value.
    """
    summary = dict(summary)
    scores = summary.pop("item_disagreement", None)
    annotators = _annotators(annotator_ids, annotation_counts)
    result: dict[str, Any] = {"kind": kind, **summary}
    result["annotators"] = annotators
    if "pairwise" in summary:
        result["pairwise"] = _map_pairwise(summary["pairwise"], annotators)
    if "per_annotator" in summary:
        result["per_annotator"] = [
            {
                **{k: v for k, v in entry.items() if k != "index"},
                "id": annotators[entry["index"]]["id"],
                "username": annotators[entry["index"]]["username"],
            }
            for entry in summary["per_annotator"]
        ]
    if "per_target" in summary:  # a list: jsonb does not keep key order
        result["per_target"] = [
            {"target": name, **{k: v for k, v in sub.items() if k in PER_TARGET_KEYS}}
            for name, sub in summary["per_target"].items()
        ]
    per_document = result.pop("per_document", None)
    top = _top_disputed(scores, task_ids, disputed_limit) if scores is not None else []
    result["most_disputed"] = _most_disputed(top, annotators) if top else []
    result.update(extra or {})
    result.setdefault("warnings", [])
    result["definitions"] = DEFINITIONS
    result = _jsonable(result)
    if per_document is not None:  # already JSON types: thousands of entries, not walked again
        result["per_document"] = _map_per_document(per_document, task_ids, project_id)
    return result


# ------------------------------------------------------------------------------ runs


def compute_run_result(
    *,
    project_id: int,
    kind: str,
    bootstrap_draws: int,
    seed: int = 0,
    progress: Progress | None = None,
    disputed: list[tuple[int, float]] | None = None,
) -> tuple[dict[str, Any], dict[str, float]]:
    """Load, compute and build the result of (project, kind); returns (result, timings).

    ``disputed``, when given, receives every task with a disagreement above 0 as
    (task id, score), most disputed first (the review queue's rows).
    """

    def phase(lo: float, hi: float) -> Progress | None:
        return None if progress is None else (lambda f: progress(lo + (hi - lo) * f))

    schema = project_schema(project_id, kind)
    marks = [time.perf_counter()]
    outcome = kind_spec(schema.kind).compute_agreement(
        project_id=project_id,
        schema=schema,
        bootstrap_draws=bootstrap_draws,
        seed=seed,
        load_progress=phase(0, LOAD_SHARE),
        compute_progress=phase(LOAD_SHARE, LOAD_SHARE + COMPUTE_SHARE),
        timer=lambda: marks.append(time.perf_counter()),
    )
    t0, t1, t2 = marks[0], marks[1], marks[2]
    scores = outcome.summary.get("item_disagreement")
    if disputed is not None and scores is not None:
        disputed.extend(_top_disputed(scores, outcome.task_ids, None))
    result = build_result(
        outcome.summary,
        kind=schema.kind,
        task_ids=outcome.task_ids,
        annotator_ids=outcome.annotator_ids,
        annotation_counts=outcome.annotation_counts,
        extra=outcome.extra,
        project_id=project_id,
    )
    # Models are compared with the humans from outside; they are never coders in the above.
    result["models"] = compare_models(
        project_id=project_id, schema=schema, draws=bootstrap_draws, seed=seed
    )
    t3 = time.perf_counter()
    result["bootstrap_draws"] = bootstrap_draws
    result["seed"] = seed
    timings = {"load": t1 - t0, "compute": t2 - t1, "store": t3 - t2}
    return result, timings


def execute_agreement_run(run_id: int, *, trace_memory: bool = False) -> None:
    """Compute the run ``run_id`` and store its result through the job lifecycle.

    A no-op if it is done, failed, gone or alive on another worker. The result, the
    timings and ``status=done`` are written by one UPDATE, so a crash never leaves a
    half-written result; a second UPDATE adds that write's own duration to ``timings``.
    Must not be called inside a transaction: progress UPDATEs must commit as they happen.
    """

    def work(job: Job) -> dict[str, Any]:
        row = job.row
        if trace_memory:
            tracemalloc.start()
        clock["started"] = time.perf_counter()
        disputed: list[tuple[int, float]] = []
        try:
            result, timings = compute_run_result(
                project_id=row.project_id,
                kind=row.kind,
                bootstrap_draws=settings.LABELING["BOOTSTRAP_DRAWS"],
                progress=job.progress,
                disputed=disputed,
            )
        finally:
            if trace_memory:
                peak = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
        if trace_memory:
            timings["peak_traced_bytes"] = peak
        store_disputed(run_id, disputed)  # read only once the run is done
        timings["build"] = timings["store"]
        clock["write"] = time.perf_counter()
        timings["total"] = clock["write"] - clock["started"]
        stored.update(timings)
        return {"result": result, "timings": timings}

    clock: dict[str, float] = {}
    stored: dict[str, float] = {}
    if run_job(AgreementRun, run_id, work) != JobStatus.DONE:
        return
    ended = time.perf_counter()  # the write's own duration can only be recorded after it
    timings = dict(stored)
    timings["write"] = ended - clock["write"]
    timings["store"] = timings["build"] + timings["write"]
    timings["total"] = ended - clock["started"]
    AgreementRun.objects.filter(pk=run_id, status=JobStatus.DONE).update(timings=timings)
    prune_disputed(run_id)  # the older runs' queues are never read again
    run = AgreementRun.objects.filter(pk=run_id).values("project_id", "kind").first()
    if run is not None:
        events.publish(events.RUN_DONE, project_id=run["project_id"], kind=run["kind"], id=run_id)


# -------------------------------------------------------------------------- reading

SUMMARY_KEYS = ("alpha", "alpha_ci95", "percent_agreement", "n_items", "n_annotations")


def access_agreement_run(user: Any, run_id: Any) -> AgreementRun:
    """The run if ``user`` leads its project or is staff (404 / 403 like projects)."""
    return access_lead_object(user, AgreementRun, run_id, "agreement run")


def run_history(*, project_id: int, kind: str | None = None) -> QuerySet[AgreementRun]:
    """Runs of a project newest first, without the heavy result but with its headline figures."""
    qs = AgreementRun.objects.filter(project_id=project_id).order_by("-id").defer("result")
    if kind:
        qs = qs.filter(kind=kind)
    return qs.annotate(**{f"summary_{k}": KeyTransform(k, "result") for k in SUMMARY_KEYS})


# --------------------------------------------------------------------------- starting


def request_agreement_run(
    *, project: Project, kind: Any, user: User | AnonymousUser | None
) -> AgreementRun:
    """Queue a manual run of (project, kind); its job is published once the row commits.

    A manual run still queued for the same (project, kind) is returned and published
    again instead of a second one, so a run whose message was lost never blocks a new
    request. In eager mode the job has run when this returns (the caller may refresh).
    """
    kind = project_schema(project.pk, kind).kind
    with transaction.atomic():
        run = AgreementRun.objects.filter(
            project=project, kind=kind, trigger=TRIGGER_MANUAL, status=JobStatus.QUEUED
        ).first()
        if run is None:
            run = AgreementRun.objects.create(
                project=project,
                kind=kind,
                trigger=TRIGGER_MANUAL,
                requested_by=user if isinstance(user, User) and user.pk else None,
            )
        enqueue(AgreementRun, run.pk)
    return run


def schedule_agreement_run(*, project_id: int, kind: str) -> AgreementRun | None:
    """Queue the debounced automatic run of (project, kind) unless one is pending.

    Writes one row and publishes nothing: the beat sweep publishes it once
    ``run_after`` has passed; in the embedded mode a lead's page computes it (see
    ``compute_pending_runs``). Returns the new run, or ``None`` when one is pending.
    """
    debounce = int(settings.LABELING["AGREEMENT_DEBOUNCE_SECONDS"])
    run = AgreementRun(
        project_id=project_id,
        kind=kind,
        trigger=TRIGGER_AUTO,
        run_after=timezone.now() + timedelta(seconds=debounce),
    )
    # One INSERT, no read first: the partial unique constraint (run_one_pending_auto)
    # refuses a second pending run, across processes too.
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        return run if _insert_without_flush_wait(run) else None
    try:
        with transaction.atomic():
            run.save(force_insert=True)
    except IntegrityError:  # an automatic run of (project, kind) is already pending
        return None
    return run


def _insert_without_flush_wait(run: AgreementRun) -> bool:
    """PostgreSQL: INSERT ``run`` in one statement that does not wait for the WAL flush.

    The annotator's request pays for this INSERT; a synchronous commit would double its
    cost (two WAL flushes instead of one). A pending run lost in a crash is written again
    by the next annotation. Returns False when one is already pending.
    """
    fields = [f for f in AgreementRun._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    values = [f.get_db_prep_save(f.pre_save(run, add=True), connection=connection) for f in fields]
    # Only the model's own table and column names are interpolated.
    sql = (
        "WITH relaxed AS (SELECT set_config('synchronous_commit', 'off', true)) "  # noqa: S608
        f"INSERT INTO {quote(AgreementRun._meta.db_table)} "
        f"({', '.join(quote(f.column) for f in fields)}) "
        f"SELECT {', '.join(['%s'] * len(fields))} FROM relaxed "
        "ON CONFLICT DO NOTHING RETURNING id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    if row is None:
        return False
    run.pk = row[0]
    run._state.adding = False
    return True


def note_new_annotation(event: events.Event) -> None:
    """Subscriber of annotation events: schedule the automatic run, cheaply.

    A cache key per (project, kind), kept for half the debounce window, spares the
    database the pending-run check on most submits; ``schedule_agreement_run`` still
    guarantees at most one pending run across processes.
    """
    project_id, kind = event.project_id, str(event.data["kind"])
    debounce = int(settings.LABELING["AGREEMENT_DEBOUNCE_SECONDS"])
    if cache.add(f"labeling:agreement-auto:{project_id}:{kind}", 1, timeout=max(debounce // 2, 1)):
        schedule_agreement_run(project_id=project_id, kind=kind)


def compute_pending_runs(*, project_id: int, kind: str | None = None) -> int:
    """Embedded mode only: compute the pending automatic runs of a project, for a lead's page.

    With no broker and no beat nobody else would; annotators' requests never do it. A
    pending run whose kind's latest finished run already read every annotation is
    dropped instead (it would compute the same figure). In services mode this does
    nothing (the sweep publishes due runs). Returns how many runs were computed.
    """
    if not is_eager():
        return 0
    pending = AgreementRun.objects.filter(
        project_id=project_id, trigger=TRIGGER_AUTO, status=JobStatus.QUEUED
    )
    if kind:
        pending = pending.filter(kind=kind)
    computed = 0
    for run_id, run_kind in list(pending.order_by("id").values_list("pk", "kind")):
        latest = (
            AgreementRun.objects.filter(project_id=project_id, kind=run_kind, status=JobStatus.DONE)
            .order_by("-started_at")
            .first()
        )
        if latest is not None and annotations_since(latest) == 0:
            AgreementRun.objects.filter(pk=run_id, status=JobStatus.QUEUED).delete()
            continue
        execute_agreement_run(run_id)
        computed += 1
    return computed


def annotations_since(run: AgreementRun) -> int | None:
    """How many annotations of the run's (project, kind) were saved or edited after it read them.

    None for a run that has not finished. One query.
    """
    if run.status != JobStatus.DONE or run.started_at is None:
        return None
    return Annotation.objects.filter(
        task__project_id=run.project_id, task__kind=run.kind, updated_at__gt=run.started_at
    ).count()
