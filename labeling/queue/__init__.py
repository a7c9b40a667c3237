"""The task queue: leasing, submit, skip and release, once, on SQLite and PostgreSQL.

``policy`` decides which tasks an annotator may take and in what order; ``leasing``
hands out leases (ahead of time too, and by sentence), ``submitting`` stores annotations,
``undoing`` takes back a submit or skip within its lease, ``releasing`` gives slots back
(skips, expired leases); ``progress`` counts. Views, jobs and commands call the
functions re-exported here.
"""

from labeling.queue.leasing import Ahead, enabled_schema, lease_sentence_group, next_task
from labeling.queue.progress import project_progress
from labeling.queue.releasing import release_all_expired_leases, release_expired_leases, skip_task
from labeling.queue.submitting import (
    MAX_LEAD_TIME_MS,
    SubmitResult,
    submit_annotation,
    validate_annotation_value,
)
from labeling.queue.undoing import undo_task

__all__ = [
    "Ahead",
    "MAX_LEAD_TIME_MS",
    "SubmitResult",
    "enabled_schema",
    "lease_sentence_group",
    "next_task",
    "project_progress",
    "release_all_expired_leases",
    "release_expired_leases",
    "skip_task",
    "submit_annotation",
    "undo_task",
    "validate_annotation_value",
]
