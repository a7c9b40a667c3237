"""The periodic sweep that makes every job end: dead workers' rows, unpublished rows.

Run by beat (``CELERY_BEAT_SCHEDULE``) every ``SWEEP_SECONDS``. The embedded mode has no
beat and no heartbeat thread (SQLite), so there ``take_over_dead_claims`` runs instead
when a lead lists or opens jobs: a row still ``running`` whose claiming process on this
host is gone (the server crashed or was killed mid-job) is run again, or failed after
``MAX_ATTEMPTS``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.db.models import Q
from django.utils import timezone

from labeling.jobs.lifecycle import (
    JOB_TASKS,
    MAX_ATTEMPTS,
    STALE_SECONDS,
    WORKER_LOST_ERROR,
    claimer_gone,
    is_eager,
    job_model,
    publish,
    publish_later,
    this_host_prefix,
)
from labeling.models import BackgroundJob, JobStatus

SWEEP_SECONDS = 15.0
# A queued row whose message may be lost (broker restarted empty) is published again
# after this long; a duplicate message is harmless (the claim lets one worker in).
REPUBLISH_AFTER = timedelta(minutes=2)
PUBLISH_GRACE = timedelta(seconds=10)  # the request publishes new rows itself first
MAX_PUBLISH_PER_SWEEP = 200

BackgroundJobT = TypeVar("BackgroundJobT", bound=BackgroundJob)


def sweep_jobs(now: datetime | None = None) -> dict[str, int]:
    """Re-queue (or fail after ``MAX_ATTEMPTS``) rows whose heartbeat stopped; publish due rows.

    Returns counts: ``requeued``, ``failed``, ``published``, ``unpublished`` (broker down).
    """
    now = now or timezone.now()
    counts = {"requeued": 0, "failed": 0, "published": 0, "unpublished": 0}
    stale = Q(status=JobStatus.RUNNING) & (
        Q(heartbeat_at__lt=now - timedelta(seconds=STALE_SECONDS))
        | Q(heartbeat_at__isnull=True, started_at__lt=now - timedelta(seconds=STALE_SECONDS))
    )
    for model in JOB_TASKS:
        counts["failed"] += model._default_manager.filter(stale, attempts__gte=MAX_ATTEMPTS).update(
            status=JobStatus.FAILED,
            error=WORKER_LOST_ERROR,
            finished_at=now,
        )
        counts["requeued"] += model._default_manager.filter(
            stale, attempts__lt=MAX_ATTEMPTS
        ).update(
            status=JobStatus.QUEUED,
            published_at=None,
            run_after=now,  # due at once
            error="the worker stopped (no heartbeat); queued again",
        )
        for pk in _due(model, now):
            counts["published" if publish(model, pk) else "unpublished"] += 1
    return counts


def _due(model: type[BackgroundJob], now: datetime) -> list[int]:
    """Queued rows to publish: due, and never published or published long ago."""
    due = Q(run_after__lte=now) | Q(run_after__isnull=True, created_at__lt=now - PUBLISH_GRACE)
    unsent = Q(published_at__isnull=True) | Q(published_at__lt=now - REPUBLISH_AFTER)
    return list(
        model._default_manager.filter(due & unsent, status=JobStatus.QUEUED)
        .order_by("id")
        .values_list("pk", flat=True)[:MAX_PUBLISH_PER_SWEEP]
    )


def take_over_dead_claims(
    model: type[BackgroundJob], *, in_background: bool = False, **filters: Any
) -> int:
    """Embedded mode only: recover ``model``'s rows whose claiming process on this host is gone.

    Such a row is ``running`` for ever otherwise (no beat, no heartbeat on SQLite): it is
    queued again and, the mode being eager, run at once in this process; after
    ``MAX_ATTEMPTS`` claims it is failed with ``WORKER_LOST_ERROR``. Only rows claimed on
    this host are judged, by their pid (the heartbeat cannot tell there). Call it where a
    lead lists (``project_id=``) or opens (``pk=``) jobs (``filters`` narrow the rows);
    one query when nothing is stuck. ``in_background``: run them on a timer thread
    (``publish_later``) instead of in the caller (webhook deliveries).
    In services mode it does nothing (beat runs ``sweep_jobs``). Returns how many rows it
    took over.
    """
    if not is_eager():
        return 0
    model = job_model(model)
    rows = model._default_manager.filter(
        status=JobStatus.RUNNING, claimed_by__startswith=this_host_prefix()
    )
    if filters:
        rows = rows.filter(**filters)
    now = timezone.now()
    taken = 0
    for row_pk, claimed_by, attempts in list(rows.values_list("pk", "claimed_by", "attempts")):
        if not claimer_gone(claimed_by):
            continue
        fenced = model._default_manager.filter(
            pk=row_pk, status=JobStatus.RUNNING, claimed_by=claimed_by, attempts=attempts
        )
        if attempts >= MAX_ATTEMPTS:
            fenced.update(status=JobStatus.FAILED, error=WORKER_LOST_ERROR, finished_at=now)
            taken += 1
            continue
        requeued = fenced.update(
            status=JobStatus.QUEUED,
            published_at=None,
            run_after=now,
            error=f"the process running this job ({claimed_by}) stopped; run again",
        )
        if requeued:
            taken += 1
            if in_background:
                publish_later(model, row_pk)
            else:
                publish(model, row_pk)  # eager: runs here
    return taken


def recover_if_dead(row: BackgroundJobT) -> BackgroundJobT:
    """``row`` itself, or (embedded mode) read again after taking over its dead claim.

    For the pages that open one job: no query unless ``row`` is ``running`` and its
    claiming process on this host is gone (see ``take_over_dead_claims``).
    """
    if row.status != JobStatus.RUNNING or not claimer_gone(row.claimed_by) or not is_eager():
        return row
    if take_over_dead_claims(type(row), pk=row.pk):
        row.refresh_from_db()
    return row
