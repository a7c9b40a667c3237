"""The per-annotator report of a project: output, lead times, skips, control accuracy, drift,
agreement with the others and Dawid-Skene accuracy (from the latest runs and gold jobs).

A fixed number of aggregate queries whatever the number of annotators. Annotations of
control questions count only as control answers, never as annotations.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Max
from django.db.models.functions import TruncDate
from django.utils import timezone

from labeling.models import (
    AgreementRun,
    Annotation,
    Assignment,
    AssignmentStatus,
    GoldJob,
    JobStatus,
    Membership,
    Project,
    Role,
)
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


def _latest_results(model: Any, project: Project, **filters: Any) -> list[tuple[str, int, Any]]:
    """(kind, id, result) of the latest done row per kind of a run/job model (2 queries)."""
    done = model.objects.filter(project=project, status=JobStatus.DONE, **filters)
    last = [row["last"] for row in done.values("kind").annotate(last=Max("id")).order_by()]
    rows = model.objects.filter(pk__in=last).order_by("kind").values_list("kind", "id", "result")
    return [(kind, pk, result) for kind, pk, result in rows if isinstance(result, dict)]


def agreement_with_others(project: Project) -> dict[int, list[dict[str, Any]]]:
    """Per annotator and kind, from the latest done agreement run: leave-one-out alpha
    (``alpha_without``: the others' alpha without them; ``alpha_delta``: the overall alpha
    minus that) and their pairwise alpha with the others, each pair weighted by its shared
    items. Fields the run did not compute are None."""
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for kind, run_id, result in _latest_results(AgreementRun, project):
        sums: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0])
        for pair in result.get("pairwise") or []:
            alpha, n = pair.get("alpha"), pair.get("n_shared") or 0
            if alpha is None or not n:
                continue
            for who in (pair["a"], pair["b"]):
                sums[who][0] += alpha * n
                sums[who][1] += n
        loo = {row["id"]: row for row in result.get("per_annotator") or [] if "id" in row}
        for who in sorted(set(sums) | set(loo)):
            total, weight = sums.get(who, (0.0, 0.0))
            out[who].append(
                {
                    "kind": kind,
                    "run": run_id,
                    "alpha_without": loo.get(who, {}).get("alpha_without"),
                    "alpha_delta": loo.get(who, {}).get("alpha_delta"),
                    "pairwise_alpha": round(total / weight, 6) if weight else None,
                }
            )
    return out


def dawid_skene_accuracy(project: Project) -> dict[int, list[dict[str, Any]]]:
    """Per annotator and kind, from the latest done accuracy estimate (a gold job)."""
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for kind, job_id, result in _latest_results(GoldJob, project, operation="accuracy"):
        for row in result.get("annotators") or []:
            out[row["annotator_id"]].append(
                {"kind": kind, "job": job_id, "accuracy": row.get("accuracy")}
            )
    return out


def annotator_report(*, project: Project, include: Iterable[int] = ()) -> list[dict[str, Any]]:
    """One row per annotator of the project (members with the annotator role, anyone who
    annotated, and the users in ``include``), ordered by username."""
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
    missing = set(include) - set(people)
    if missing:
        people.update(get_user_model().objects.filter(pk__in=missing).values_list("pk", "username"))
    lead_times: dict[int, list[int]] = defaultdict(list)
    for user_id, ms in real.filter(lead_time_ms__isnull=False).values_list(
        "annotator_id", "lead_time_ms"
    ):
        if ms is not None:  # excluded by the filter; narrows the nullable column
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
    agreement = agreement_with_others(project)
    estimates = dawid_skene_accuracy(project)
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
                "agreement_with_others": agreement.get(user_id, []),
                "dawid_skene_accuracy": estimates.get(user_id, []),
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
