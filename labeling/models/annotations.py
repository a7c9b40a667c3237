"""Annotations (an annotator's current value for a task) and their earlier revisions."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from labeling.models.tasks import Task


class Annotation(models.Model):
    """The current value one annotator gave one task; earlier values live in revisions."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="annotations")
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="annotations"
    )
    value = models.JSONField()
    lead_time_ms = models.PositiveIntegerField(null=True, blank=True)
    from_suggestion = models.BooleanField(
        default=False, help_text="The annotator started this value from a suggestion."
    )
    revision = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["task", "annotator"], name="annotation_unique_annotator"
            ),
            models.CheckConstraint(
                condition=Q(revision__gte=1), name="annotation_revision_positive"
            ),
        ]
        indexes = [models.Index(fields=["annotator", "updated_at"], name="annotation_recent_idx")]

    def __str__(self) -> str:
        return f"{self.annotator} on task {self.task_id} (rev {self.revision})"


class AnnotationRevision(models.Model):
    """An earlier value of an annotation, kept when the annotator edits it."""

    annotation = models.ForeignKey(Annotation, on_delete=models.CASCADE, related_name="revisions")
    revision = models.PositiveIntegerField()
    value = models.JSONField()
    lead_time_ms = models.PositiveIntegerField(null=True, blank=True)
    from_suggestion = models.BooleanField(default=False)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["annotation_id", "revision"]
        constraints = [
            models.UniqueConstraint(
                fields=["annotation", "revision"], name="revision_unique_number"
            ),
        ]

    def __str__(self) -> str:
        return f"revision {self.revision} of annotation {self.annotation_id}"
