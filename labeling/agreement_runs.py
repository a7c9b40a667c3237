"""Agreement runs: load a (project, kind)'s annotations in bulk, compute, store with progress.

All writes of ``AgreementRun`` rows live here. The math is in ``labeling.agreement``
(pure numpy); this module only builds its inputs from the database and stores its output.

Items and annotators. An item is a task; a column is an annotator (user ids sorted
ascending, mapped back to ids and usernames in the stored result). For ``stance`` every
(sentence, target) task is an item of the same reliability matrix, so the headline
alpha pools all targets (one schema, one label set, one level); the same metrics are
also stored per target under ``per_target`` (a list in schema order) because leads
want to see when one target is much harder than another. Annotations whose label is not
in the schema (e.g. after a schema edit) are left out and counted in ``n_unknown_labels``.
Stored dicts keyed by label (``per_label``) follow ``labels`` for their order: PostgreSQL
``jsonb`` does not keep key order.

Runs. A run moves ``queued -> running -> done | failed``. The result, the timings and
``status=done`` are written by one UPDATE (a second one adds that UPDATE's own duration
to ``timings``: ``store = build + write``), so a crash never leaves a half-written result;
progress is written by separate short UPDATEs so pollers see it move. Re-running a run
that is done or failed is a no-op; a run found ``running`` (a redelivered job after a
worker died, ``acks_late``) is recomputed from scratch.

Automatic runs (``schedule_agreement_run``) are debounced: at most one automatic run per
(project, kind) is pending (``queued``) at any time, enforced by a partial unique
constraint, and its job starts ``AGREEMENT_DEBOUNCE_SECONDS`` after the first annotation
that asked for it, so a burst of annotations is computed once. In eager mode (no broker)
a job cannot be delayed, so it runs right after the commit; there the rule is "no new
automatic run while one created within the debounce window exists", and the result may
lag the newest annotations until the next annotation after the window or a manual run.
"""

from __future__ import annotations

import logging
import time
import tracemalloc
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.utils import timezone

from labeling.access import access_lead_object
from labeling.exceptions import InvalidInput
from labeling.models import (
    AgreementRun,
    Annotation,
    JobStatus,
    Kind,
    LabelSchema,
    Project,
    Task,
)
from labeling.quality.dataset import real_annotations

logger = logging.getLogger(__name__)

TRIGGER_MANUAL = "manual"
TRIGGER_AUTO = "auto"
DISPUTED_LIMIT = 200  # tasks kept in ``most_disputed`` (the adjudication queue)
CHUNK_SIZE = 20_000
# A queued automatic run whose job never started this long after its countdown is
# considered lost (broker restart) and no longer blocks new automatic runs.
STALE_AFTER = timedelta(minutes=15)
# Share of the progress bar given to each phase.
LOAD_SHARE, COMPUTE_SHARE = 0.3, 0.65
PROGRESS_INTERVAL = 0.5  # seconds between progress UPDATEs

Progress = Callable[[float], None]


@dataclass
class LabelMatrix:
    """The reliability matrix of a label kind, with row -> task and column -> user maps."""

    codes: np.ndarray  # (n_items, n_annotators), category index or -1
    task_ids: np.ndarray  # (n_items,) task id of each row, ascending
    annotator_ids: np.ndarray  # (n_annotators,) user id of each column, ascending
    labels: list[str]
    level: str
    targets: np.ndarray | None = None  # (n_items,) index into target_names (stance)
    target_names: list[str] = field(default_factory=list)
    n_unknown_labels: int = 0


@dataclass
class AttributionData:
    """Attribution items for the pure functions, with row -> task and column -> user maps."""

    items: list[Any]
    task_ids: np.ndarray
    annotator_ids: np.ndarray
    n_annotations: int = 0


# --------------------------------------------------------------------------- loading


def _schema(project_id: int, kind: str) -> LabelSchema:
    schema = LabelSchema.objects.filter(project_id=project_id, kind=kind).first()
    if schema is None:
        raise InvalidInput(f"this project has no {kind} schema", field="kind")
    return schema


def _annotations(project_id: int, kind: str) -> Any:
    qs = Annotation.objects.filter(task__project_id=project_id, task__kind=kind)
    return real_annotations(qs).order_by()


def _report(progress: Progress | None, done: int, total: int, share: float) -> None:
    if progress is not None and total:
        progress(share * min(done / total, 1.0))


