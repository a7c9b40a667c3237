"""The per-annotator report of a project: output, lead times, skips, control accuracy, drift.

A fixed number of aggregate queries whatever the number of annotators. Annotations of
control questions count only as control answers, never as annotations.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from labeling.models import Annotation, Assignment, AssignmentStatus, Membership, Project, Role
from labeling.quality.dataset import real_annotations
from labeling.quality.models import (
    AnnotatorState,
    AnnotatorStatus,
    ControlAnswer,
    Qualification,
    QualitySettings,
)
from labeling.quality.scoring import drifted, percentile, wilson_interval

#: Days of throughput shown, ending today.
THROUGHPUT_DAYS = 14


def _control_summary(outcomes: list[tuple[bool, str]], settings: QualitySettings) -> dict[str, Any]:
    n = len(outcomes)
    right = sum(1 for ok, _ in outcomes if ok)
    per_label: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for ok, label in outcomes:
        if label:
            per_label[label][0] += 1
            per_label[label][1] += int(ok)
    accuracy = round(right / n, 6) if n else None
    enough = n >= max(settings.min_control_answers, 1)
    return {
        "n_control_answers": n,
        "control_accuracy": accuracy,
        "control_accuracy_ci95": list(wilson_interval(right, n) or []) or None,
        "control_per_label": [
            {"label": label, "n": k, "accuracy": round(r / k, 6)}
            for label, (k, r) in sorted(per_label.items())
        ],
        "warning": bool(
            enough
            and accuracy is not None
            and settings.warn_below is not None
            and accuracy < settings.warn_below
        ),
        "drift": drifted([ok for ok, _ in outcomes]),
    }


def annotator_report(*, project: Project) -> list[dict[str, Any]]:
    """One row per annotator of the project (members with the annotator role, and anyone
    who annotated), ordered by username."""
    settings = QualitySettings.objects.filter(project=project).first() or QualitySettings()
    people = {
        m["user_id"]: m["user__username"]
        for m in Membership.objects.filter(project=project, role=Role.ANNOTATOR).values(
            "user_id", "user__username"
        )
    }
    real = real_annotations(Annotation.objects.filter(task__project=project))
    counts = dict(real.values_list("annotator_id").annotate(n=Count("id")).order_by())
    for user_id, username in (
        real.exclude(annotator_id__in=list(people))
        .values_list("annotator_id", "annotator__username")
        .distinct()
    ):
        people[user_id] = username
    lead_times: dict[int, list[int]] = defaultdict(list)
    for user_id, ms in real.filter(lead_time_ms__isnull=False).values_list(
        "annotator_id", "lead_time_ms"
    ):
        lead_times[user_id].append(ms)
    today = timezone.now().date()
    first_day = today - timedelta(days=THROUGHPUT_DAYS - 1)
    per_day: dict[int, dict[Any, int]] = defaultdict(dict)
    for user_id, day, n in (
        real.filter(created_at__date__gte=first_day)
        .annotate(day=TruncDate("created_at"))
        .values_list("annotator_id", "day")
        .annotate(n=Count("id"))
        .order_by()
    ):
        per_day[user_id][day] = n
    skips = dict(
        Assignment.objects.filter(task__project=project, status=AssignmentStatus.SKIPPED)
        .values_list("annotator_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    outcomes: dict[int, list[tuple[bool, str]]] = defaultdict(list)
    qualifying: dict[int, list[tuple[bool, int]]] = defaultdict(list)
    for user_id, ok, label, in_qualification, task_id in (
        ControlAnswer.objects.filter(project=project)
        .order_by("id")
        .values_list(
            "annotator_id", "correct", "expected_label", "qualification", "control__task_id"
        )
    ):
        if in_qualification:
            qualifying[user_id].append((ok, task_id))
        else:
            outcomes[user_id].append((ok, label))
    states = {s.user_id: s for s in AnnotatorState.objects.filter(project=project)}
    days = [first_day + timedelta(days=i) for i in range(THROUGHPUT_DAYS)]
    rows = []
    for user_id, username in sorted(people.items(), key=lambda p: p[1]):
        state = states.get(user_id)
        times = lead_times.get(user_id, [])
        median, p90 = percentile(times, 50), percentile(times, 90)
        qualified = qualifying.get(user_id, [])
        rows.append(
            {
                "user": user_id,
                "username": username,
                "status": state.status if state else AnnotatorStatus.ACTIVE,
                "paused_reason": state.paused_reason if state else "",
                "n_annotations": counts.get(user_id, 0),
                "n_skipped": skips.get(user_id, 0),
                "lead_time_median_ms": round(median) if median is not None else None,
                "lead_time_p90_ms": round(p90) if p90 is not None else None,
                "throughput": [
                    {"date": day.isoformat(), "n": per_day[user_id].get(day, 0)} for day in days
                ],
                **_control_summary(outcomes.get(user_id, []), settings),
                "qualification": {
                    "required": settings.qualification_size > 0,
                    "status": state.qualification if state else Qualification.PENDING,
                    "n_answered": len(qualified),
                    "n_right": sum(1 for ok, _ in qualified if ok),
                    "wrong_tasks": [task_id for ok, task_id in qualified if not ok],
                },
                "quota_total": state.quota_total if state else None,
                "quota_per_day": state.quota_per_day if state else None,
            }
        )
    return rows
