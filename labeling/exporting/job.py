"""The export job's work: record an Export, write its file, store the outcome (one lifecycle)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from django.core.files import File
from django.db import transaction

from labeling import events
from labeling.access import access_lead_object
from labeling.exceptions import InvalidInput
from labeling.exporting.files import write_export_file
from labeling.exporting.params import ExportOptions
from labeling.exporting.records import count_tasks, export_filename
from labeling.exporting.writers import FORMATS
from labeling.jobs.lifecycle import Job, enqueue, run_job
from labeling.models import Export, ExportFormat, JobStatus, Project


def start_export(*, project: Project, fmt: str, options: ExportOptions, user: Any) -> Export:
    """Record an Export; its job is published once the row is committed."""
    if fmt not in ExportFormat.values:
        raise InvalidInput(f"must be one of {', '.join(FORMATS)}; got {fmt!r}", field="format")
    with transaction.atomic():
        export = Export.objects.create(
            project=project,
            format=fmt,
            filters=options.to_json(),
            requested_by=user if user is not None and user.pk else None,
        )
        enqueue(Export, export.pk)
    return export


def run_export(export_id: int) -> None:
    """Write an Export's file through the job lifecycle; a no-op when done, failed or gone.

    Must not be called inside a transaction: progress UPDATEs must commit as they happen.
    The file is written to a temporary file first and stored once complete, so a retry
    after a crash starts afresh and no half-written file is ever offered for download.
    """

    def work(job: Job) -> dict[str, Any]:
        export = Export.objects.select_related("project").get(pk=job.pk)
        options = ExportOptions.from_json(export.filters)
        total = max(count_tasks(export.project, options), 1)

        def progress(n_records: int) -> None:
            job.progress(n_records / total, n_records=n_records)

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "export"
            n_records = write_export_file(
                export.project, export.format, options, path, progress=progress
            )
            name = export_filename(export.project, export.format, options)
            with open(path, "rb") as fh:
                export.file.save(f"{export.pk}-{name}", File(fh), save=False)
        return {"file": export.file.name, "n_records": n_records}

    if run_job(Export, export_id, work) == JobStatus.DONE:
        row = Export.objects.filter(pk=export_id).values("project_id", "format").first()
        if row is not None:
            events.publish(
                events.EXPORT_DONE, project_id=row["project_id"], id=export_id, format=row["format"]
            )


def access_export(user: Any, export_id: Any) -> Export:
    """The export if ``user`` leads its project or is staff (404 / 403 like projects)."""
    return access_lead_object(user, Export, export_id, "export")
