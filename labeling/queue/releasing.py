"""Releasing: slots go back to the pool when a lease is skipped or runs out.

A slot is given back exactly once, by the caller whose conditional UPDATE moved the
assignment out of ``active`` (see ``leasing`` for the invariant).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from labeling.exceptions import Conflict
from labeling.models import Annotation, Assignment, AssignmentStatus, Task

#: How many expired leases one ``next_task`` call releases at most (the job does the rest).
LAZY_RELEASE_LIMIT = 50
#: A lazy sweep of expired leases runs at most this often per (project, kind) and process.
LAZY_RELEASE_SECONDS = 5


def give_back_slots(task_id: int, n: int = 1) -> None:
    """Return ``n`` slots; call only after moving ``n`` assignments out of active."""
    Task.objects.filter(pk=task_id).update(n_assigned=F("n_assigned") - n, is_open=True)


def release_expired_leases(
    *, project_id: int | None = None, kind: str | None = None, limit: int = 1000
) -> int:
    """Expire active assignments whose lease ran out and return their slots to the pool.

    Returns how many were released. Each assignment is moved out of ``active`` by a
    conditional UPDATE on rows locked here, so its slot is given back exactly once.
    """
    now = timezone.now()
    qs = Assignment.objects.filter(status=AssignmentStatus.ACTIVE, expires_at__lt=now)
    if project_id is not None:
        qs = qs.filter(task__project_id=project_id)
    if kind is not None:
        qs = qs.filter(task__kind=kind)
    if not qs.exists():  # the common case: no transaction, one index probe
        return 0
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True, of=("self",))
        rows = list(qs.order_by("expires_at").values_list("pk", "task_id")[:limit])
        if not rows:
            return 0
        ids = [pk for pk, _ in rows]
        released = Assignment.objects.filter(pk__in=ids, status=AssignmentStatus.ACTIVE).update(
            status=AssignmentStatus.EXPIRED, finished_at=now
        )
        if released != len(ids):  # cannot happen while the rows are locked
            raise RuntimeError("expired leases changed while locked")
        for task_id, n in sorted(Counter(task_id for _, task_id in rows).items()):
            give_back_slots(task_id, n)
    return released


def release_all_expired_leases(*, batch: int = 1000) -> int:
    """Release every expired lease in batches (the periodic job); returns the count."""
    total = 0
    while n := release_expired_leases(limit=batch):
        total += n
    return total


def sweep(project_id: int, kind: str, *, force: bool = False) -> int:
    """Release expired leases of the queue, at most every ``LAZY_RELEASE_SECONDS`` unless forced."""
    key = f"labeling:lease-sweep:{project_id}:{kind}"
    if not cache.add(key, 1, timeout=LAZY_RELEASE_SECONDS) and not force:
        return 0
    return release_expired_leases(project_id=project_id, kind=kind, limit=LAZY_RELEASE_LIMIT)


def skip_task(*, user: Any, task: Task) -> Assignment:
    """Give the task back; it is never offered to this annotator again.

    Works on a held, an expired or a never-held task; a submitted task cannot be skipped.
    """
    now = timezone.now()
    with transaction.atomic():
        assignment = Assignment.objects.filter(task_id=task.pk, annotator_id=user.pk).first()
        if assignment is None:
            if Annotation.objects.filter(task_id=task.pk, annotator_id=user.pk).exists():
                raise Conflict("you already annotated this task; it cannot be skipped")
            return Assignment.objects.create(
                task_id=task.pk,
                annotator_id=user.pk,
                status=AssignmentStatus.SKIPPED,
                leased_at=now,
                expires_at=now,
                finished_at=now,
            )
        if assignment.status == AssignmentStatus.SUBMITTED:
            raise Conflict("you already annotated this task; it cannot be skipped")
        if assignment.status == AssignmentStatus.SKIPPED:
            return assignment
        moved = Assignment.objects.filter(pk=assignment.pk, status=AssignmentStatus.ACTIVE).update(
            status=AssignmentStatus.SKIPPED, finished_at=now
        )
        if moved:
            give_back_slots(task.pk)
        else:  # expired meanwhile: its slot was already given back
            Assignment.objects.filter(pk=assignment.pk).update(
                status=AssignmentStatus.SKIPPED, finished_at=now
            )
        assignment.refresh_from_db()
    return assignment
