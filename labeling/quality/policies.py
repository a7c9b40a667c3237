"""Quality control's side of the queue: the policy context, who may work, quotas, draws.

The leases themselves are SQL arms of the queue's one lease statement
(``labeling.queue.policy``: control questions, reservations, escalated tasks,
prioritized documents, before reading order), run by ``labeling.queue.leasing`` in this
order: a paused annotator or one who failed qualification gets a 403 with a clear code;
a qualifying annotator gets qualification questions; quotas end the queue (204); then a
control question at the project's rate, the annotator's reserved tasks, escalated
tasks, tasks of prioritized documents, and reading order. Every lease goes through the
same slot accounting (a reservation already holds one).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connection
from django.db.models import Exists, OuterRef
from django.utils import timezone

from labeling.exceptions import Conflict, Forbidden
from labeling.models import Assignment, AssignmentStatus, Project
from labeling.quality.models import (
    AnnotatorState,
    AnnotatorStatus,
    ControlQuestion,
    DocumentPriority,
    Escalation,
    Qualification,
    QualitySettings,
    Reservation,
)
from labeling.quality.qualification import decide_qualification

#: Unseen controls drawn from per lease; one of them is picked at random.
CONTROL_CANDIDATES = 20
#: Candidates of reserved or escalated tasks tried per lease.
CANDIDATES = 5


@dataclass(frozen=True)
class QueueContext:
    """What the queue needs to know about the project's policies and this annotator."""

    control_rate: float = 0.0
    qualification_size: int = 0
    escalation: bool = False  # on, and some escalated task waits for annotators
    quota_total: int | None = None
    quota_per_day: int | None = None
    paused: bool = False
    paused_reason: str = ""
    qualification: str = Qualification.PENDING
    has_reservations: bool = False
    has_priorities: bool = False

    @property
    def must_qualify(self) -> bool:
        return self.qualification_size > 0 and self.qualification != Qualification.PASSED

    @property
    def has_quota(self) -> bool:
        return self.quota_total is not None or self.quota_per_day is not None

    @property
    def plain(self) -> bool:
        """No policy applies: the regular queue alone answers."""
        return not (
            self.control_rate
            or self.qualification_size
            or self.escalation
            or self.has_quota
            or self.paused
            or self.has_reservations
            or self.has_priorities
        )


_QS, _ST, _RES, _PRI, _ESC = (
    QualitySettings._meta.db_table,
    AnnotatorState._meta.db_table,
    Reservation._meta.db_table,
    DocumentPriority._meta.db_table,
    Escalation._meta.db_table,
)
# Read with the project: ``access_queue`` puts CONTEXT_COLUMNS in its SELECT list and
# CONTEXT_JOINS after its FROM (project ``p``); each takes the user's id once, in that
# order. Only table names are interpolated.
CONTEXT_COLUMNS = f"""
       q.control_rate, q.qualification_size,
       q.escalation_enabled AND EXISTS (
           SELECT 1 FROM {_ESC} e WHERE e.project_id = p.id AND e.status = 'open'
       ),
       q.quota_total,
       q.quota_per_day, a.status, a.qualification, a.quota_total, a.quota_per_day,
       a.paused_reason,
       EXISTS (SELECT 1 FROM {_RES} r WHERE r.project_id = p.id AND r.annotator_id = %s),
       EXISTS (SELECT 1 FROM {_PRI} dp WHERE dp.project_id = p.id)
"""  # noqa: S608
CONTEXT_JOINS = f"""
LEFT JOIN {_QS} q ON q.project_id = p.id
LEFT JOIN {_ST} a ON a.project_id = p.id AND a.user_id = %s
"""  # noqa: S608
N_CONTEXT_COLUMNS = 12

_CONTEXT_SQL = f"""
SELECT {CONTEXT_COLUMNS} FROM {Project._meta.db_table} p {CONTEXT_JOINS} WHERE p.id = %s
"""  # noqa: S608


