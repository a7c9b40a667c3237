"""Disputed-first review: which tasks a lead should adjudicate first, from the latest run.

The order comes from the latest finished agreement run of the (project, kind): its
``most_disputed`` list (highest per-item disagreement first, ties by task id, at most
``agreement_runs.DISPUTED_LIMIT`` tasks). Tasks already adjudicated by a lead are left
out unless asked for. Sentences, current annotations and gold labels are read fresh, a
page at a time, in a constant number of queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model

from labeling.models import AgreementRun, Annotation, GoldLabel, GoldMethod, JobStatus, Task


@dataclass(frozen=True)
class DisputedEntry:
    """One task of the review queue with the disagreement score of the run that ranked it."""

    task_id: int
    score: float
    run_id: int


def latest_done_run(*, project_id: int, kind: str) -> AgreementRun | None:
    """The newest finished run of (project, kind), or None."""
    return (
        AgreementRun.objects.filter(project_id=project_id, kind=kind, status=JobStatus.DONE)
        .order_by("-id")
        .first()
    )


def disputed_queue(
    *, project_id: int, kind: str, include_adjudicated: bool = False
) -> list[DisputedEntry]:
    """Tasks of (project, kind) most disputed first, per the latest finished run (2 queries)."""
    run = latest_done_run(project_id=project_id, kind=kind)
    if run is None or not run.result:
        return []
    entries = [
        DisputedEntry(task_id=int(d["task_id"]), score=float(d["score"]), run_id=run.pk)
        for d in run.result.get("most_disputed", [])
    ]
    if include_adjudicated or not entries:
        return entries
    adjudicated = set(
        GoldLabel.objects.filter(
            task_id__in=[e.task_id for e in entries], method=GoldMethod.ADJUDICATED
        ).values_list("task_id", flat=True)
    )
    return [e for e in entries if e.task_id not in adjudicated]


def describe_disputed(entries: Sequence[DisputedEntry]) -> list[dict[str, Any]]:
    """Each entry with its sentence, every current annotation and its gold (3 queries)."""
    ids = [e.task_id for e in entries]
    if not ids:
        return []
    tasks = {
        t.pk: t
        for t in Task.objects.filter(pk__in=ids)
        .select_related("sentence")
        .only(
            "id",
            "kind",
            "target",
            "document_id",
            "sentence__id",
            "sentence__position",
            "sentence__start",
            "sentence__end",
            "sentence__text",
        )
    }
    annotations: dict[int, list[dict[str, Any]]] = {}
    username_field = f"annotator__{get_user_model().USERNAME_FIELD}"
    for task_id, annotator_id, username, value in (
        Annotation.objects.filter(task_id__in=ids)
        .order_by("task_id", "annotator_id")
        .values_list("task_id", "annotator_id", username_field, "value")
    ):
        annotations.setdefault(task_id, []).append(
            {"annotator": annotator_id, "username": username, "value": value}
        )
    gold = {
        task_id: {"value": value, "method": method, "confidence": confidence}
        for task_id, value, method, confidence in GoldLabel.objects.filter(
            task_id__in=ids
        ).values_list("task_id", "value", "method", "confidence")
    }
    out = []
    for entry in entries:
        task = tasks.get(entry.task_id)
        if task is None:  # deleted since the run
            continue
        s = task.sentence
        out.append(
            {
                "task_id": task.pk,
                "kind": task.kind,
                "target": task.target,
                "document_id": task.document_id,
                "sentence": {
                    "id": s.pk,
                    "position": s.position,
                    "start": s.start,
                    "end": s.end,
                    "text": s.text,
                },
                "score": entry.score,
                "run_id": entry.run_id,
                "annotations": annotations.get(task.pk, []),
                "gold": gold.get(task.pk),
            }
        )
    return out
