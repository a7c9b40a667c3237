"""All writes of gold labels: adjudication by a lead, and aggregation of annotations in bulk.

Precedence: an ``adjudicated`` gold label always wins. Aggregation never creates,
changes or deletes a gold label whose method is ``adjudicated``; it only refreshes its
own (``majority`` / ``dawid_skene``) rows.

Aggregation rules belong to each kind (``labeling.kinds``): a categorical kind votes
(``majority`` is a plurality vote whose ties are left undecided, confidence the winning
count smoothed by the number of votes, ``(top + 1) / (votes + labels)`` so one vote is
not unanimity, annotator accuracy the agreement with the majority of the *other*
annotators of each item; ``dawid_skene`` fits annotator confusion matrices by EM over
all the kind's tasks, started from the hard majority, confidence the posterior
probability); a kind
with structured values decides each task from its annotation values
(``KindSpec.decide_task_gold``).

A previously aggregated gold label whose task is now undecided is deleted, so gold never
goes stale.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.functions import Length
from django.utils import timezone

from labeling import events
from labeling.agreement.aggregation import (
    dawid_skene_triples,
    leave_one_out_accuracy,
    majority_vote,
)
from labeling.exceptions import InvalidInput
from labeling.kinds import Bounds, GoldDecision, KindSpec, LabelData, SchemaError, kind_spec
from labeling.kinds.lookup import project_schema
from labeling.models import (
    Annotation,
    GoldLabel,
    GoldMethod,
    LabelSchema,
    Project,
    Sentence,
    Task,
)
from labeling.quality.dataset import real_annotations

METHODS: tuple[str, ...] = (GoldMethod.MAJORITY, GoldMethod.DAWID_SKENE)
BATCH_SIZE = 1000
READ_CHUNK = 5000
MAX_NOTE = 10_000
# EM starts from the one-hot majority class, not from vote shares: with soft shares, an
# annotator who always gives the same answer seeds that class on every item and EM can
# settle in a spurious optimum where that class absorbs the disputed items
# (tests/test_gold.py::test_dawid_skene_on_a_known_small_case_matches_crowd_kit).
DS_INIT: Final = "hard_majority"


@dataclass
class AnnotatorAccuracy:
    """The estimated accuracy of one annotator on one kind."""

    annotator_id: int
    username: str
    accuracy: float
    n_annotations: int

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "annotator_id": self.annotator_id,
            "username": self.username,
            "accuracy": self.accuracy,
            "n_annotations": self.n_annotations,
        }


@dataclass
class AggregationResult:
    """What :func:`aggregate_gold` did, and the per-annotator accuracy it estimated."""

    kind: str
    method: str
    n_items: int = 0
    n_created: int = 0
    n_updated: int = 0
    n_unchanged: int = 0
    n_deleted: int = 0
    n_undecided: int = 0
    n_adjudicated: int = 0
    converged: bool | None = None
    n_iter: int | None = None
    annotator_accuracy: list[AnnotatorAccuracy] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "kind": self.kind,
            "method": self.method,
            "n_items": self.n_items,
            "n_created": self.n_created,
            "n_updated": self.n_updated,
            "n_unchanged": self.n_unchanged,
            "n_deleted": self.n_deleted,
            "n_undecided": self.n_undecided,
            "n_adjudicated": self.n_adjudicated,
            "converged": self.converged,
            "n_iter": self.n_iter,
            "annotator_accuracy": [a.as_dict() for a in self.annotator_accuracy],
        }


# ---------------------------------------------------------------------------------------
# Adjudication


def adjudicate(*, task: Task, value: Any, user: Any, note: str = "") -> GoldLabel:
    """Set the gold value of ``task`` as decided by ``user`` (a lead); it beats aggregation.

    The value is validated against the kind's schema like an annotation; errors name the
    field (``value.label``, ``value.attributions[0].cue``...).
    """
    if not isinstance(note, str):
        raise InvalidInput("must be a string", field="note")
    if len(note) > MAX_NOTE:
        raise InvalidInput(f"must be at most {MAX_NOTE} characters", field="note")
    schema = LabelSchema.objects.filter(project_id=task.project_id, kind=task.kind).first()
    if schema is None:
        raise InvalidInput(f"this project has no {task.kind} schema", field="kind")
    bounds = (
        Sentence.objects.filter(pk=task.sentence_id)
        .annotate(doc_length=Length("document__text"))
        .values("start", "end", "doc_length")
        .get()
    )
    try:
        clean = kind_spec(task.kind).validate_value(
            value,
            schema=schema,
            bounds=Bounds(bounds["doc_length"], bounds["start"], bounds["end"]),
        )
    except SchemaError as exc:
        raise InvalidInput(exc.message, field=exc.field) from exc
    gold, _ = GoldLabel.objects.update_or_create(
        task=task,
        defaults={
            "value": clean,
            "method": GoldMethod.ADJUDICATED,
            "confidence": None,
            "decided_by": user if user is not None and user.pk else None,
            "note": note,
            "decided_at": timezone.now(),
        },
    )
    events.publish(
        events.GOLD_CHANGED, project_id=task.project_id, kind=task.kind, task_ids=[task.pk]
    )
    return gold


def clear_adjudication(*, task: Task) -> bool:
    """Remove a task's adjudicated gold so aggregation may decide it again."""
    deleted, _ = GoldLabel.objects.filter(task=task, method=GoldMethod.ADJUDICATED).delete()
    if deleted:
        events.publish(
            events.GOLD_CHANGED, project_id=task.project_id, kind=task.kind, task_ids=[task.pk]
        )
    return bool(deleted)


