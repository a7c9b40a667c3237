"""Uploaded files imported by a background job, with progress and errors kept on an ImportJob."""

from __future__ import annotations

from pathlib import Path

from django.core.files.base import ContentFile, File
from django.db import transaction
from django.utils import timezone

from labeling.exceptions import InvalidInput
from labeling.importing import import_documents
from labeling.models import ImportJob, JobStatus, Project
from labeling.readers import ReadError, read_records

FORMATS = ("txt", "jsonl", "csv")


def detect_format(filename: str, format: str = "") -> str:
    """The import format: ``format`` if given, else from the file name's extension."""
    fmt = (format or Path(filename).suffix.lstrip(".")).lower()
    if fmt == "text":
        fmt = "txt"
    if fmt not in FORMATS:
        raise InvalidInput(
            f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}", field="format"
        )
    return fmt


def start_import(
    *, project: Project, data: bytes | File, filename: str, format: str = "", user=None
) -> ImportJob:
    """Store the upload and queue its import; the job starts after this transaction commits."""
    from labeling.jobs import run_import

    fmt = detect_format(filename, format)
    if not (data.size if isinstance(data, File) else data):
        raise InvalidInput("the uploaded file is empty", field="file")
    with transaction.atomic():
        job = ImportJob.objects.create(
            project=project,
            format=fmt,
            filename=Path(filename).name[:255],
            requested_by=user if user is not None and user.pk else None,
        )
        content = data if isinstance(data, File) else ContentFile(data)  # files stream
        job.file.save(f"{job.pk}.{fmt}", content, save=True)
        transaction.on_commit(lambda: run_import.delay(job.pk))
    return job


def run_import_job(job_id: int) -> None:
    """Read and import an ImportJob's file; store progress, counts and errors on the job."""
    job = ImportJob.objects.filter(pk=job_id).select_related("project").first()
    if job is None or job.status in (JobStatus.DONE, JobStatus.FAILED):
        return  # deleted, or a retry of a finished job
    ImportJob.objects.filter(pk=job_id).update(status=JobStatus.RUNNING, progress=0.0)
    try:
        with job.file.open("rb") as fh:
            data = fh.read()
        records = read_records(data, format=job.format, filename=job.filename)
    except ReadError as exc:
        errors = [e.__dict__ for e in exc.errors]
        if exc.omitted:
            errors.append({"line": 0, "field": "", "message": f"and {exc.omitted} more errors"})
        _finish(job_id, JobStatus.FAILED, errors=errors)
        return

    def progress(done: int, total: int) -> None:
        ImportJob.objects.filter(pk=job_id).update(progress=min(done / max(total, 1), 1.0))

    try:
        result = import_documents(project=job.project, records=records, progress=progress)
    except Exception as exc:
        _finish(job_id, JobStatus.FAILED, errors=[{"line": 0, "field": "", "message": str(exc)}])
        raise
    _finish(job_id, JobStatus.DONE, n_documents=len(records), n_created=len(result.created))


def _finish(job_id: int, status: str, **fields: object) -> None:
    ImportJob.objects.filter(pk=job_id).update(
        status=status,
        progress=1.0 if status == JobStatus.DONE else 0.0,
        finished_at=timezone.now(),
        **fields,
    )
