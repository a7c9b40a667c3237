"""Queue policies of quality control, applied by ``next_task`` before the regular queue.

In order: a paused annotator or one who failed qualification gets a 403 with a clear
code; a qualifying annotator gets qualification questions; quotas end the queue (204);
then a control question at the project's rate, the annotator's reserved tasks, escalated
tasks, tasks of prioritized documents, and finally the regular queue. Every lease taken
here goes through the same slot accounting as the regular queue (``take_slot``; a
reservation already holds one).
"""

from __future__ import annotations

import random
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from labeling.exceptions import Conflict, Forbidden
from labeling.models import Assignment, AssignmentStatus, Project, Task
from labeling.quality.models import (
    AnnotatorState,
    AnnotatorStatus,
    ControlQuestion,
    DocumentPriority,
    Escalation,
    EscalationStatus,
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


def _place(assignment: Assignment, document_id: int, position: int, target: str) -> Assignment:
    assignment.place = (document_id, position, target)  # type: ignore[attr-defined]
    return assignment


def _new_lease(user: Any, task_id: int, now: datetime, expires: datetime) -> Assignment:
    return Assignment.objects.create(
        task_id=task_id, annotator_id=user.pk, leased_at=now, expires_at=expires
    )


def _lease_first(
    user: Any, rows: list[tuple[int, int, int, str]], now: datetime, expires: datetime
) -> Assignment | None:
    """Lease the first candidate (task, document, position, target) with a free slot."""
    from labeling.queue.leasing import take_slot

    for task_id, document_id, position, task_target in rows:
        try:
            with transaction.atomic():
                if not take_slot(task_id):
                    continue
                lease = _new_lease(user, task_id, now, expires)
        except IntegrityError:  # the same annotator, concurrently, got it first
            continue
        return _place(lease, document_id, position, task_target)
    return None


def lease_control(
    user: Any, project: Project, kind: str, target: str | None, now: datetime, expires: datetime
) -> Assignment | None:
    """Lease a control question this annotator was never shown; None when none is left."""
    seen = Assignment.objects.filter(task_id=OuterRef("task_id"), annotator_id=user.pk)
    qs = ControlQuestion.objects.filter(project_id=project.pk, kind=kind).filter(~Exists(seen))
    if target:
        qs = qs.filter(task__target=target)
    rows = list(
        qs.order_by("id").values_list(
            "task_id", "task__document_id", "task__position", "task__target"
        )[:CONTROL_CANDIDATES]
    )
    random.shuffle(rows)
    return _lease_first(user, rows, now, expires)


def lease_reserved(
    user: Any, project: Project, kind: str, target: str | None, now: datetime, expires: datetime
) -> Assignment | None:
    """Turn the annotator's first reservation (reading order) into a lease; its slot passes over."""
    from labeling.queue.releasing import give_back_slots

    qs = Reservation.objects.filter(annotator_id=user.pk, project_id=project.pk, kind=kind)
    if target:
        qs = qs.filter(task__target=target)
    rows = list(
        qs.order_by("document_id", "position", "id").values_list(
            "pk", "task_id", "document_id", "position", "task__target"
        )[:CANDIDATES]
    )
    for pk, task_id, document_id, position, task_target in rows:
        with transaction.atomic():
            if not Reservation.objects.filter(pk=pk).delete()[0]:
                continue  # taken by a concurrent call of the same annotator
            try:
                with transaction.atomic():
                    lease = _new_lease(user, task_id, now, expires)
            except IntegrityError:  # they hold the task already: the reserved slot goes back
                give_back_slots(task_id)
                continue
        return _place(lease, document_id, position, task_target)
    return None


def lease_escalated(
    user: Any, project: Project, kind: str, target: str | None, now: datetime, expires: datetime
) -> Assignment | None:
    """Lease an escalated task that still needs annotators, oldest escalation first."""
    mine = Assignment.objects.filter(task_id=OuterRef("task_id"), annotator_id=user.pk)
    qs = Escalation.objects.filter(
        project_id=project.pk, kind=kind, status=EscalationStatus.OPEN, task__is_open=True
    ).filter(~Exists(mine))
    if target:
        qs = qs.filter(task__target=target)
    rows = list(
        qs.order_by("id").values_list(
            "task_id", "task__document_id", "task__position", "task__target"
        )[:CANDIDATES]
    )
    return _lease_first(user, rows, now, expires)


def lease_prioritized(
    user: Any, project: Project, kind: str, target: str | None, now: datetime, expires: datetime
) -> Assignment | None:
    """Lease the first open task of the highest-priority document that has work for them.

    Reading order inside a document; documents of equal priority in id order.
    """
    mine = Assignment.objects.filter(task_id=OuterRef("pk"), annotator_id=user.pk)
    control = ControlQuestion.objects.filter(task_id=OuterRef("pk"))
    qs = Task.objects.filter(
        project_id=project.pk, kind=kind, is_open=True, document__queue_priority__isnull=False
    ).filter(~Exists(mine), ~Exists(control))
    if target:
        qs = qs.filter(target=target)
    rows = list(
        qs.order_by(
            "-document__queue_priority__priority", "document_id", "position", "target"
        ).values_list("id", "document_id", "position", "target")[:CANDIDATES]
    )
    return _lease_first(user, rows, now, expires)


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


def lease_with_policies(
    *,
    user: Any,
    project: Project,
    kind: str,
    target: str | None,
    ctx: QueueContext,
    regular: Any,
) -> Assignment | None:
    """Apply the policies in order, then ``regular()`` (the regular queue's lease)."""
    now = timezone.now()
    expires = now + timedelta(minutes=project.lease_minutes)
    if ctx.must_qualify:
        leased = lease_control(user, project, kind, target, now, expires)
        if leased is not None:
            return leased
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
    with transaction.atomic() if ctx.has_quota else nullcontext():
        if ctx.has_quota:
            _lock_state(user, project)
            if quota_reached(user, project, ctx, now):
                return None
        if ctx.control_rate and random.random() < ctx.control_rate:  # noqa: S311 - not security
            leased = lease_control(user, project, kind, target, now, expires)
            if leased is not None:
                return leased
        if ctx.has_reservations:
            leased = lease_reserved(user, project, kind, target, now, expires)
            if leased is not None:
                return leased
        if ctx.escalation:
            leased = lease_escalated(user, project, kind, target, now, expires)
            if leased is not None:
                return leased
        if ctx.has_priorities:
            leased = lease_prioritized(user, project, kind, target, now, expires)
            if leased is not None:
                return leased
        return regular()
