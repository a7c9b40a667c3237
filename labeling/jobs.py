"""Celery jobs. ("Task" means a labeling task here, so background work is a "job".)

Each job is thin: load by id, call one plain function, record failure. Jobs are
started with ``transaction.on_commit`` by the code that creates their rows.
"""

from __future__ import annotations

from celery import shared_task


@shared_task(name="labeling.run_import", acks_late=True)
def run_import(import_job_id: int) -> None:
    """Import an uploaded file recorded as an ImportJob."""
    from labeling.import_jobs import run_import_job

    run_import_job(import_job_id)


@shared_task(name="labeling.compute_agreement", acks_late=True)
def compute_agreement(run_id: int) -> None:
    """Compute and store an AgreementRun; a no-op when it is done, failed or deleted."""
    from labeling.agreement_runs import execute_agreement_run

    execute_agreement_run(run_id)


@shared_task(name="labeling.release_expired_leases")
def release_expired_leases() -> int:
    """Return expired leases to the pool (periodic, see CELERY_BEAT_SCHEDULE)."""
    from labeling.assignment import release_all_expired_leases

    return release_all_expired_leases()


@shared_task(name="labeling.run_export", acks_late=True)
def run_export(export_id: int) -> None:
    """Write an Export's file; a no-op when it is done, failed or deleted."""
    from labeling.exporting.job import run_export_job

    run_export_job(export_id)
