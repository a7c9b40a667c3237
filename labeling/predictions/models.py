"""The Prediction model; imported by ``labeling.models`` so the app label stays ``labeling``."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from labeling.models import Project, Task

MODEL_NAME_MAX_LENGTH = 100


class Prediction(models.Model):
    """One model's answer to one task: a value of the task kind's shape and an optional score.

    A model answers a task at most once; importing again replaces its answer. Offsets in
    the value are code points into the document, like annotations.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="predictions")
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="predictions")
    model_name = models.CharField(max_length=MODEL_NAME_MAX_LENGTH)
    value = models.JSONField()
    score = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["task_id", "model_name"]
        constraints = [
            models.UniqueConstraint(fields=["task", "model_name"], name="prediction_one_per_model"),
            models.CheckConstraint(
                condition=Q(model_name__regex=r"^\S(.*\S)?$"), name="prediction_model_name_trimmed"
            ),
        ]
        indexes = [models.Index(fields=["project", "model_name"], name="prediction_model_idx")]

    def __str__(self) -> str:
        return f"{self.model_name} on task {self.task_id}"