def context_from_row(row: tuple[Any, ...] | list[Any]) -> QueueContext:
    """The context from the ``CONTEXT_COLUMNS`` values of a row."""
    rate, qsize, escalation, quota_total, quota_day = row[:5]
    status, qualification, own_total, own_day, reason, reserved, prioritized = row[5:]
    return QueueContext(
        control_rate=float(rate or 0.0),
        qualification_size=int(qsize or 0),
        escalation=bool(escalation),
        quota_total=own_total if own_total is not None else quota_total,
        quota_per_day=own_day if own_day is not None else quota_day,
        paused=status == AnnotatorStatus.PAUSED,
        paused_reason=reason or "",
        qualification=qualification or Qualification.PENDING,
        has_reservations=bool(reserved),
        has_priorities=bool(prioritized),
    )


def context_for(user: Any, project: Project) -> QueueContext:
    """The queue context read with the project by ``access_queue``, else one query."""
    found = getattr(project, "queue_context", None)
    if found is not None:
        return found
    with connection.cursor() as cur:
        cur.execute(_CONTEXT_SQL, [user.pk, user.pk, project.pk])
        row = cur.fetchone()
    return context_from_row(row)


def check_may_work(ctx: QueueContext) -> None:
    """403 with a clear code when the annotator may not get tasks now."""
    if ctx.paused:
        reason = f" ({ctx.paused_reason})" if ctx.paused_reason else ""
        raise Forbidden(
            f"a lead paused you in this project{reason}; you get no tasks until a lead resumes you",
            code="annotator_paused",
        )
    if ctx.qualification_size and ctx.qualification == Qualification.FAILED:
        raise Forbidden(
            "you did not reach the accuracy this project's qualification requires; "
            "a lead may let you try again",
            code="qualification_failed",
        )


def _day_start(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def quota_reached(user: Any, project: Project, ctx: QueueContext, now: datetime) -> bool:
    """True when the annotator took as many real tasks as their total or daily quota.

    Counts active and submitted assignments of non-control tasks (days in UTC).
    Call with the annotator's state row locked so concurrent calls count in turn.
    """
    taken = Assignment.objects.filter(
        annotator_id=user.pk,
        task__project_id=project.pk,
        status__in=[AssignmentStatus.ACTIVE, AssignmentStatus.SUBMITTED],
    ).filter(~Exists(ControlQuestion.objects.filter(task_id=OuterRef("task_id"))))
    if ctx.quota_total is not None and taken.count() >= ctx.quota_total:
        return True
    if ctx.quota_per_day is not None:
        start = _day_start(now.astimezone(UTC))
        if taken.filter(leased_at__gte=start).count() >= ctx.quota_per_day:
            return True
    return False


def _lock_state(user: Any, project: Project) -> None:
    """Lock the annotator's state row (made if missing): quota checks take turns."""
    AnnotatorState.objects.get_or_create(project_id=project.pk, user_id=user.pk)
    list(
        AnnotatorState.objects.select_for_update()
        .filter(project_id=project.pk, user_id=user.pk)
        .values_list("pk", flat=True)
    )


def quota_reached_now(user: Any, project: Project, ctx: QueueContext) -> bool:
    """``quota_reached`` with the annotator's state row locked (call in a transaction):
    concurrent leases of one annotator count in turn."""
    _lock_state(user, project)
    return quota_reached(user, project, ctx, timezone.now())


def draw_control(ctx: QueueContext) -> bool:
    """Whether this lease serves a control question (at the project's rate)."""
    return bool(ctx.control_rate) and random.random() < ctx.control_rate  # noqa: S311


def qualification_ran_out(user: Any, project: Project, kind: str) -> None:
    """No qualification question was left: decide; 403 when failed, 409 when undecided
    (no question of this kind left); returns when passed (real tasks follow)."""
    settings = QualitySettings.objects.get(project_id=project.pk)
    outcome = decide_qualification(
        project_id=project.pk, user_id=user.pk, settings=settings, final=True
    )
    if outcome == Qualification.FAILED:
        check_may_work(QueueContext(qualification_size=1, qualification=outcome))
    if outcome == Qualification.PENDING:
        raise Conflict(
            f"this project's qualification has no question of kind {kind} left for you; "
            "ask for another kind or ask a lead",
            code="qualification_unavailable",
        )
