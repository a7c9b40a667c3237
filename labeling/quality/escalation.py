"""Low-agreement routing: a full task whose annotations disagree gets more annotators.

Driven by the ``task_completed`` event (``on_task_completed``): when a task's last needed
annotation arrives and the item's disagreement is above the kind's threshold, its overlap
rises by ``escalation_step`` (at most ``escalation_max_extra`` above the project's), it
reopens, and the queue offers it before other work. When the next completion agrees,
the escalation is ``resolved``; when the maximum is reached and it still disagrees,
``unresolved``.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np
from django.db import transaction
from django.db.models import Count, F, Q

from labeling.agreement import item_disagreement
from labeling.kinds.registry import kind_spec
from labeling.models import Annotation, LabelSchema, Project, Task
from labeling.quality.models import (
    ControlQuestion,
    Escalation,
    EscalationStatus,
    QualitySettings,
)

#: Measurement levels whose per-item distance needs nothing but the label order.
_ORDER_LEVELS = ("nominal", "ordinal")


def disagreement(
    values: list[Any],
    *,
    kind: str,
    labels: list[str],
    level: str,
    label_values: list[float] | None = None,
) -> float | None:
    """Per-item disagreement in [0, 1] of one task's annotation values; None if undefined.

    Label kinds: the observed disagreement D_o of the item (mean pair distance over the
    maximal distance, Krippendorff 2011) at the schema's level (interval and ratio with
    the labels' numbers). Other kinds (attribution): the share of annotator pairs whose
    answers differ (the kind's value key: exact triples, order ignored).
    """
    if len(values) < 2:
        return None
    if all(isinstance(v, dict) and "label" in v for v in values) and labels:
        index = {label: i for i, label in enumerate(labels)}
        codes = [[index.get(v["label"], -1) for v in values]]
        numbers = np.asarray(label_values, dtype=float) if label_values else None
        if level not in _ORDER_LEVELS and numbers is None:
            numbers = np.arange(len(labels), dtype=float)  # equally spaced labels
        found = item_disagreement(
            np.asarray(codes),
            level,
            values=numbers if level not in _ORDER_LEVELS else None,
            n_categories=len(labels),
        )[0]
        return None if found is None else float(found)
    key = kind_spec(kind).value_key
    pairs = list(combinations([key(v) for v in values], 2))
    return sum(1 for a, b in pairs if a != b) / len(pairs)


def threshold_for(settings: QualitySettings, kind: str) -> float:
    """The kind's threshold, else the project's default."""
    found = (settings.escalation_thresholds or {}).get(kind)
    return float(found) if isinstance(found, (int, float)) else settings.escalation_threshold


def check_escalation(*, task_id: int) -> Escalation | None:
    """Escalate, resolve or close the task's escalation after it became complete.

    Returns the task's escalation (None when there is none and none was needed).
    Idempotent: a task that is not complete, or whose overlap moved meanwhile, is left
    as it is; the overlap changes only by a conditional UPDATE on the locked task.
    """
    with transaction.atomic():
        task = (
            Task.objects.select_for_update()
            .filter(pk=task_id)
            .only("id", "project_id", "kind", "overlap", "n_submitted")
            .first()
        )
        if task is None or ControlQuestion.objects.filter(task_id=task_id).exists():
            return None
        settings = QualitySettings.objects.filter(project_id=task.project_id).first()
        if settings is None or not settings.escalation_enabled:
            return None
        if task.n_submitted < task.overlap:
            return None
        escalation = Escalation.objects.filter(task_id=task_id).first()
        schema = LabelSchema.objects.filter(project_id=task.project_id, kind=task.kind).first()
        values = list(Annotation.objects.filter(task_id=task_id).values_list("value", flat=True))
        found = disagreement(
            values,
            kind=task.kind,
            labels=list(schema.labels) if schema else [],
            level=schema.level if schema else "nominal",
            label_values=list(schema.values or []) if schema else None,
        )
        if found is None:
            return escalation
        if found <= threshold_for(settings, task.kind):
            if escalation is not None and escalation.status == EscalationStatus.OPEN:
                escalation.status = EscalationStatus.RESOLVED
                escalation.disagreement = found
                escalation.save(update_fields=["status", "disagreement", "updated_at"])
            return escalation
        return _escalate(task, escalation, settings, found)


def _escalate(
    task: Task, escalation: Escalation | None, settings: QualitySettings, found: float
) -> Escalation | None:
    base = escalation.base_overlap if escalation else task.overlap
    max_extra = escalation.max_extra if escalation else settings.escalation_max_extra
    extra = escalation.extra if escalation else 0
    if extra >= max_extra:
        if escalation is not None:
            escalation.status = EscalationStatus.UNRESOLVED
            escalation.disagreement = found
            escalation.save(update_fields=["status", "disagreement", "updated_at"])
        return escalation
    add = min(settings.escalation_step, max_extra - extra)
    moved = Task.objects.filter(pk=task.pk, overlap=task.overlap).update(
        overlap=F("overlap") + add, is_open=True
    )
    if not moved:
        return escalation
    if escalation is None:
        return Escalation.objects.create(
            task=task,
            project_id=task.project_id,
            kind=task.kind,
            base_overlap=base,
            extra=add,
            max_extra=max_extra,
            disagreement=found,
        )
    escalation.extra = extra + add
    escalation.status = EscalationStatus.OPEN
    escalation.disagreement = found
    escalation.save(update_fields=["extra", "status", "disagreement", "updated_at"])
    return escalation


def on_task_completed(event: Any) -> None:
    """Subscriber of the ``task_completed`` event: one indexed read unless escalation is on."""
    enabled = QualitySettings.objects.filter(
        project_id=event.project_id, escalation_enabled=True
    ).exists()
    if enabled:
        check_escalation(task_id=event.data["task_id"])


def escalation_counts(*, project: Project) -> dict[str, Any]:
    """How many tasks were escalated and how it ended, overall and by kind (one query)."""
    rows = (
        Escalation.objects.filter(project=project)
        .values("kind")
        .annotate(
            n_escalated=Count("id"),
            n_open=Count("id", filter=Q(status=EscalationStatus.OPEN)),
            n_resolved=Count("id", filter=Q(status=EscalationStatus.RESOLVED)),
            n_unresolved=Count("id", filter=Q(status=EscalationStatus.UNRESOLVED)),
        )
        .order_by("kind")
    )
    by_kind = [dict(row) for row in rows]
    totals = {
        key: sum(row[key] for row in by_kind)
        for key in ("n_escalated", "n_open", "n_resolved", "n_unresolved")
    }
    return {**totals, "by_kind": by_kind}
