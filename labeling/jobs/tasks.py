"""Celery tasks, each named ``*_job``: load by id, call one plain function.

Every job is ``acks_late`` with ``reject_on_worker_lost`` (a killed worker's message goes
back to the broker), stores no result (nothing reads one), and retries a database or
broker error raised outside the lifecycle (e.g. while claiming) with bounded backoff.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task

from labeling.jobs.lifecycle import TRANSIENT_ERRORS

JOB_OPTIONS: dict[str, Any] = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "ignore_result": True,
    "autoretry_for": TRANSIENT_ERRORS,
    "max_retries": 3,
    "retry_backoff": 2,
    "retry_backoff_max": 30,
}


@shared_task(name="labeling.agreement_run_job", **JOB_OPTIONS)
def agreement_run_job(run_id: int) -> None:
    """Compute and store an AgreementRun."""
    from labeling.agreement_runs.runs import execute_agreement_run

    execute_agreement_run(run_id)


@shared_task(name="labeling.export_job", **JOB_OPTIONS)
def export_job(export_id: int) -> None:
    """Write an Export's file."""
    from labeling.exporting.job import run_export

    run_export(export_id)


@shared_task(name="labeling.import_job", **JOB_OPTIONS)
def import_job(import_job_id: int) -> None:
    """Import the file of an ImportJob."""
    from labeling.importing.job import run_import

    run_import(import_job_id)


@shared_task(name="labeling.gold_job", **JOB_OPTIONS)
def gold_job(gold_job_id: int) -> None:
    """Aggregate gold labels or estimate annotator accuracy for a GoldJob."""
    from labeling.review.gold_jobs import run_gold_job

    run_gold_job(gold_job_id)


@shared_task(name="labeling.webhook_delivery_job", **JOB_OPTIONS)
def webhook_delivery_job(delivery_id: int) -> None:
    """Send one webhook delivery (one try; a failed try queues the next with backoff)."""
    from labeling.webhooks.delivering import deliver_webhook

    deliver_webhook(delivery_id)


@shared_task(name="labeling.sweep_jobs_job", ignore_result=True)
def sweep_jobs_job() -> dict[str, int]:
    """Re-queue or fail jobs whose worker died; publish queued jobs again (beat)."""
    from labeling.jobs.sweeps import sweep_jobs

    return sweep_jobs()


@shared_task(name="labeling.release_expired_leases_job", ignore_result=True)
def release_expired_leases_job() -> int:
    """Return expired leases to the pool (beat)."""
    from labeling.queue import release_all_expired_leases

    return release_all_expired_leases()
