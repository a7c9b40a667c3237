"""An annotator's status in a project: pause (their leases go back) and resume."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from labeling.models import Assignment, AssignmentStatus
from labeling.quality.models import AnnotatorState, AnnotatorStatus
from labeling.queue.releasing import give_back_slots


def pause_annotator(*, project_id: int, user_id: int, reason: str) -> AnnotatorState:
    """Pause the annotator in the project: next-task answers 403 ``annotator_paused``."""
    now = timezone.now()
    state, _ = AnnotatorState.objects.get_or_create(project_id=project_id, user_id=user_id)
    AnnotatorState.objects.filter(pk=state.pk).update(
        status=AnnotatorStatus.PAUSED, paused_reason=reason, paused_at=now, updated_at=now
    )
    # Their unexpired leases go back to the pool: a paused annotator holds no task. The
    # status is updated first: a lease racing this pause either waits for it at the
    # queue's pause gate and sees it, or commits before the read below and is released.
    held = list(
        Assignment.objects.filter(
            annotator_id=user_id, task__project_id=project_id, status=AssignmentStatus.ACTIVE
        ).values_list("pk", "task_id")
    )
    for pk, task_id in held:
        if Assignment.objects.filter(pk=pk, status=AssignmentStatus.ACTIVE).update(
            status=AssignmentStatus.EXPIRED, finished_at=now
        ):
            give_back_slots(task_id)
    state.refresh_from_db()
    return state


def resume_annotator(*, project_id: int, user_id: int) -> AnnotatorState:
    """Make the annotator active again (a failed qualification may be retried: reset)."""
    state, _ = AnnotatorState.objects.get_or_create(project_id=project_id, user_id=user_id)
    AnnotatorState.objects.filter(pk=state.pk).update(
        status=AnnotatorStatus.ACTIVE,
        paused_reason="",
        paused_at=None,
        updated_at=timezone.now(),
    )
    state.refresh_from_db()
    return state


def update_annotator(*, project_id: int, user_id: int, **changes: Any) -> AnnotatorState:
    """Apply a lead's changes: ``status`` (pause, resume), reason, quotas, qualification."""
    new_status = changes.pop("status", None)
    reason = changes.pop("paused_reason", None)
    state, _ = AnnotatorState.objects.get_or_create(project_id=project_id, user_id=user_id)
    if changes:
        AnnotatorState.objects.filter(pk=state.pk).update(**changes, updated_at=timezone.now())
    if new_status == AnnotatorStatus.PAUSED:
        return pause_annotator(
            project_id=project_id, user_id=user_id, reason=reason or "paused by a lead"
        )
    if new_status == AnnotatorStatus.ACTIVE:
        return resume_annotator(project_id=project_id, user_id=user_id)
    state.refresh_from_db()
    return state
