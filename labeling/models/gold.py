"""Gold labels: the accepted value of a task."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from labeling.models.tasks import Task


class GoldMethod(models.TextChoices):
    ADJUDICATED = "adjudicated", "Adjudicated by a lead"
    MAJORITY = "majority", "Majority vote"
    DAWID_SKENE = "dawid_skene", "Dawid-Skene"


class GoldLabel(models.Model):
    """The accepted value of a task: adjudicated by a lead, or aggregated from annotations."""

    task = models.OneToOneField(Task, on_delete=models.CASCADE, related_name="gold")
    value = models.JSONField()
    method = models.CharField(max_length=16, choices=GoldMethod.choices)
    confidence = models.FloatField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    decided_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the annotations this gold rests on were read (aggregation, also when "
        "it confirmed the same value) or the lead decided (adjudication); annotations saved "
        "or edited later make it stale. Null on rows from before: updated_at stands in.",
    )

    class Meta:
        ordering = ["task_id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(method__in=GoldMethod.values), name="gold_method_valid"
            ),
            models.CheckConstraint(
                condition=Q(confidence__isnull=True)
                | (Q(confidence__gte=0) & Q(confidence__lte=1)),
                name="gold_confidence_0_1",
            ),
        ]

    def __str__(self) -> str:
        return f"gold of task {self.task_id} ({self.method})"