# ---------------------------------------------------------------------------------------
# Aggregation


def _check_kind_method(project: Project, kind: Any, method: Any) -> tuple[KindSpec, LabelSchema]:
    """The kind's spec and the project's schema of it; 400 naming ``kind`` or ``method``."""
    schema = project_schema(project.pk, kind)
    spec = kind_spec(schema.kind)
    if method not in METHODS:
        raise InvalidInput(f"must be one of {', '.join(METHODS)}; got {method!r}", field="method")
    if method not in spec.gold_methods:
        raise InvalidInput(
            f"{schema.kind} gold is aggregated by {' or '.join(spec.gold_methods)} only",
            field="method",
        )
    return spec, schema


def _vote_matrix(data: LabelData) -> np.ndarray:
    """Codes packed per item (column = the item's j-th vote): identity is irrelevant to votes."""
    n_items = len(data.task_ids)
    if not n_items:
        return np.empty((0, 0), dtype=np.int64)
    order = np.argsort(data.items, kind="stable")
    items = data.items[order]
    starts = np.r_[0, np.flatnonzero(np.diff(items)) + 1]
    run_id = np.cumsum(np.r_[False, np.diff(items) != 0])
    column = np.arange(len(items)) - starts[run_id]
    matrix = np.full((n_items, int(column.max()) + 1), -1, dtype=np.int64)
    matrix[items, column] = data.codes[order]
    return matrix


def _usernames(user_ids: Iterable[int]) -> dict[int, str]:
    return dict(
        get_user_model().objects.filter(pk__in=list(user_ids)).values_list("pk", "username")
    )


def _accuracy_list(
    annotator_ids: Sequence[int], accuracy: np.ndarray, counts: np.ndarray
) -> list[AnnotatorAccuracy]:
    names = _usernames(annotator_ids)
    out = [
        AnnotatorAccuracy(
            annotator_id=uid,
            username=names.get(uid, ""),
            accuracy=round(float(accuracy[i]), 6),
            n_annotations=int(counts[i]),
        )
        for i, uid in enumerate(annotator_ids)
        if counts[i] > 0
    ]
    return sorted(out, key=lambda a: (a.username, a.annotator_id))


