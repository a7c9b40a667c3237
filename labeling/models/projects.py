"""Projects, who belongs to them and how each task kind is labelled in them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

#: Task kinds are not choices: the registry (``labeling.kinds``) knows the built-in kinds
#: and a project's schemas define its custom ones. A kind name is a lowercase identifier.
KIND_MAX_LENGTH = 32


class Level(models.TextChoices):
    NOMINAL = "nominal", "Nominal"
    ORDINAL = "ordinal", "Ordinal"
    INTERVAL = "interval", "Interval"
    RATIO = "ratio", "Ratio"


class Role(models.TextChoices):
    ANNOTATOR = "annotator", "Annotator"
    LEAD = "lead", "Lead"


class Project(models.Model):
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    guidelines = models.TextField(blank=True, help_text="Shown to annotators beside every task.")
    annotators_per_item = models.PositiveSmallIntegerField(
        default=3, help_text="How many annotators label each task (the overlap)."
    )
    lease_minutes = models.PositiveIntegerField(
        default=30, help_text="How long an annotator holds a task before it returns to the pool."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(annotators_per_item__gte=1) & Q(annotators_per_item__lte=100),
                name="project_overlap_1_to_100",
            ),
            models.CheckConstraint(
                condition=Q(lease_minutes__gte=1), name="project_lease_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="membership_unique_user"),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) in {self.project}"


class LabelSchema(models.Model):
    """How one task kind is labelled in a project: label set, order, level, values, targets.

    ``kind`` is a built-in kind or a custom question of this project (``labeling.kinds``
    validates every field; the admin and the API write through it).
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="schemas")
    kind = models.CharField(max_length=KIND_MAX_LENGTH)
    labels = models.JSONField(default=list, blank=True, help_text="Ordered list of label names.")
    level = models.CharField(max_length=16, choices=Level.choices, default=Level.NOMINAL)
    values = models.JSONField(
        null=True,
        blank=True,
        help_text="Each label's number (interval/ratio); null: labels equally spaced.",
    )
    targets = models.JSONField(default=list, blank=True, help_text="Targets (one task each).")
    description = models.TextField(blank=True, help_text="The question, shown to annotators.")
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["project_id", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["project", "kind"], name="schema_unique_kind"),
            models.CheckConstraint(condition=Q(level__in=Level.values), name="schema_level_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.project} / {self.kind}"
