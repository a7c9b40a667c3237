"""Undo: the annotator takes back their last submit or skip of a task while its lease holds.

The assignment goes back to ``active`` with the lease it had (same ``expires_at``), so
the task is theirs again and the queue's invariant holds (see ``leasing``):

- after a submit, ``n_assigned`` already counts the assignment (submitted and active both
  count), so only ``n_submitted`` goes down and the first submission is withdrawn
  (deleted: it was never edited, so it has no revisions);
- after a skip, the slot was given back, so one is taken again with the conditional
  ``take_slot`` (409 when other annotators filled the task meanwhile).

Refused (409) once the lease has run out, for an annotation edited since (change it
instead), and for control questions (their answer was judged and may have been shown).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from labeling.exceptions import Conflict, Forbidden
from labeling.models import Annotation, Assignment, AssignmentStatus, ControlQuestion, Task
from labeling.queue.leasing import take_slot


def undo_task(*, user: Any, task: Task) -> Assignment:
    """Make the annotator's submitted or skipped ``task`` an active lease again."""
    now = timezone.now()
    with transaction.atomic():
        held = (
            Assignment.objects.select_for_update()
            .filter(task_id=task.pk, annotator_id=user.pk)
            .first()
        )
        if held is None:
            raise Forbidden("you never held this task, so there is nothing to undo")
        if held.status == AssignmentStatus.ACTIVE and held.expires_at > now:
            return held  # already undone (a repeated request)
        if held.expires_at <= now or held.status == AssignmentStatus.EXPIRED:
            raise Conflict(
                "your lease on this task has run out, so it can no longer be undone",
                code="lease_expired",
            )
        if ControlQuestion.objects.filter(task_id=task.pk).exists():
            raise Conflict("an answer to a control question cannot be undone", code="control")
        if held.status == AssignmentStatus.SUBMITTED:
            _withdraw_submission(user, task)
        elif not take_slot(task.pk):  # skipped: its slot went back to the pool
            raise Conflict("other annotators took this task since you skipped it", code="task_full")
        moved = Assignment.objects.filter(pk=held.pk, status=held.status).update(
            status=AssignmentStatus.ACTIVE, finished_at=None
        )
        if moved != 1:  # cannot happen while the row is locked
            raise RuntimeError("the assignment changed while locked")
    held.status = AssignmentStatus.ACTIVE
    held.finished_at = None
    return held


def _withdraw_submission(user: Any, task: Task) -> None:
    annotation = (
        Annotation.objects.select_for_update().filter(task_id=task.pk, annotator_id=user.pk).first()
    )
    if annotation is not None and annotation.revision > 1:
        raise Conflict(
            "you changed this annotation after submitting it; change it again instead",
            code="edited",
        )
    if annotation is not None:
        annotation.delete()
    Task.objects.filter(pk=task.pk, n_submitted__gt=0).update(n_submitted=F("n_submitted") - 1)
