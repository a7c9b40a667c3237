"""Gold aggregation and annotator-accuracy estimation as background jobs (202, then poll).

Both read every annotation of a kind (seconds on a large project), so requests only
record a ``GoldJob``; the job calls ``gold.aggregate_gold`` or
``gold.estimate_annotator_accuracy`` and stores what it returned as ``result``.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from labeling import events
from labeling.access import access_lead_object
from labeling.exceptions import InvalidInput
from labeling.jobs.lifecycle import Job, enqueue, run_job
from labeling.kinds.lookup import project_schema
from labeling.models import GoldJob, GoldJobOperation, GoldMethod, JobStatus, Project
from labeling.review.gold import _check_kind_method as check_kind_method
from labeling.review.gold import aggregate_gold, estimate_annotator_accuracy


def start_gold_job(
    *, project: Project, operation: str, kind: str, method: str = "", user: Any = None
) -> GoldJob:
    """Validate and record a gold job; it is published once the row commits."""
    if operation == GoldJobOperation.AGGREGATE:
        method = method or GoldMethod.MAJORITY
        _, schema = check_kind_method(project, kind, method)
    elif operation == GoldJobOperation.ACCURACY:
        schema = project_schema(project.pk, kind)  # any kind of the project; method fixed
        method = GoldMethod.DAWID_SKENE
    else:
        raise InvalidInput(f"unknown operation {operation!r}", field="operation")
    kind = schema.kind
    with transaction.atomic():
        job = GoldJob.objects.create(
            project=project,
            operation=operation,
            kind=kind,
            method=method,
            requested_by=user if user is not None and user.pk else None,
        )
        enqueue(GoldJob, job.pk)
    return job


def run_gold_job(job_id: int) -> None:
    """Run a GoldJob through the lifecycle and store its result."""

    def work(job: Job) -> dict[str, Any]:
        row = GoldJob.objects.select_related("project").get(pk=job.pk)
        if row.operation == GoldJobOperation.AGGREGATE:
            result = aggregate_gold(project=row.project, kind=row.kind, method=row.method)
            return {"result": result.as_dict()}
        return {"result": estimate_annotator_accuracy(project=row.project, kind=row.kind)}

    if run_job(GoldJob, job_id, work) == JobStatus.DONE:
        row = GoldJob.objects.filter(pk=job_id).values("project_id", "kind", "operation").first()
        if row is not None and row["operation"] == GoldJobOperation.AGGREGATE:
            events.publish(
                events.GOLD_CHANGED, project_id=row["project_id"], kind=row["kind"], task_ids=None
            )


def access_gold_job(user: Any, job_id: Any) -> GoldJob:
    """The gold job if ``user`` leads its project or is staff (404 / 403 like projects)."""
    return access_lead_object(user, GoldJob, job_id, "gold job")