def _decide_labels(
    spec: KindSpec,
    data: LabelData,
    labels: Sequence[str],
    method: str,
    result: AggregationResult,
) -> dict[int, GoldDecision | None]:
    n_items, n_annotators, k = len(data.task_ids), len(data.annotator_ids), len(labels)
    if method == GoldMethod.DAWID_SKENE:
        fit = dawid_skene_triples(
            data.items,
            data.annotators,
            data.codes,
            n_items=n_items,
            n_annotators=n_annotators,
            n_classes=k,
            init=DS_INIT,
        )
        winners, confidence = fit.labels, fit.confidence
        accuracy, counts = fit.annotator_accuracy, fit.annotator_counts
        result.converged, result.n_iter = bool(fit.converged), int(fit.n_iter)
    else:
        winners, confidence = majority_vote(_vote_matrix(data), k, tie="none")
        # Accuracy against the majority of the *other* annotators of each item (leave one
        # out): a majority that includes one's own vote rates everyone 1.0 at overlap 2.
        accuracy, counts = leave_one_out_accuracy(
            data.items,
            data.annotators,
            data.codes,
            n_items=n_items,
            n_annotators=n_annotators,
            n_classes=k,
        )
    result.annotator_accuracy = _accuracy_list(data.annotator_ids, accuracy, counts)
    return {
        task_id: (
            GoldDecision(spec.gold_value(labels[int(winners[i])]), round(float(confidence[i]), 6))
            if winners[i] >= 0
            else None
        )
        for i, task_id in enumerate(data.task_ids)
    }


def _decide_each_task(
    spec: KindSpec, project: Project, kind: str
) -> dict[int, GoldDecision | None]:
    """One streamed read of the kind's values in task order; the spec decides each task."""
    decisions: dict[int, GoldDecision | None] = {}
    values: list[dict] = []
    current: int | None = None
    rows = (
        real_annotations(Annotation.objects.filter(task__project=project, task__kind=kind))
        .values_list("task_id", "value")
        .order_by("task_id")
        .iterator(chunk_size=READ_CHUNK)
    )
    for task_id, value in rows:
        if task_id != current:
            if current is not None:
                decisions[current] = spec.decide_task_gold(values)
            current, values = task_id, []
        values.append(value)
    if current is not None:
        decisions[current] = spec.decide_task_gold(values)
    return decisions


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def aggregate_gold(
    *, project: Project, kind: str, method: str = GoldMethod.MAJORITY
) -> AggregationResult:
    """Compute aggregated gold for every annotated task of ``kind`` and store it in bulk.

    A few queries whatever the size (one streamed read of annotations, one read of the
    existing gold, batched writes). Adjudicated gold is never touched.
    """
    spec, schema = _check_kind_method(project, kind, method)
    kind = schema.kind
    result = AggregationResult(kind=kind, method=method)
    # Before reading: an annotation saved while we read counts as newer (stale, not missed).
    read_at = timezone.now()
    if spec.categorical_gold:
        labels, data = spec.gold_votes(project_id=project.pk, schema=schema)
        decisions = _decide_labels(spec, data, labels, method, result)
    else:
        decisions = _decide_each_task(spec, project, kind)
    result.n_items = len(decisions)
    now = timezone.now()
    with transaction.atomic():
        # Lock the kind's gold rows (PostgreSQL) so a concurrent adjudication waits for us
        # and then wins; SQLite serialises writers anyway.
        rows = (
            GoldLabel.objects.select_for_update()
            .filter(task__project=project, task__kind=kind)
            .values_list("task_id", "id", "method", "value", "confidence")
            .order_by()
        )
        existing = {row[0]: row[1:] for row in rows}
        to_create: list[GoldLabel] = []
        to_update: list[GoldLabel] = []
        to_delete: list[int] = []
        for task_id, decision in decisions.items():
            old = existing.get(task_id)
            if old is not None and old[1] == GoldMethod.ADJUDICATED:
                result.n_adjudicated += 1
                continue
            if decision is None:
                result.n_undecided += 1
                if old is not None:
                    to_delete.append(old[0])
                continue
            if old is None:
                to_create.append(
                    GoldLabel(
                        task_id=task_id,
                        value=decision.value,
                        method=method,
                        confidence=decision.confidence,
                    )
                )
            elif (
                old[1] == method and old[3] == decision.confidence and _same(old[2], decision.value)
            ):
                result.n_unchanged += 1
            else:
                to_update.append(
                    GoldLabel(
                        pk=old[0],
                        value=decision.value,
                        method=method,
                        confidence=decision.confidence,
                        decided_by=None,
                        note="",
                        updated_at=now,
                    )
                )
        # Aggregated gold of tasks whose annotations are all gone is stale too.
        to_delete.extend(
            old[0]
            for task_id, old in existing.items()
            if task_id not in decisions and old[1] != GoldMethod.ADJUDICATED
        )
        # ignore_conflicts: an adjudication committed since our read keeps its row.
        GoldLabel.objects.bulk_create(to_create, batch_size=BATCH_SIZE, ignore_conflicts=True)
        GoldLabel.objects.bulk_update(
            to_update,
            ["value", "method", "confidence", "decided_by", "note", "updated_at"],
            batch_size=BATCH_SIZE,
        )
        for start in range(0, len(to_delete), BATCH_SIZE):
            GoldLabel.objects.filter(
                pk__in=to_delete[start : start + BATCH_SIZE], method__in=METHODS
            ).delete()
        # Every aggregated row of the kind now rests on the annotations read at read_at,
        # the unchanged ones too: none is stale any more.
        GoldLabel.objects.filter(task__project=project, task__kind=kind, method__in=METHODS).update(
            decided_at=read_at
        )
    result.n_created, result.n_updated, result.n_deleted = (
        len(to_create),
        len(to_update),
        len(to_delete),
    )
    return result


