"""Judging answers to control questions; pausing annotators whose accuracy falls too low."""

from __future__ import annotations

from typing import Any

from labeling.kinds.registry import kind_spec
from labeling.models import Annotation, Task
from labeling.quality.models import (
    AnnotatorState,
    ControlAnswer,
    ControlQuestion,
    Qualification,
    QualitySettings,
)
from labeling.quality.qualification import update_qualification
from labeling.quality.status import pause_annotator


def settings_of(project_id: int) -> QualitySettings:
    """The project's quality settings (defaults, unsaved, when none were set)."""
    found = QualitySettings.objects.filter(project_id=project_id).first()
    return found if found is not None else QualitySettings(project_id=project_id)


def record_control_answer(
    *, user: Any, task: Task, control_id: int, annotation: Annotation
) -> ControlAnswer | None:
    """Judge the annotator's first answer to a control; pause them if accuracy falls too low.

    Returns the answer (None when they had answered before: only first answers count).
    Call inside the submission's transaction or right after it.
    """
    control = ControlQuestion.objects.get(pk=control_id)
    state = AnnotatorState.objects.filter(project_id=task.project_id, user_id=user.pk).first()
    settings = settings_of(task.project_id)
    in_qualification = settings.qualification_size > 0 and (
        state is None or state.qualification == Qualification.PENDING
    )
    spec = kind_spec(control.kind)
    expected = control.value.get("label", "") if isinstance(control.value, dict) else ""
    answer, created = ControlAnswer.objects.get_or_create(
        control=control,
        annotator_id=user.pk,
        defaults={
            "project_id": task.project_id,
            "annotation": annotation,
            "correct": spec.value_key(annotation.value) == spec.value_key(control.value),
            "expected_label": expected if isinstance(expected, str) else "",
            "qualification": in_qualification,
        },
    )
    if not created:
        return None
    if in_qualification:
        update_qualification(project_id=task.project_id, user_id=user.pk, settings=settings)
    elif settings.pause_below is not None:
        _pause_if_below(task.project_id, user.pk, settings)
    return answer


def _pause_if_below(project_id: int, user_id: int, settings: QualitySettings) -> None:
    answers = ControlAnswer.objects.filter(
        project_id=project_id, annotator_id=user_id, qualification=False
    )
    n = answers.count()
    if n < max(settings.min_control_answers, 1):
        return
    right = answers.filter(correct=True).count()
    if settings.pause_below is not None and right / n < settings.pause_below:
        pause_annotator(
            project_id=project_id,
            user_id=user_id,
            reason=f"control accuracy {right}/{n} fell below {settings.pause_below:.0%}",
        )
