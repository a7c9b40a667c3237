"""The real dataset's rows: control questions and their answers left out.

Every reader of the dataset (agreement, gold, export, progress, the report) filters
through these, so a control answer is never counted as an annotation.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

from labeling.models import Annotation, Task
from labeling.quality.models import ControlQuestion


def regular_tasks(qs: QuerySet[Task]) -> QuerySet[Task]:
    """Tasks of the real dataset: everything but control questions."""
    return qs.filter(~Exists(ControlQuestion.objects.filter(task_id=OuterRef("pk"))))


def real_annotations(qs: QuerySet[Annotation]) -> QuerySet[Annotation]:
    """Annotations of the real dataset: none of a control question's answers."""
    return qs.filter(~Exists(ControlQuestion.objects.filter(task_id=OuterRef("task_id"))))
