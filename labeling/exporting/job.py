"""The export job's work: record an Export, write its file, store the outcome."""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path
from typing import Any

from django.core.files import File
from django.db import transaction
from django.utils import timezone

from labeling.access import access_lead_object
from labeling.exceptions import InvalidInput
from labeling.exporting.files import write_export_file
from labeling.exporting.params import ExportOptions
from labeling.exporting.records import count_tasks, export_filename
from labeling.exporting.writers import FORMATS
from labeling.models import Export, ExportFormat, JobStatus, Project

logger = logging.getLogger(__name__)

PROGRESS_INTERVAL = 1.0  # seconds between progress UPDATEs of an export job


def start_export(*, project: Project, fmt: str, options: ExportOptions, user: Any) -> Export:
    """Record an Export and start its job once the row is committed."""
    from labeling.jobs import run_export

    if fmt not in ExportFormat.values:
        raise InvalidInput(f"must be one of {', '.join(FORMATS)}; got {fmt!r}", field="format")
    with transaction.atomic():
        export = Export.objects.create(
            project=project,
            format=fmt,
            filters=options.to_json(),
            requested_by=user if user is not None and user.pk else None,
        )
        export_id = export.pk
        transaction.on_commit(lambda: _enqueue(export_id, run_export))
    return export


def _enqueue(export_id: int, job: Any) -> None:
    """Send the job; if the broker refuses, the export is marked failed rather than stuck."""
    try:
        job.delay(export_id)
    except Exception as exc:
        logger.exception("could not start export %s", export_id)
        Export.objects.filter(pk=export_id, status=JobStatus.QUEUED).update(
            status=JobStatus.FAILED,
            error=f"could not start the job: {type(exc).__name__}: {exc}"[:4000],
            finished_at=timezone.now(),
        )


class _ExportProgress:
    """Writes an export's progress in short UPDATEs, at most every ``interval`` seconds."""

    def __init__(self, export_id: int, total: int, interval: float = PROGRESS_INTERVAL) -> None:
        self.export_id = export_id
        self.total = max(total, 1)
        self.interval = interval
        self.last = time.monotonic()

    def __call__(self, n_records: int) -> None:
        now = time.monotonic()
        if now - self.last < self.interval:
            return
        self.last = now
        Export.objects.filter(pk=self.export_id, status=JobStatus.RUNNING).update(
            progress=min(n_records / self.total, 0.99), n_records=n_records
        )


def run_export_job(export_id: int) -> None:
    """Write an Export's file and record its outcome; a no-op when done, failed or deleted.

    Must not be called inside a transaction: progress UPDATEs must commit as they happen.
    The file is written to a temporary file first and stored once complete, so a retry
    after a crash starts afresh and no half-written file is ever offered for download.
    """
    claimed = Export.objects.filter(
        pk=export_id, status__in=[JobStatus.QUEUED, JobStatus.RUNNING]
    ).update(status=JobStatus.RUNNING, progress=0.0, error="")
    if not claimed:
        logger.info("export %s is finished or gone; nothing to do", export_id)
        return
    export = Export.objects.select_related("project").filter(pk=export_id).first()
    if export is None:
        return
    try:
        options = ExportOptions.from_json(export.filters)
        total = count_tasks(export.project, options)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "export"
            n_records = write_export_file(
                export.project,
                export.format,
                options,
                path,
                progress=_ExportProgress(export_id, total),
            )
            name = export_filename(export.project, export.format, options)
            with open(path, "rb") as fh:
                export.file.save(f"{export_id}-{name}", File(fh), save=False)
    except Exception as exc:
        logger.exception("export %s failed", export_id)
        Export.objects.filter(pk=export_id).update(
            status=JobStatus.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:4000],
            finished_at=timezone.now(),
        )
        return
    Export.objects.filter(pk=export_id, status=JobStatus.RUNNING).update(
        status=JobStatus.DONE,
        file=export.file.name,
        n_records=n_records,
        progress=1.0,
        error="",
        finished_at=timezone.now(),
    )


def access_export(user: Any, export_id: Any) -> Export:
    """The export if ``user`` leads its project or is staff (404 / 403 like projects)."""
    return access_lead_object(user, Export, export_id, "export")
