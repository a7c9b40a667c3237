"""Models of quality control; imported by ``labeling.models`` so the app label stays ``labeling``.

A control question is an ordinary task withdrawn from the regular queue: its ``overlap`` is
``CONTROL_OVERLAP`` (any number of annotators may answer it, each once), its answers are
annotations of the control task and never of the real dataset (agreement, gold, export and
progress leave control tasks out). A reservation holds one slot of a task (counted in
``Task.n_assigned``) for one annotator: no one else can take that slot while it stands.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from labeling.models import Annotation, Project, Task

#: The overlap of a control task: "any number of annotators", within a small integer.
CONTROL_OVERLAP = 32767


class AnnotatorStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"


class Qualification(models.TextChoices):
    PENDING = "pending", "Not yet qualified"
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"


class QualitySettings(models.Model):
    """A project's quality policy: control rate, thresholds, qualification, escalation, quotas."""

    project = models.OneToOneField(
        Project, on_delete=models.CASCADE, related_name="quality_settings"
    )
    control_rate = models.FloatField(
        default=0.0, help_text="Share of next-task answers that are control questions (0–1)."
    )
    warn_below = models.FloatField(
        null=True, blank=True, help_text="Control accuracy below which the lead is warned."
    )
    pause_below = models.FloatField(
        null=True, blank=True, help_text="Control accuracy below which the annotator is paused."
    )
    min_control_answers = models.PositiveSmallIntegerField(
        default=5, help_text="Control answers needed before the thresholds apply."
    )
    qualification_size = models.PositiveSmallIntegerField(
        default=0, help_text="Control questions a new annotator answers first (0: none)."
    )
    qualification_accuracy = models.FloatField(
        default=0.8, help_text="Accuracy on the qualification set needed to get real tasks."
    )
    escalation_enabled = models.BooleanField(default=False)
    escalation_threshold = models.FloatField(
        default=0.5, help_text="Per-item disagreement (0–1) above which a full task escalates."
    )
    escalation_thresholds = models.JSONField(
        default=dict, blank=True, help_text="Per-kind thresholds overriding the default."
    )
    escalation_step = models.PositiveSmallIntegerField(
        default=1, help_text="Annotators added each time a task escalates."
    )
    escalation_max_extra = models.PositiveSmallIntegerField(
        default=2, help_text="At most this many annotators above the project's overlap."
    )
    quota_total = models.PositiveIntegerField(
        null=True, blank=True, help_text="Default: tasks one annotator may take in total."
    )
    quota_per_day = models.PositiveIntegerField(
        null=True, blank=True, help_text="Default: tasks one annotator may take per day (UTC)."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "quality settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(control_rate__gte=0) & Q(control_rate__lte=1),
                name="quality_control_rate_0_1",
            ),
            models.CheckConstraint(
                condition=Q(qualification_accuracy__gte=0) & Q(qualification_accuracy__lte=1),
                name="quality_qualification_accuracy_0_1",
            ),
            models.CheckConstraint(
                condition=Q(escalation_threshold__gte=0) & Q(escalation_threshold__lte=1),
                name="quality_escalation_threshold_0_1",
            ),
            models.CheckConstraint(
                condition=Q(escalation_step__gte=1), name="quality_escalation_step_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"quality settings of {self.project}"


class AnnotatorState(models.Model):
    """One annotator's standing in a project: paused or active, qualification, own quotas."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="annotator_states")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="annotator_states"
    )
    status = models.CharField(
        max_length=16, choices=AnnotatorStatus.choices, default=AnnotatorStatus.ACTIVE
    )
    paused_reason = models.TextField(blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    qualification = models.CharField(
        max_length=16, choices=Qualification.choices, default=Qualification.PENDING
    )
    quota_total = models.PositiveIntegerField(null=True, blank=True)
    quota_per_day = models.PositiveIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["project_id", "user_id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="annotator_state_unique"),
            models.CheckConstraint(
                condition=Q(status__in=AnnotatorStatus.values), name="annotator_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(qualification__in=Qualification.values),
                name="annotator_qualification_valid",
            ),
            models.CheckConstraint(
                condition=Q(status="paused") | Q(paused_at__isnull=True),
                name="annotator_paused_at_only_when_paused",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.project} ({self.status})"


class ControlQuestion(models.Model):
    """A task used as a control question, with its right answer."""

    task = models.OneToOneField(Task, on_delete=models.CASCADE, related_name="control")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="controls")
    kind = models.CharField(max_length=64)
    value = models.JSONField()
    base_overlap = models.PositiveSmallIntegerField(
        help_text="The task's overlap before it became a control (restored on removal)."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["project", "kind"], name="control_project_kind_idx")]

    def __str__(self) -> str:
        return f"control on task {self.task_id}"


class ControlAnswer(models.Model):
    """An annotator's first answer to a control question, judged against its right answer."""

    control = models.ForeignKey(ControlQuestion, on_delete=models.CASCADE, related_name="answers")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="control_answers"
    )
    annotation = models.OneToOneField(
        Annotation, null=True, blank=True, on_delete=models.SET_NULL, related_name="control_answer"
    )
    correct = models.BooleanField()
    expected_label = models.CharField(
        max_length=200, blank=True, help_text="The right label (label kinds): per-label accuracy."
    )
    qualification = models.BooleanField(
        default=False, help_text="Answered during qualification (with feedback)."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["control", "annotator"], name="control_answer_unique_annotator"
            ),
        ]
        indexes = [
            models.Index(fields=["project", "annotator", "id"], name="control_answer_idx"),
        ]

    def __str__(self) -> str:
        verdict = "right" if self.correct else "wrong"
        return f"{self.annotator} on control {self.control_id} ({verdict})"


