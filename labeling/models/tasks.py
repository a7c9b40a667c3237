"""Labelling tasks and the annotators' assignments (leases) on them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from labeling.models.documents import Document, Sentence
from labeling.models.projects import KIND_MAX_LENGTH, LabelSchema, Project


class Task(models.Model):
    """One sentence to be labelled for one kind (and one stance target).

    ``n_assigned`` counts active and submitted assignments; it never exceeds ``overlap``
    (a database constraint) and is changed only by conditional updates in ``assignment``.
    ``document``/``position`` are copied from the sentence so the queue reads one index.
    """

    # project and document are copies of the sentence's: no database constraint or index of
    # their own (the sentence's FK and the composite indexes cover them), which halves the
    # per-row work of bulk imports. Django still cascades deletes through them.
    project = models.ForeignKey(
        Project,
        on_delete=models.CASCADE,
        related_name="tasks",
        db_constraint=False,
        db_index=False,
    )
    sentence = models.ForeignKey(
        Sentence, on_delete=models.CASCADE, related_name="tasks", db_index=False
    )
    document = models.ForeignKey(
        Document,
        on_delete=models.CASCADE,
        related_name="tasks",
        db_constraint=False,
        db_index=False,
    )
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=KIND_MAX_LENGTH)
    target = models.CharField(max_length=200, blank=True)
    overlap = models.PositiveSmallIntegerField()
    n_assigned = models.PositiveSmallIntegerField(default=0)
    n_submitted = models.PositiveSmallIntegerField(default=0)
    is_open = models.BooleanField(default=True, help_text="Has room for another annotator.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["document_id", "position", "kind", "target"]
        constraints = [
            models.UniqueConstraint(
                fields=["sentence", "kind", "target"], name="task_unique_sentence_kind_target"
            ),
            models.CheckConstraint(
                condition=Q(n_assigned__lte=F("overlap")), name="task_never_over_assigned"
            ),
            models.CheckConstraint(
                condition=Q(n_submitted__lte=F("n_assigned")), name="task_submitted_within_assigned"
            ),
        ]
        indexes = [
            # The queue: open tasks of a project and kind in reading order.
            models.Index(
                fields=["project", "kind", "target", "document", "position"],
                condition=Q(is_open=True),
                name="task_queue_idx",
            ),
            models.Index(fields=["project", "kind", "document", "position"], name="task_order_idx"),
        ]

    def __str__(self) -> str:
        suffix = f" → {self.target}" if self.target else ""
        return f"{self.kind}{suffix} #{self.pk}"


class AssignmentStatus(models.TextChoices):
    ACTIVE = "active", "Active (leased)"
    SUBMITTED = "submitted", "Submitted"
    SKIPPED = "skipped", "Skipped"
    EXPIRED = "expired", "Expired"


class Assignment(models.Model):
    """An annotator's hold on a task: a lease while active, then submitted, skipped or expired."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="assignments")
    # Not a field: next_task sets it on a new lease so the payload needs no query.
    schema: LabelSchema
    # Indexed by the (annotator, status) and (annotator, -id) indexes below.
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="assignments",
        db_index=False,
    )
    status = models.CharField(
        max_length=16, choices=AssignmentStatus.choices, default=AssignmentStatus.ACTIVE
    )
    leased_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["task", "annotator"], name="assignment_unique_annotator"
            ),
            models.CheckConstraint(
                condition=Q(status__in=AssignmentStatus.values), name="assignment_status_valid"
            ),
        ]
        indexes = [
            models.Index(
                fields=["expires_at"],
                condition=Q(status="active"),
                name="assignment_active_expiry_idx",
            ),
            models.Index(fields=["annotator", "status"], name="assignment_annotator_idx"),
            # The queue's cursor: an annotator's newest assignment, without a sort.
            models.Index(fields=["annotator", "-id"], name="assignment_cursor_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.annotator} on task {self.task_id} ({self.status})"