def load_label_matrix(
    *, project_id: int, kind: str, progress: Progress | None = None
) -> LabelMatrix:
    """Build the reliability matrix of a label kind in a few streamed queries.

    Queries: the schema, a count (for progress), then the annotations as
    ``(task_id, annotator_id, label[, target])`` tuples streamed in chunks.
    ``progress`` receives fractions in ``[0, 1]`` of the loading phase.
    """
    schema = _schema(project_id, kind)
    labels = list(schema.labels)
    code_of = {label: i for i, label in enumerate(labels)}
    qs = _annotations(project_id, kind)
    total = qs.count()
    fields = ["task_id", "annotator_id", "label"] + (
        ["task__target"] if kind == Kind.STANCE else []
    )
    rows = qs.annotate(label=KeyTextTransform("label", "value")).values_list(*fields)
    task_ids = np.empty(total, dtype=np.int64)
    annotator_ids = np.empty(total, dtype=np.int64)
    codes = np.empty(total, dtype=np.int64)
    target_of: dict[str, int] = {}
    target_idx = np.empty(total, dtype=np.int64) if kind == Kind.STANCE else None
    n = 0
    for row in rows.iterator(chunk_size=CHUNK_SIZE):
        if n == total:  # annotations added since the count: the next run sees them
            break
        task_ids[n], annotator_ids[n] = row[0], row[1]
        codes[n] = code_of.get(row[2], -1)
        if target_idx is not None:
            target_idx[n] = target_of.setdefault(row[3], len(target_of))
        n += 1
        if n % CHUNK_SIZE == 0:
            _report(progress, n, total, 1.0)
    task_ids, annotator_ids, codes = task_ids[:n], annotator_ids[:n], codes[:n]
    known = codes >= 0
    n_unknown = int(n - known.sum())
    task_ids, annotator_ids, codes = task_ids[known], annotator_ids[known], codes[known]
    items, rows_of = np.unique(task_ids, return_inverse=True)
    columns, cols_of = np.unique(annotator_ids, return_inverse=True)
    matrix = np.full((items.size, columns.size), -1, dtype=np.int64)
    matrix[rows_of, cols_of] = codes
    targets = None
    target_names: list[str] = []
    if target_idx is not None:
        targets = np.empty(items.size, dtype=np.int64)
        targets[rows_of] = target_idx[:n][known]
        # Order targets as the schema lists them; unknown targets (removed ones) after.
        names = sorted(
            target_of, key=lambda t: (t not in schema.targets, _index(schema.targets, t))
        )
        remap = np.array([names.index(t) for t in target_of], dtype=np.int64)
        targets = remap[targets] if targets.size else targets
        target_names = names
    _report(progress, 1, 1, 1.0)
    return LabelMatrix(
        codes=matrix,
        task_ids=items,
        annotator_ids=columns,
        labels=labels,
        level=schema.level,
        targets=targets,
        target_names=target_names,
        n_unknown_labels=n_unknown,
    )


def _index(items: list[str], item: str) -> int:
    return items.index(item) if item in items else len(items)


def load_attribution_items(*, project_id: int, progress: Progress | None = None) -> AttributionData:
    """Build the attribution items (sentence text and offset, triples per annotator).

    Queries: the annotated tasks with their sentence, a count, then the annotations as
    ``(task_id, annotator_id, value)`` streamed in chunks.
    """
    from labeling.agreement import AttributionItem

    kind = Kind.ATTRIBUTION
    annotated = Annotation.objects.filter(task_id=OuterRef("pk"))
    sentences = {
        task_id: (start, text)
        for task_id, start, text in Task.objects.filter(project_id=project_id, kind=kind)
        .filter(Exists(annotated))
        .order_by()
        .values_list("id", "sentence__start", "sentence__text")
        .iterator(chunk_size=CHUNK_SIZE)
    }
    qs = _annotations(project_id, kind)
    total = qs.count()
    per_task: dict[int, dict[int, list[dict]]] = {}
    n = 0
    for task_id, annotator_id, value in qs.values_list("task_id", "annotator_id", "value").iterator(
        chunk_size=CHUNK_SIZE
    ):
        if task_id not in sentences:  # created after the task query
            continue
        triples = value.get("attributions", []) if isinstance(value, dict) else []
        per_task.setdefault(task_id, {})[annotator_id] = triples
        n += 1
        if n % CHUNK_SIZE == 0:
            _report(progress, n, total, 1.0)
    task_ids = np.array(sorted(per_task), dtype=np.int64)
    annotator_ids = np.array(
        sorted({a for anns in per_task.values() for a in anns}), dtype=np.int64
    )
    column = {int(a): i for i, a in enumerate(annotator_ids)}
    items = []
    for task_id in task_ids.tolist():
        start, text = sentences[task_id]
        items.append(
            AttributionItem(
                sentence_start=start,
                sentence_text=text,
                annotations={column[a]: _triples(t) for a, t in per_task[task_id].items()},
            )
        )
    _report(progress, 1, 1, 1.0)
    return AttributionData(
        items=items, task_ids=task_ids, annotator_ids=annotator_ids, n_annotations=n
    )