class Reservation(models.Model):
    """A slot of a task held for one annotator (counted in ``Task.n_assigned``).

    It ends when the annotator leases the task (the slot passes to their assignment) or
    when a lead releases it (the slot goes back to the pool).
    """

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="reservations")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reservations"
    )
    # Copied from the task so an annotator's reservations are read in reading order.
    kind = models.CharField(max_length=64)
    document = models.ForeignKey(
        "labeling.Document", on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    position = models.PositiveIntegerField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["document_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["task", "annotator"], name="reservation_unique"),
        ]
        indexes = [
            models.Index(
                fields=["annotator", "project", "kind", "document", "position"],
                name="reservation_queue_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"task {self.task_id} reserved for {self.annotator}"


class EscalationStatus(models.TextChoices):
    OPEN = "open", "Waiting for more annotations"
    RESOLVED = "resolved", "Resolved (agreement reached)"
    UNRESOLVED = "unresolved", "Unresolved (maximum reached)"


class Escalation(models.Model):
    """A full task whose annotations disagreed: its overlap was raised by ``extra``.

    The task's effective overlap is ``base_overlap + extra`` (``Task.overlap``).
    """

    task = models.OneToOneField(Task, on_delete=models.CASCADE, related_name="escalation")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="escalations")
    kind = models.CharField(max_length=64)
    base_overlap = models.PositiveSmallIntegerField()
    extra = models.PositiveSmallIntegerField()
    max_extra = models.PositiveSmallIntegerField()
    disagreement = models.FloatField(help_text="Per-item disagreement when last checked (0–1).")
    status = models.CharField(
        max_length=16, choices=EscalationStatus.choices, default=EscalationStatus.OPEN
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(extra__gte=1) & Q(extra__lte=F("max_extra")),
                name="escalation_extra_within_max",
            ),
            models.CheckConstraint(
                condition=Q(status__in=EscalationStatus.values), name="escalation_status_valid"
            ),
        ]
        indexes = [
            models.Index(
                fields=["project", "kind", "id"],
                condition=Q(status="open"),
                name="escalation_open_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"escalation of task {self.task_id} (+{self.extra}, {self.status})"


class DocumentPriority(models.Model):
    """A document's place in the queue: higher first (0, the default, is no row at all).

    Reading order inside a document is kept; documents of equal priority come in id order.
    """

    document = models.OneToOneField(
        "labeling.Document", on_delete=models.CASCADE, related_name="queue_priority"
    )
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    priority = models.PositiveIntegerField()

    class Meta:
        ordering = ["-priority", "document_id"]
        constraints = [
            models.CheckConstraint(condition=Q(priority__gte=1), name="priority_positive"),
        ]
        indexes = [
            models.Index(fields=["project", "-priority", "document"], name="document_priority_idx")
        ]

    def __str__(self) -> str:
        return f"priority {self.priority} of document {self.document_id}"
