"""The periodic sweep that makes every job end: dead workers' rows, unpublished rows.

Run by beat (``CELERY_BEAT_SCHEDULE``) every ``SWEEP_SECONDS``; in the embedded mode the
lead pages call it instead (there is no beat there).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from labeling.jobs.lifecycle import (
    JOB_TASKS,
    MAX_ATTEMPTS,
    STALE_SECONDS,
    WORKER_LOST_ERROR,
    publish,
)
from labeling.models import BackgroundJob, JobStatus

SWEEP_SECONDS = 15.0
# A queued row whose message may be lost (broker restarted empty) is published again
# after this long; a duplicate message is harmless (the claim lets one worker in).
REPUBLISH_AFTER = timedelta(minutes=2)
PUBLISH_GRACE = timedelta(seconds=10)  # the request publishes new rows itself first
MAX_PUBLISH_PER_SWEEP = 200


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
