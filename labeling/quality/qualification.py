"""Qualification: new annotators answer control questions with feedback before real tasks."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q

from labeling.models import Project
from labeling.quality.models import AnnotatorState, ControlAnswer, Qualification, QualitySettings


def qualification_counts(project_id: int, user_id: int) -> tuple[int, int]:
    """(answered, right) qualification answers of the annotator in the project."""
    row = ControlAnswer.objects.filter(
        project_id=project_id, annotator_id=user_id, qualification=True
    ).aggregate(n=Count("id"), right=Count("id", filter=Q(correct=True)))
    return row["n"], row["right"]


def decide_qualification(
    *, project_id: int, user_id: int, settings: QualitySettings, final: bool = False
) -> str:
    """Store and return the annotator's qualification after their answers so far.

    Decided once ``qualification_size`` answers are in, or earlier with ``final`` (no
    qualification question left for them) when at least one was answered.
    """
    n, right = qualification_counts(project_id, user_id)
    if n < settings.qualification_size and not (final and n):
        return Qualification.PENDING
    passed = right / n >= settings.qualification_accuracy
    outcome = Qualification.PASSED if passed else Qualification.FAILED
    AnnotatorState.objects.update_or_create(
        project_id=project_id, user_id=user_id, defaults={"qualification": outcome}
    )
    return outcome


def update_qualification(*, project_id: int, user_id: int, settings: QualitySettings) -> str:
    """After a qualification answer: decide when the set is complete."""
    return decide_qualification(project_id=project_id, user_id=user_id, settings=settings)


def feedback(answer: ControlAnswer) -> dict[str, Any] | None:
    """What a qualifying annotator sees after an answer: verdict, right answer, guidelines.

    None for silent control answers (outside qualification): those look like any task.
    """
    if not answer.qualification:
        return None
    control = answer.control
    guidelines = Project.objects.filter(pk=control.project_id).values_list("guidelines", flat=True)
    return {
        "correct": answer.correct,
        "answer": control.value,
        "guidelines": guidelines.first() or "",
    }
