"""Uploaded files imported by a background job, with progress and errors kept on an ImportJob."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.core.files.base import ContentFile, File
from django.db import transaction

from labeling.exceptions import InvalidInput
from labeling.importing.documents import import_documents
from labeling.importing.readers import DocumentRecord, ReadError, read_records
from labeling.jobs.lifecycle import TRANSIENT_ERRORS, Job, JobFailed, describe, enqueue, run_job
from labeling.models import ImportJob, Project

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
    *, project: Project, data: bytes | File, filename: str, format: str = "", user: Any = None
) -> ImportJob:
    """Store the upload and queue its import; the job is published once this commits."""
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
        enqueue(ImportJob, job.pk)
    return job


def start_import_of_records(
    *, project: Project, records: Sequence[DocumentRecord], user: Any = None
) -> ImportJob:
    """Queue an import job for records parsed from a request (too many tasks for one request)."""
    lines = []
    for record in records:
        item: dict[str, Any] = {
            "title": record.title,
            "text": record.text,
            "external_id": record.external_id,
            "source_url": record.source_url,
            "metadata": record.metadata,
        }
        if record.controls:
            item["controls"] = [
                {
                    "kind": c.kind,
                    "target": c.target,
                    "value": c.value,
                    **({"sentence": c.sentence} if c.sentence is not None else {}),
                    **({"offset": c.offset} if c.offset is not None else {}),
                }
                for c in record.controls
            ]
        if record.published_at is not None:
            item["published_at"] = record.published_at.isoformat()
        lines.append(json.dumps(item, ensure_ascii=False))
    data = ("\n".join(lines) + "\n").encode("utf-8")
    return start_import(
        project=project, data=data, filename="request.jsonl", format="jsonl", user=user
    )


def run_import(job_id: int) -> None:
    """Read and import an ImportJob's file through the job lifecycle.

    The import is one transaction (all or nothing); its progress is written beside it,
    so pollers see it move. Read errors fail the job with their line numbers in
    ``errors``; a lost database connection rolls the import back and is retried.
    """

    def work(job: Job) -> dict[str, Any]:
        row = ImportJob.objects.select_related("project").get(pk=job.pk)
        try:
            with row.file.open("rb") as fh:
                data = fh.read()
            records = read_records(data, format=row.format, filename=row.filename)
            result = import_documents(
                project=row.project,
                records=records,
                progress=lambda done, total: job.progress(done / max(total, 1)),
                user=row.requested_by,
            )
        except ReadError as exc:  # bad lines, or control questions naming no task
            errors = [e.__dict__ for e in exc.errors]
            if exc.omitted:
                errors.append({"line": 0, "field": "", "message": f"and {exc.omitted} more errors"})
            raise JobFailed(f"{len(errors)} errors in the file", errors=errors) from exc
        except TRANSIENT_ERRORS:
            raise  # the lifecycle retries; the rolled-back import left nothing behind
        except Exception as exc:
            message = f"{describe(exc)}; nothing was imported"
            raise JobFailed(message, errors=[{"line": 0, "field": "", "message": message}]) from exc
        return {"n_documents": len(records), "n_created": len(result.created)}

    run_job(ImportJob, job_id, work)
