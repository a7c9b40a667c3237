"""The review queue's rows; imported by ``labeling.models`` so the app label is ``labeling``."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from labeling.models.background_jobs import AgreementRun
from labeling.models.tasks import Task


class DisputedItem(models.Model):
    """A task its agreement run found disputed: every one with a disagreement above 0.

    Written by the run's job (``review.disputed.store_disputed``); the review queue pages
    and filters these rows of the latest finished run in SQL, most disputed first.
    """

    run = models.ForeignKey(AgreementRun, on_delete=models.CASCADE, related_name="disputed_items")
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField(help_text="Disagreement of the task in the run (above 0).")

    class Meta:
        ordering = ["run_id", "-score", "task_id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "task"], name="disputed_item_once"),
            models.CheckConstraint(condition=Q(score__gt=0), name="disputed_item_score_positive"),
        ]
        indexes = [models.Index(fields=["run", "-score", "task"], name="disputed_item_order")]

    def __str__(self) -> str:
        return f"task {self.task_id} disputed in run {self.run_id} ({self.score:.3f})"
