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
) -> ControlAnswer:
    """Judge the annotator's first answer to a control; pause them if accuracy falls too low.

    Called once per (control, annotator): right after the annotation's first submission
    (a second one is an edit, which is not judged again).
    """
    control = ControlQuestion.objects.get(pk=control_id)
    settings = settings_of(task.project_id)
    in_qualification = False
    if settings.qualification_size > 0:
        state = AnnotatorState.objects.filter(project_id=task.project_id, user_id=user.pk)
        found = state.values_list("qualification", flat=True).first()
        in_qualification = found in (None, Qualification.PENDING)
    spec = kind_spec(control.kind)
    expected = control.value.get("label", "") if isinstance(control.value, dict) else ""
    answer = ControlAnswer.objects.create(
        control=control,
        annotator_id=user.pk,
        project_id=task.project_id,
        annotation=annotation,
        correct=spec.value_key(annotation.value) == spec.value_key(control.value),
        expected_label=expected if isinstance(expected, str) else "",
        qualification=in_qualification,
    )
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
