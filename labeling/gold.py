"""All writes of gold labels: adjudication by a lead, and aggregation of annotations in bulk.

Precedence: an ``adjudicated`` gold label always wins. Aggregation never creates,
changes or deletes a gold label whose method is ``adjudicated``; it only refreshes its
own (``majority`` / ``dawid_skene``) rows.

Aggregation rules:

* Label kinds (verifiability, stance): ``majority`` is a plurality vote whose ties are
  left undecided (no gold: a tie is a dispute for a lead); confidence is the winning
  share of the votes. ``dawid_skene`` fits annotator confusion matrices by EM over all
  tasks of the kind (stance: over all targets together), started from the hard
  majority, and takes the most probable class; confidence is its posterior probability.
* Attribution (``majority`` only): first "has attribution" by strict majority of the
  task's annotations (a tie is undecided). If the majority says "none", gold is the empty
  list. Otherwise gold is the triples (exact source, cue and content offsets) that more
  than half of the task's annotations contain; if no triple reaches that, the task is
  left undecided for adjudication. Confidence is the share of the task's annotations
  whose whole value equals the gold value.

A previously aggregated gold label whose task is now undecided is deleted, so gold never
goes stale.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.fields.json import KT
from django.db.models.functions import Length
from django.utils import timezone

from labeling.agreement.aggregation import dawid_skene_triples, majority_vote
from labeling.exceptions import InvalidInput
from labeling.label_schemas import SchemaError, validate_value
from labeling.models import (
    LABEL_KINDS,
    Annotation,
    GoldLabel,
    GoldMethod,
    Kind,
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


@dataclass
class _Decision:
    value: dict
    confidence: float


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
    labels: list[str] = []
    if task.kind in LABEL_KINDS:
        labels = list(
            LabelSchema.objects.filter(project_id=task.project_id, kind=task.kind)
            .values_list("labels", flat=True)
            .first()
            or []
        )
    bounds = (
        Sentence.objects.filter(pk=task.sentence_id)
        .annotate(doc_length=Length("document__text"))
        .values("start", "end", "doc_length")
        .get()
    )
    try:
        clean = validate_value(
            task.kind,
            value,
            labels=labels,
            doc_length=bounds["doc_length"],
            sentence_start=bounds["start"],
            sentence_end=bounds["end"],
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
        },
    )
    return gold


def clear_adjudication(*, task: Task) -> bool:
    """Remove a task's adjudicated gold so aggregation may decide it again."""
    deleted, _ = GoldLabel.objects.filter(task=task, method=GoldMethod.ADJUDICATED).delete()
    return bool(deleted)


# ---------------------------------------------------------------------------------------
# Aggregation


def _check_kind_method(kind: Any, method: Any) -> None:
    if kind not in Kind.values:
        raise InvalidInput(f"must be one of {', '.join(Kind.values)}; got {kind!r}", field="kind")
    if method not in METHODS:
        raise InvalidInput(f"must be one of {', '.join(METHODS)}; got {method!r}", field="method")
    if kind == Kind.ATTRIBUTION and method != GoldMethod.MAJORITY:
        raise InvalidInput(
            "attribution gold is aggregated by majority only (Dawid-Skene needs a label set)",
            field="method",
        )


def _schema_labels(project: Project, kind: str) -> list[str]:
    labels = (
        LabelSchema.objects.filter(project=project, kind=kind)
        .values_list("labels", flat=True)
        .first()
    )
    if labels is None:
        raise InvalidInput(f"this project has no {kind} schema", field="kind")
    return list(labels)


@dataclass
class _LabelData:
    """Annotations of a label kind as parallel index arrays."""

    task_ids: list[int]
    annotator_ids: list[int]
    items: np.ndarray
    annotators: np.ndarray
    codes: np.ndarray


def _load_label_codes(project: Project, kind: str, labels: Sequence[str]) -> _LabelData:
    """One streamed query: every annotation of ``kind`` as (item, annotator, code) arrays."""
    code_of = {label: i for i, label in enumerate(labels)}
    item_of: dict[int, int] = {}
    annotator_of: dict[int, int] = {}
    items: list[int] = []
    annotators: list[int] = []
    codes: list[int] = []
    rows = (
        real_annotations(Annotation.objects.filter(task__project=project, task__kind=kind))
        .values_list("task_id", "annotator_id", KT("value__label"))
        .order_by()
        .iterator(chunk_size=READ_CHUNK)
    )
    for task_id, annotator_id, label in rows:
        code = code_of.get(label)
        if code is None:  # a label removed from the schema since: not a vote
            continue
        items.append(item_of.setdefault(task_id, len(item_of)))
        annotators.append(annotator_of.setdefault(annotator_id, len(annotator_of)))
        codes.append(code)
    return _LabelData(
        task_ids=list(item_of),
        annotator_ids=list(annotator_of),
        items=np.asarray(items, dtype=np.int64),
        annotators=np.asarray(annotators, dtype=np.int64),
        codes=np.asarray(codes, dtype=np.int64),
    )


def _vote_matrix(data: _LabelData) -> np.ndarray:
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