def estimate_annotator_accuracy(*, project: Project, kind: str) -> dict[str, Any]:
    """Dawid-Skene estimates of each annotator's accuracy on ``kind``, without writing gold.

    The categories are the kind's (``KindSpec.gold_votes``: a label kind's labels, or a
    derived categorical question such as "has attribution"). Also returns the class
    priors and each annotator's confusion matrix (``confusion[true][answered]``).
    """
    schema = project_schema(project.pk, kind)
    kind = schema.kind
    labels, data = kind_spec(kind).gold_votes(project_id=project.pk, schema=schema)
    fit = dawid_skene_triples(
        data.items,
        data.annotators,
        data.codes,
        n_items=len(data.task_ids),
        n_annotators=len(data.annotator_ids),
        n_classes=len(labels),
        init=DS_INIT,
    )
    names = _usernames(data.annotator_ids)
    annotators = []
    for i, uid in enumerate(data.annotator_ids):
        annotators.append(
            {
                "annotator_id": uid,
                "username": names.get(uid, ""),
                "accuracy": round(float(fit.annotator_accuracy[i]), 6),
                "n_annotations": int(fit.annotator_counts[i]),
                "confusion": {
                    true: {
                        answered: round(float(fit.confusion[i, t, a]), 6)
                        for a, answered in enumerate(labels)
                    }
                    for t, true in enumerate(labels)
                },
            }
        )
    annotators.sort(key=lambda a: (a["username"], a["annotator_id"]))
    return {
        "kind": kind,
        "method": GoldMethod.DAWID_SKENE.value,
        "labels": labels,
        "n_items": len(data.task_ids),
        "n_annotations": len(data.codes),
        "converged": bool(fit.converged),
        "n_iter": int(fit.n_iter),
        "class_priors": {
            label: round(float(p), 6) for label, p in zip(labels, fit.class_priors, strict=True)
        },
        "annotators": annotators,
    }
