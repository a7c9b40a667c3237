"""Rows run by background jobs (``labeling.jobs``): agreement runs, exports, imports and
gold jobs. None of them is a labelling task (that is ``Task``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from labeling.models.projects import KIND_MAX_LENGTH, Project


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
