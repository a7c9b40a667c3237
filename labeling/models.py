"""Every model of the labeling app: choices, constraints and indexes; no business logic.

Offsets are character offsets into ``Document.text``, half-open (``text[start:end]``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

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


class Document(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="documents")
    title = models.CharField(max_length=500, blank=True)
    text = models.TextField()
    external_id = models.CharField(max_length=255, blank=True)
    source_url = models.URLField(max_length=2000, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    content_hash = models.CharField(max_length=64, help_text="SHA-256 of the text.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "external_id"],
                condition=~Q(external_id=""),
                name="document_unique_external_id",
            ),
            models.UniqueConstraint(
                fields=["project", "content_hash"],
                condition=Q(external_id=""),
                name="document_unique_content_without_external_id",
            ),
        ]
        indexes = [models.Index(fields=["project", "content_hash"], name="document_hash_idx")]

    def __str__(self) -> str:
        return self.title or f"Document {self.pk}"


class Sentence(models.Model):
    """A sentence of a document; ``document.text[start:end] == text``."""

    # Indexed by the unique (document, position) constraint.
    document = models.ForeignKey(
        Document, on_delete=models.CASCADE, related_name="sentences", db_index=False
    )
    position = models.PositiveIntegerField()
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    text = models.TextField()

    class Meta:
        ordering = ["document_id", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["document", "position"], name="sentence_unique_position"
            ),
            models.CheckConstraint(
                condition=Q(start__lt=F("end")), name="sentence_start_before_end"
            ),
        ]

    def __str__(self) -> str:
        return self.text[:80]


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


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class BackgroundJob(models.Model):
    """What every row run by a background job records: status, progress, who and when.

    Written only by ``labeling.jobs.lifecycle``: ``attempts`` counts claims and fences
    writes (a worker presumed dead cannot overwrite its successor), ``heartbeat_at``
    moves while the worker ``claimed_by`` ("host:pid") runs the job, ``published_at`` is
    when its message last went to the broker, ``run_after`` delays publication
    (debounced automatic runs).
    """

    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress = models.FloatField(default=0.0)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    run_after = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=255, blank=True)  # "host:pid" of the worker
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class AgreementRun(BackgroundJob):
    """One computation of agreement for a (project, kind), with its progress and result."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="agreement_runs")
    kind = models.CharField(max_length=KIND_MAX_LENGTH)
    trigger = models.CharField(max_length=16, default="manual")
    result = models.JSONField(null=True, blank=True)
    timings = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=JobStatus.values), name="run_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(progress__gte=0) & Q(progress__lte=1), name="run_progress_0_1"
            ),
            # The debounce of automatic runs: at most one pending per (project, kind).
            models.UniqueConstraint(
                fields=["project", "kind"],
                condition=Q(trigger="auto", status="queued"),
                name="run_one_pending_auto",
            ),
        ]
        indexes = [models.Index(fields=["project", "kind", "-id"], name="run_history_idx")]

    def __str__(self) -> str:
        return f"agreement {self.kind} #{self.pk} ({self.status})"


class ExportFormat(models.TextChoices):
    JSONL = "jsonl", "JSON Lines"
    CSV = "csv", "CSV"
    PARQUET = "parquet", "Parquet"


class Export(BackgroundJob):
    """A dataset export written to a file by a background job."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="exports")
    format = models.CharField(max_length=16, choices=ExportFormat.choices)
    filters = models.JSONField(default=dict, blank=True)
    file = models.FileField(upload_to="exports/", blank=True)
    n_records = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(format__in=ExportFormat.values), name="export_format_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=JobStatus.values), name="export_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"export {self.format} #{self.pk} ({self.status})"


class ImportJob(BackgroundJob):
    """An uploaded file imported by a background job, with progress and its errors."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="import_jobs")
    format = models.CharField(max_length=16)
    file = models.FileField(upload_to="imports/")
    filename = models.CharField(max_length=255, blank=True)
    n_documents = models.PositiveIntegerField(default=0)
    n_created = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"import {self.filename or self.format} #{self.pk} ({self.status})"


class GoldJobOperation(models.TextChoices):
    AGGREGATE = "aggregate", "Aggregate gold labels"
    ACCURACY = "accuracy", "Estimate annotator accuracy"


class GoldJob(BackgroundJob):
    """Gold aggregation or annotator-accuracy estimation for a (project, kind), run as a job."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="gold_jobs")
    operation = models.CharField(max_length=16, choices=GoldJobOperation.choices)
    kind = models.CharField(max_length=64)  # validated against the project's schemas
    method = models.CharField(max_length=16, blank=True)
    result = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=JobStatus.values), name="goldjob_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"gold {self.operation} {self.kind} #{self.pk} ({self.status})"


# Quality control lives in its own module; importing it here registers its models.
from labeling.quality.models import (  # noqa: E402, F401
    AnnotatorState,
    AnnotatorStatus,
    ControlAnswer,
    ControlQuestion,
    DocumentPriority,
    Escalation,
    EscalationStatus,
    Qualification,
    QualitySettings,
    Reservation,
)