_ATTR = Kind.ATTRIBUTION


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
    data: _LabelData, labels: Sequence[str], method: str, result: AggregationResult
) -> dict[int, _Decision | None]:
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
        # Accuracy against the majority: share of an annotator's votes on decided items
        # that agree with the decision.
        decided = winners[data.items] >= 0
        hit = (winners[data.items] == data.codes) & decided
        counts = np.bincount(data.annotators[decided], minlength=n_annotators)
        hits = np.bincount(data.annotators, weights=hit, minlength=n_annotators)
        accuracy = np.divide(hits, counts, out=np.zeros(n_annotators), where=counts > 0)
    result.annotator_accuracy = _accuracy_list(data.annotator_ids, accuracy, counts)
    return {
        task_id: (
            _Decision({"label": labels[int(winners[i])]}, round(float(confidence[i]), 6))
            if winners[i] >= 0
            else None
        )
        for i, task_id in enumerate(data.task_ids)
    }


def _triple_key(triple: dict) -> tuple[int, ...]:
    return tuple(triple[r][p] for r in ("source", "cue", "content") for p in ("start", "end"))


def _triple_sort_key(triple: dict) -> tuple[int, int, int]:
    return (triple["cue"]["start"], triple["source"]["start"], triple["content"]["start"])


def decide_attribution(values: Sequence[dict]) -> _Decision | None:
    """The majority attribution gold of one task's annotation values, or None if undecided."""
    n = len(values)
    if not n:
        return None
    lists = [v.get("attributions") or [] for v in values]
    n_has = sum(1 for items in lists if items)
    if 2 * n_has == n:
        return None
    if 2 * n_has < n:
        return _Decision({"attributions": []}, round((n - n_has) / n, 6))
    support: Counter[tuple[int, ...]] = Counter()
    triples: dict[tuple[int, ...], dict] = {}
    for items in lists:
        for key in {_triple_key(t) for t in items}:
            support[key] += 1
        for t in items:
            triples.setdefault(_triple_key(t), t)
    chosen = sorted(
        (triples[key] for key, count in support.items() if 2 * count > n), key=_triple_sort_key
    )
    if not chosen:
        return None
    gold_keys = sorted(_triple_key(t) for t in chosen)
    n_equal = sum(1 for items in lists if sorted(_triple_key(t) for t in items) == gold_keys)
    return _Decision({"attributions": chosen}, round(n_equal / n, 6))


def _decide_attribution_all(project: Project) -> dict[int, _Decision | None]:
    decisions: dict[int, _Decision | None] = {}
    values: list[dict] = []
    current: int | None = None
    rows = (
        real_annotations(
            Annotation.objects.filter(task__project=project, task__kind=Kind.ATTRIBUTION)
        )
        .values_list("task_id", "value")
        .order_by("task_id")
        .iterator(chunk_size=READ_CHUNK)
    )
    for task_id, value in rows:
        if task_id != current:
            if current is not None:
                decisions[current] = decide_attribution(values)
            current, values = task_id, []
        values.append(value)
    if current is not None:
        decisions[current] = decide_attribution(values)
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
    _check_kind_method(kind, method)
    result = AggregationResult(kind=kind, method=method)
    if kind == Kind.ATTRIBUTION:
        decisions = _decide_attribution_all(project)
    else:
        labels = _schema_labels(project, kind)
        decisions = _decide_labels(_load_label_codes(project, kind, labels), labels, method, result)
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
    result.n_created, result.n_updated, result.n_deleted = (
        len(to_create),
        len(to_update),
        len(to_delete),
    )
    return result


def estimate_annotator_accuracy(*, project: Project, kind: str) -> dict[str, Any]:
    """Dawid-Skene estimates of each annotator's accuracy on ``kind``, without writing gold.

    Label kinds use the schema's labels; attribution uses the binary "has attribution"
    question. Also returns the class priors and each annotator's confusion matrix
    (``confusion[true][answered]``).
    """
    if kind not in Kind.values:
        raise InvalidInput(f"must be one of {', '.join(Kind.values)}; got {kind!r}", field="kind")
    if kind == Kind.ATTRIBUTION:
        labels = ["no_attribution", "has_attribution"]
        data = _load_has_attribution_codes(project)
    else:
        labels = _schema_labels(project, kind)
        data = _load_label_codes(project, kind, labels)
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


def _load_has_attribution_codes(project: Project) -> _LabelData:
    item_of: dict[int, int] = {}
    annotator_of: dict[int, int] = {}
    items: list[int] = []
    annotators: list[int] = []
    codes: list[int] = []
    rows = (
        real_annotations(
            Annotation.objects.filter(task__project=project, task__kind=Kind.ATTRIBUTION)
        )
        .values_list("task_id", "annotator_id", "value")
        .order_by()
        .iterator(chunk_size=READ_CHUNK)
    )
    for task_id, annotator_id, value in rows:
        items.append(item_of.setdefault(task_id, len(item_of)))
        annotators.append(annotator_of.setdefault(annotator_id, len(annotator_of)))
        codes.append(1 if (value or {}).get("attributions") else 0)
    return _LabelData(
        task_ids=list(item_of),
        annotator_ids=list(annotator_of),
        items=np.asarray(items, dtype=np.int64),
        annotators=np.asarray(annotators, dtype=np.int64),
        codes=np.asarray(codes, dtype=np.int64),
    )