def _triples(attributions: list[dict]) -> list[dict]:
    """Stored attribution values as the pure code takes them (document-offset spans)."""
    return [a for a in attributions if isinstance(a, dict)]


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


def _sub_progress(progress: Progress | None, lo: float, hi: float) -> Callable[..., None] | None:
    """A callback for the pure code mapping its progress into ``[lo, hi]`` of ours.

    Accepts either a fraction or ``(done, total)``.
    """
    if progress is None:
        return None

    def report(*args: float) -> None:
        fraction = args[0] / args[1] if len(args) == 2 and args[1] else float(args[0])
        progress(lo + (hi - lo) * min(max(fraction, 0.0), 1.0))

    return report


def compute_label_summary(
    matrix: LabelMatrix,
    *,
    bootstrap_draws: int,
    seed: int = 0,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Call ``summarize_labels`` on the matrix (and per stance target); indices not mapped."""
    from labeling.agreement import summarize_labels

    groups: list[tuple[str, np.ndarray]] = []
    if matrix.targets is not None and len(matrix.target_names) > 1:
        groups = [(name, matrix.targets == i) for i, name in enumerate(matrix.target_names)]
    share = 1.0 / (1 + len(groups) / 2)  # the per-target runs together cost about half
    summary = summarize_labels(
        matrix.codes,
        matrix.labels,
        matrix.level,
        bootstrap_draws=bootstrap_draws,
        seed=seed,
        progress=_sub_progress(progress, 0.0, share),
    )
    if groups:
        per_target = {}
        step = (1.0 - share) / len(groups)
        for i, (name, rows) in enumerate(groups):
            lo = share + i * step
            per_target[name] = summarize_labels(
                matrix.codes[rows],
                matrix.labels,
                matrix.level,
                bootstrap_draws=bootstrap_draws,
                seed=seed,
                progress=_sub_progress(progress, lo, lo + step),
            )
        summary["per_target"] = per_target
    elif matrix.targets is not None and matrix.target_names:
        summary["per_target"] = {matrix.target_names[0]: dict(summary)}
    return summary


def compute_attribution_summary(
    data: AttributionData,
    *,
    bootstrap_draws: int,
    seed: int = 0,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Call ``summarize_attributions`` on the loaded items; indices not mapped."""
    from labeling.agreement import summarize_attributions

    return summarize_attributions(
        data.items,
        int(data.annotator_ids.size),
        bootstrap_draws=bootstrap_draws,
        seed=seed,
        progress=_sub_progress(progress, 0.0, 1.0),
    )


# --------------------------------------------------------------------------- storing

PER_TARGET_KEYS = (
    "alpha",
    "alpha_ci95",
    "percent_agreement",
    "n_items",
    "n_pairable_items",
    "n_annotations",
    "n_annotators",
    "cohen_kappa",
    "fleiss_kappa",
    "scott_pi",
    "gwet_ac1",
    "per_label",
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


def _top_disputed(scores: Any, task_ids: np.ndarray, limit: int) -> list[tuple[int, float]]:
    """The ``limit`` tasks with the highest positive disagreement, ties by task id."""
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


def build_result(
    summary: dict[str, Any],
    *,
    kind: str,
    task_ids: np.ndarray,
    annotator_ids: np.ndarray,
    annotation_counts: np.ndarray | None,
    extra: dict[str, Any] | None = None,
    disputed_limit: int = DISPUTED_LIMIT,
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
    if "per_target" in summary:  # a list: jsonb does not keep key order
        result["per_target"] = [
            {"target": name, **{k: v for k, v in sub.items() if k in PER_TARGET_KEYS}}
            for name, sub in summary["per_target"].items()
        ]
    top = _top_disputed(scores, task_ids, disputed_limit) if scores is not None else []
    result["most_disputed"] = _most_disputed(top, annotators) if top else []
    result.update(extra or {})
    return _jsonable(result)


# ------------------------------------------------------------------------------ runs


class _ProgressWriter:
    """Writes a run's progress in short UPDATEs, at most every ``interval`` seconds."""

    def __init__(self, run_id: int, interval: float | None = None) -> None:
        self.run_id = run_id
        self.interval = PROGRESS_INTERVAL if interval is None else interval
        self.last_time = 0.0
        self.last_value = 0.0

    def __call__(self, value: float) -> None:
        value = min(max(value, 0.0), 0.99)
        now = time.monotonic()
        if value - self.last_value < 0.01 or now - self.last_time < self.interval:
            return
        self.last_time, self.last_value = now, value
        AgreementRun.objects.filter(pk=self.run_id, status=JobStatus.RUNNING).update(progress=value)


def compute_run_result(
    *,
    project_id: int,
    kind: str,
    bootstrap_draws: int,
    seed: int = 0,
    progress: Progress | None = None,
) -> tuple[dict[str, Any], dict[str, float]]:
    """Load, compute and build the result of (project, kind); returns (result, timings)."""

    def phase(lo: float, hi: float) -> Progress | None:
        return None if progress is None else (lambda f: progress(lo + (hi - lo) * f))

    t0 = time.perf_counter()
    compute_progress = phase(LOAD_SHARE, LOAD_SHARE + COMPUTE_SHARE)
    if kind == Kind.ATTRIBUTION:
        data = load_attribution_items(project_id=project_id, progress=phase(0, LOAD_SHARE))
        t1 = time.perf_counter()
        summary = compute_attribution_summary(
            data, bootstrap_draws=bootstrap_draws, seed=seed, progress=compute_progress
        )
        t2 = time.perf_counter()
        counts = np.zeros(data.annotator_ids.size, dtype=np.int64)
        for item in data.items:
            for index in item.annotations:
                counts[index] += 1
        result = build_result(
            summary,
            kind=kind,
            task_ids=data.task_ids,
            annotator_ids=data.annotator_ids,
            annotation_counts=counts,
        )
    else:
        matrix = load_label_matrix(project_id=project_id, kind=kind, progress=phase(0, LOAD_SHARE))
        t1 = time.perf_counter()
        summary = compute_label_summary(
            matrix, bootstrap_draws=bootstrap_draws, seed=seed, progress=compute_progress
        )
        t2 = time.perf_counter()
        result = build_result(
            summary,
            kind=kind,
            task_ids=matrix.task_ids,
            annotator_ids=matrix.annotator_ids,
            annotation_counts=np.count_nonzero(matrix.codes >= 0, axis=0),
            extra={
                "labels": matrix.labels,
                "targets": matrix.target_names,
                "n_unknown_labels": matrix.n_unknown_labels,
            },
        )
    t3 = time.perf_counter()
    result["bootstrap_draws"] = bootstrap_draws
    result["seed"] = seed
    timings = {"load": t1 - t0, "compute": t2 - t1, "store": t3 - t2}
    return result, timings


def execute_agreement_run(run_id: int, *, trace_memory: bool = False) -> None:
    """Compute the run ``run_id`` and store its result; a no-op if it is done, failed or gone.

    Must not be called inside a transaction: progress UPDATEs must commit as they happen.
    """
    claimed = AgreementRun.objects.filter(
        pk=run_id, status__in=[JobStatus.QUEUED, JobStatus.RUNNING]
    ).update(status=JobStatus.RUNNING, started_at=timezone.now(), progress=0.0, error="")
    if not claimed:
        logger.info("agreement run %s is finished or gone; nothing to do", run_id)
        return
    run = AgreementRun.objects.filter(pk=run_id).values("project_id", "kind").first()
    if run is None:
        return
    if trace_memory:
        tracemalloc.start()
    started = time.perf_counter()
    try:
        result, timings = compute_run_result(
            project_id=run["project_id"],
            kind=run["kind"],
            bootstrap_draws=settings.LABELING["BOOTSTRAP_DRAWS"],
            progress=_ProgressWriter(run_id),
        )
    except Exception as exc:
        logger.exception("agreement run %s failed", run_id)
        AgreementRun.objects.filter(pk=run_id).update(
            status=JobStatus.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:4000],
            finished_at=timezone.now(),
        )
        return
    finally:
        if trace_memory:
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
    if trace_memory:
        timings["peak_traced_bytes"] = peak
    timings["build"] = timings["store"]
    write_started = time.perf_counter()
    # One UPDATE: the whole result appears together with status=done, or not at all.
    stored = AgreementRun.objects.filter(pk=run_id, status=JobStatus.RUNNING).update(
        status=JobStatus.DONE,
        result=result,
        timings={**timings, "total": write_started - started},
        progress=1.0,
        error="",
        finished_at=timezone.now(),
    )
    if stored:  # the write's own duration can only be recorded after it
        ended = time.perf_counter()
        timings["write"] = ended - write_started
        timings["store"] = timings["build"] + timings["write"]
        timings["total"] = ended - started
        AgreementRun.objects.filter(pk=run_id, status=JobStatus.DONE).update(timings=timings)


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


def _check_kind(project: Project, kind: Any) -> str:
    if kind not in Kind.values:
        raise InvalidInput(f"must be one of {', '.join(Kind.values)}; got {kind!r}", field="kind")
    if not LabelSchema.objects.filter(project=project, kind=kind).exists():
        raise InvalidInput(f"this project has no {kind} schema", field="kind")
    return kind


def _enqueue(run_id: int, countdown: int | None = None) -> None:
    """Send the job; if the broker refuses, the run is marked failed rather than stuck."""
    from labeling.jobs import compute_agreement

    try:
        compute_agreement.apply_async((run_id,), countdown=countdown)
    except Exception as exc:
        logger.exception("could not start agreement run %s", run_id)
        AgreementRun.objects.filter(pk=run_id, status=JobStatus.QUEUED).update(
            status=JobStatus.FAILED,
            error=f"could not start the job: {type(exc).__name__}: {exc}"[:4000],
            finished_at=timezone.now(),
        )


def request_agreement_run(
    *, project: Project, kind: Any, user: AbstractBaseUser | None
) -> AgreementRun:
    """Create a manual run of (project, kind) and start its job once the row is committed.

    A manual run already queued for the same (project, kind) is returned instead of a
    second one. In eager mode the job has run when this returns (the caller may refresh).
    """
    kind = _check_kind(project, kind)
    with transaction.atomic():
        run = AgreementRun.objects.filter(
            project=project, kind=kind, trigger=TRIGGER_MANUAL, status=JobStatus.QUEUED
        ).first()
        if run is not None:
            return run
        run = AgreementRun.objects.create(
            project=project,
            kind=kind,
            trigger=TRIGGER_MANUAL,
            requested_by=user if user is not None and user.pk else None,
        )
        run_id = run.pk
        transaction.on_commit(lambda: _enqueue(run_id))
    return run


def _eager() -> bool:
    from labeling.jobs import compute_agreement

    return bool(compute_agreement.app.conf.task_always_eager)


def schedule_agreement_run(*, project_id: int, kind: str) -> AgreementRun | None:
    """Queue the debounced automatic run of (project, kind) unless one is pending.

    Call after saving annotations (inside or outside their transaction). Returns the new
    run, or ``None`` when an automatic run is already pending (see the module docstring).
    """
    debounce = int(settings.LABELING["AGREEMENT_DEBOUNCE_SECONDS"])
    now = timezone.now()
    pending = AgreementRun.objects.filter(
        project_id=project_id, kind=kind, trigger=TRIGGER_AUTO, status=JobStatus.QUEUED
    )
    pending.filter(created_at__lt=now - timedelta(seconds=debounce) - STALE_AFTER).update(
        status=JobStatus.FAILED,
        error="the job never started (lost by the broker?)",
        finished_at=now,
    )
    if pending.exists():
        return None
    eager = _eager()
    if (
        eager
        and AgreementRun.objects.filter(
            project_id=project_id,
            kind=kind,
            trigger=TRIGGER_AUTO,
            created_at__gte=now - timedelta(seconds=debounce),
        ).exists()
    ):
        return None
    try:
        with transaction.atomic():
            run = AgreementRun.objects.create(
                project_id=project_id, kind=kind, trigger=TRIGGER_AUTO
            )
    except IntegrityError:  # another process queued it first (constraint run_one_pending_auto)
        return None
    run_id = run.pk
    transaction.on_commit(lambda: _enqueue(run_id, None if eager else debounce), robust=True)
    return run


def note_new_annotation(*, project_id: int, kind: str) -> None:
    """After an annotation is saved: schedule the automatic run, cheaply.

    A cache key per (project, kind), kept for half the debounce window, spares the
    database the pending-run check on every submit; ``schedule_agreement_run`` still
    guarantees at most one pending run across processes.
    """
    debounce = int(settings.LABELING["AGREEMENT_DEBOUNCE_SECONDS"])
    if cache.add(f"labeling:agreement-auto:{project_id}:{kind}", 1, timeout=max(debounce // 2, 1)):
        schedule_agreement_run(project_id=project_id, kind=kind)
