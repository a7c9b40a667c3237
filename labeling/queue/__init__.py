"""The task queue: leasing, submit, skip and release, once, on SQLite and PostgreSQL.

``policy`` decides which tasks an annotator may take and in what order; ``leasing``
hands out leases, ``submitting`` stores annotations, ``releasing`` gives slots back
(skips, expired leases); ``progress`` counts. Views, jobs and commands call the
functions re-exported here.
"""

from labeling.queue.leasing import enabled_schema, next_task
from labeling.queue.progress import project_progress
from labeling.queue.releasing import release_all_expired_leases, release_expired_leases, skip_task
from labeling.queue.submitting import (
    MAX_LEAD_TIME_MS,
    SubmitResult,
    submit_annotation,
    validate_annotation_value,
)

__all__ = [
    "MAX_LEAD_TIME_MS",
    "SubmitResult",
    "enabled_schema",
    "next_task",
    "project_progress",
    "release_all_expired_leases",
    "release_expired_leases",
    "skip_task",
    "submit_annotation",
    "validate_annotation_value",
]
