"""Progress of a project's queues: totals by kind and target, and per annotator."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, F, OuterRef, Q, Sum

from labeling.models import (
    Assignment,
    AssignmentStatus,
    ControlQuestion,
    Membership,
    Project,
    Task,
)
from labeling.quality.dataset import regular_tasks


def project_progress(*, project: Project, user: Any, all_annotators: bool) -> dict[str, Any]:
    """Totals by kind and target, and per annotator by kind (only ``user`` unless leading).

    Control questions are left out: they are not part of the dataset.

    A fixed number of aggregate queries, whatever the project's size.
    """
    totals = (
        regular_tasks(Task.objects.filter(project=project))
        .values("kind", "target")
        .annotate(
            n_tasks=Count("id"),
            n_complete=Count("id", filter=Q(n_submitted__gte=F("overlap"))),
            n_annotations=Sum("n_submitted"),
            n_needed=Sum("overlap"),
            n_held=Sum(F("n_assigned") - F("n_submitted")),
        )
        .order_by("kind", "target")
    )
    by_kind = [
        {
            "kind": row["kind"],
            "target": row["target"],
            "n_tasks": row["n_tasks"],
            "n_complete": row["n_complete"],
            "n_annotations": row["n_annotations"] or 0,
            "n_annotations_needed": row["n_needed"] or 0,
            "n_active_leases": row["n_held"] or 0,
        }
        for row in totals
    ]
    tasks_per_kind: Counter[str] = Counter()
    for row in by_kind:
        tasks_per_kind[row["kind"]] += row["n_tasks"]
    rows = Assignment.objects.filter(task__project=project).filter(
        ~Exists(ControlQuestion.objects.filter(task_id=OuterRef("task_id")))
    )
    members = Membership.objects.filter(project=project)
    if not all_annotators:
        rows = rows.filter(annotator_id=user.pk)
        members = members.filter(user_id=user.pk)
    counts = rows.values("annotator_id", "task__kind", "status").annotate(n=Count("id"))
    people: dict[int, dict[str, Any]] = {
        m["user_id"]: {"user": m["user_id"], "username": m["user__username"], "role": m["role"]}
        for m in members.values("user_id", "user__username", "role")
    }
    stats: dict[int, dict[str, Counter[str]]] = {}
    for row in counts:
        stats.setdefault(row["annotator_id"], {}).setdefault(row["task__kind"], Counter())[
            row["status"]
        ] += row["n"]
    missing = set(stats) - set(people)
    if missing:  # former members or staff who annotated
        for u in get_user_model().objects.filter(pk__in=missing).values("pk", "username"):
            people[u["pk"]] = {"user": u["pk"], "username": u["username"], "role": None}
    if not all_annotators and user.pk not in people:
        people[user.pk] = {"user": user.pk, "username": user.get_username(), "role": None}
    annotators = []
    for uid in sorted(people):
        kinds = stats.get(uid, {})
        by = []
        for kind in sorted(tasks_per_kind):
            c = kinds.get(kind, Counter())
            done, skipped = c[AssignmentStatus.SUBMITTED], c[AssignmentStatus.SKIPPED]
            by.append(
                {
                    "kind": kind,
                    "done": done,
                    "skipped": skipped,
                    "active": c[AssignmentStatus.ACTIVE],
                    "remaining": max(tasks_per_kind[kind] - done - skipped, 0),
                }
            )
        annotators.append({**people[uid], "by_kind": by})
    return {"project": project.pk, "by_kind": by_kind, "annotators": annotators}
