"""The one lifecycle of background jobs: publish, claim, heartbeat, progress, finish, fail, retry.

A job is a row of a ``BackgroundJob`` model (``AgreementRun``, ``Export``, ``ImportJob``,
``GoldJob``) plus a Celery task named ``*_job`` (``labeling.jobs.tasks``) that calls one
plain function, which hands its work to ``run_job``. A row moves
``queued -> running -> done | failed`` and every write of those columns is here.

* Publish (``enqueue``): after the row's transaction commits, with short broker
  timeouts and bounded retries (``PUBLISH_*``), so a refused or silent broker costs a
  request about a second, never a hang. The row itself is the durable record: a row
  still ``queued`` is published again by the sweep (``labeling.jobs.sweeps``). Eager
  mode (no broker) runs the job in process instead. Celery's ``delay_on_commit`` is not
  used because its publish error would escape from the commit hook into the request.
* Claim: one conditional UPDATE takes a ``queued`` row, or a ``running`` one whose
  heartbeat stopped (its worker died), and bumps ``attempts``; later writes are fenced
  by that number, so a worker presumed dead cannot overwrite its successor.
* Heartbeat: a thread refreshes ``heartbeat_at`` every ``HEARTBEAT_SECONDS`` while the
  work runs (PostgreSQL); the sweep re-queues or fails rows silent for ``STALE_SECONDS``.
* Progress: short UPDATEs outside the work's transaction. When the work runs inside a
  transaction (an import), they go through a separate connection so pollers see them
  move; SQLite cannot write beside an open write transaction, so there they wait.
* Transient database and broker errors are retried in process with backoff
  (``RETRY_BACKOFF``), then the job fails. A failure is stored on a fresh connection,
  because the job's own connection may be the thing that died.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connection, transaction
from django.db.utils import load_backend
from django.utils import timezone

from labeling.bulk import column_field
from labeling.models import (
    AgreementRun,
    BackgroundJob,
    Export,
    GoldJob,
    ImportJob,
    JobStatus,
    WebhookDelivery,
)

logger = logging.getLogger(__name__)

#: The Celery task of each job model (``labeling.jobs.tasks``).
JOB_TASKS: dict[type[BackgroundJob], str] = {
    AgreementRun: "labeling.agreement_run_job",
    Export: "labeling.export_job",
    ImportJob: "labeling.import_job",
    GoldJob: "labeling.gold_job",
    WebhookDelivery: "labeling.webhook_delivery_job",
}
HEARTBEAT_SECONDS = 10.0
STALE_SECONDS = 45.0  # several missed heartbeats: the worker is gone
MAX_ATTEMPTS = 3  # claims of one row (worker deaths included) before it is failed
RETRY_BACKOFF = (1.0, 2.0, 4.0)  # seconds before each in-process retry of a transient error
PROGRESS_INTERVAL = 0.5  # seconds between progress UPDATEs
# Publishing: a black-holed broker (accepts TCP, never answers) must not hold a request.
PUBLISH_TIMEOUT = 0.4  # seconds, connect and socket
PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0.0,
    "interval_step": 0.1,
    "interval_max": 0.1,
}
MAX_ERROR = 4000
WORKER_LOST_ERROR = (
    f"the worker stopped {MAX_ATTEMPTS} times while running this job (killed, out of "
    "memory or over the time limit); not retried again"
)

try:  # kombu wraps broker connection errors in its OperationalError
    from kombu.exceptions import OperationalError as BrokerError
except ImportError:  # pragma: no cover - kombu comes with celery
    BrokerError = OSError  # type: ignore[assignment,misc]

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (OperationalError, InterfaceError, BrokerError)


class JobFailed(Exception):
    """Raised by a job's work to fail it with a message and extra fields to store."""

    def __init__(self, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.fields = fields


class JobRetryLater(Exception):
    """Raised by a job's work to be tried again in ``delay`` seconds (e.g. a webhook got a 500).

    The row goes back to ``queued`` with the message as its ``error``, ``run_after`` set
    to the next try and the extra fields stored; the work decides when to stop (raise
    ``JobFailed`` instead), using ``Job.attempt``.
    """

    def __init__(self, message: str, *, delay: float, **fields: Any) -> None:
        super().__init__(message)
        self.delay = max(float(delay), 0.0)
        self.fields = fields


def job_model(model_or_row: Any) -> type[BackgroundJob]:
    """The concrete job model of a model class or row."""
    model = model_or_row if isinstance(model_or_row, type) else type(model_or_row)
    if model not in JOB_TASKS:
        raise TypeError(f"{model.__name__} is not a background job model")
    return model


def is_eager() -> bool:
    """True in the embedded mode: jobs run in process, no broker."""
    from config.celery import app

    return bool(app.conf.task_always_eager)


# ------------------------------------------------------------------------ publishing


def enqueue(model: type[BackgroundJob], pk: int) -> None:
    """Publish the job of row ``pk`` once the current transaction commits (at once outside one).

    Never raises: an unreachable broker leaves the row ``queued`` for the sweep.
    """
    transaction.on_commit(lambda: publish(model, pk), robust=True)


def publish(model: type[BackgroundJob], pk: int, *, countdown: float | None = None) -> bool:
    """Send the row's job to the broker now (eager: run it); False if the broker failed.

    Bounded: at most ``PUBLISH_RETRY_POLICY["max_retries"] + 1`` tries with
    ``PUBLISH_TIMEOUT`` each. On success the row's ``published_at`` is set.
    """
    from config.celery import app

    name = JOB_TASKS[job_model(model)]
    if is_eager():
        app.tasks[name].apply(args=(pk,))
        return True
    options = {"socket_timeout": PUBLISH_TIMEOUT, "socket_connect_timeout": PUBLISH_TIMEOUT}
    try:
        with app.connection_for_write(
            connect_timeout=PUBLISH_TIMEOUT, transport_options=options
        ) as conn:
            app.send_task(
                name,
                args=(pk,),
                countdown=countdown,
                connection=conn,
                retry=True,
                retry_policy=PUBLISH_RETRY_POLICY,
                ignore_result=True,
            )
    except Exception as exc:  # any broker trouble: the row stays queued, the sweep retries
        logger.warning("could not publish %s %s: %s: %s", name, pk, type(exc).__name__, exc)
        return False
    model._default_manager.filter(pk=pk, status=JobStatus.QUEUED).update(
        published_at=timezone.now()
    )
    return True


_eager_timers: set[threading.Timer] = set()
_eager_lock = threading.Lock()


def publish_later(model: type[BackgroundJob], pk: int, delay: float = 0.0) -> None:
    """Publish the row's job in ``delay`` seconds; never runs it in the calling thread.

    Services mode: a broker message with a countdown (False from the broker leaves the
    row to the sweep). Eager mode: a daemon timer thread runs the job in this process,
    so neither a request nor the caller waits on it (webhook deliveries). An eager
    timer dies with its process; the row stays ``queued`` with its ``run_after``.
    """
    if not is_eager():
        publish(model, pk, countdown=delay or None)
        return

    def run() -> None:
        from django.db import connection as thread_connection

        try:
            publish(model, pk)
        except Exception:  # the job stores its own failures; this is a bug or a lost row
            logger.exception("eager %s %s failed", model.__name__, pk)
        finally:
            thread_connection.close()
            with _eager_lock:
                _eager_timers.discard(timer)

    timer = threading.Timer(delay, run)
    timer.daemon = True
    with _eager_lock:
        _eager_timers.add(timer)
    timer.start()


def wait_for_eager_jobs(timeout: float = 30.0) -> bool:
    """Eager mode: wait until no ``publish_later`` timer is pending or running (tests)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with _eager_lock:
            pending = list(_eager_timers)
        if not pending:
            return True
        pending[0].join(timeout=max(deadline - time.monotonic(), 0.0))
    return False


def cancel_eager_jobs() -> None:
    """Eager mode: cancel the ``publish_later`` timers not yet started (tests)."""
    with _eager_lock:
        pending = list(_eager_timers)
    for timer in pending:
        timer.cancel()


# ---------------------------------------------------------------------------- running


@dataclass
class Job:
    """A claimed job row: its model, id, fencing ``attempt`` and progress reporting."""

    model: type[BackgroundJob]
    pk: int
    attempt: int
    row: Any
    inside_caller_transaction: bool = False
    _side: Any = None
    _last_progress: float = field(default=-1.0)
    _last_write: float = field(default=0.0)

    def progress(self, fraction: float, *, force: bool = False, **fields: Any) -> None:
        """Record progress in ``[0, 0.99]`` (and extra columns), at most every interval.

        Written outside the work's transaction so pollers see it move.
        """
        fraction = min(max(float(fraction), 0.0), 0.99)
        now = time.monotonic()
        if not force and (
            fraction - self._last_progress < 0.01 or now - self._last_write < PROGRESS_INTERVAL
        ):
            return
        self._last_progress, self._last_write = fraction, now
        values = {"progress": fraction, "heartbeat_at": timezone.now(), **fields}
        if connection.in_atomic_block and not self.inside_caller_transaction:
            if connection.vendor == "sqlite":
                return  # SQLite: no second writer beside the open transaction
            if self._side is None:
                self._side = _fresh_connection()
            _update_raw(self._side, self, values, status=JobStatus.RUNNING)
        else:
            self._fenced().filter(status=JobStatus.RUNNING).update(**values)

    def _fenced(self) -> Any:
        return self.model._default_manager.filter(pk=self.pk, attempts=self.attempt)

    def close(self) -> None:
        if self._side is not None:
            self._side.close()
            self._side = None


def claim(model: type[BackgroundJob], pk: int) -> Job | None:
    """Take row ``pk`` for this worker; None when it is done, failed, gone or alive elsewhere.

    A ``running`` row is taken over when its heartbeat stopped, or at once when the
    process that claimed it ran on this host and is gone (a killed pool child whose
    message came back through ``reject_on_worker_lost``).
    """
    now = timezone.now()
    with transaction.atomic():
        row = (
            model._default_manager.select_for_update()
            .filter(pk=pk, status__in=[JobStatus.QUEUED, JobStatus.RUNNING])
            .first()
        )
        if row is None or (row.status == JobStatus.RUNNING and _alive(row, now)):
            logger.info("%s %s is finished, gone or running elsewhere", model.__name__, pk)
            return None
        if row.status == JobStatus.RUNNING and row.attempts >= MAX_ATTEMPTS:
            # Its worker died MAX_ATTEMPTS times (killed, out of memory, time limit): a
            # job that kills its worker is failed, not retried for ever.
            model._default_manager.filter(pk=pk).update(
                status=JobStatus.FAILED, error=WORKER_LOST_ERROR, finished_at=now
            )
            return None
        attempt = row.attempts + 1
        model._default_manager.filter(pk=pk).update(
            status=JobStatus.RUNNING,
            attempts=attempt,
            progress=0.0,
            error="",
            started_at=now,
            heartbeat_at=now,
            claimed_by=f"{this_host_prefix()}{os.getpid()}",
        )
    row.status, row.attempts, row.started_at, row.heartbeat_at = (
        JobStatus.RUNNING,
        attempt,
        now,
        now,
    )
    return Job(model, pk, attempt, row, inside_caller_transaction=connection.in_atomic_block)


def _alive(row: Any, now: Any) -> bool:
    """Whether the worker running ``row`` may still be at it."""
    if row.heartbeat_at is None or row.heartbeat_at < now - timedelta(seconds=STALE_SECONDS):
        return False
    return not claimer_gone(row.claimed_by)


def claimer_gone(claimed_by: str) -> bool:
    """True when ``claimed_by`` ("host:pid") names a process of this host that no longer exists.

    False for another host, for this very process (e.g. a nested call) and for a process
    that exists (even one we may not signal): only the heartbeat can tell about those.
    """
    host, _, pid = claimed_by.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def this_host_prefix() -> str:
    """The ``claimed_by`` prefix of the jobs claimed on this host."""
    return f"{socket.gethostname()}:"


def finish(job: Job, **fields: Any) -> bool:
    """Store ``done`` with the result columns in one UPDATE; False if the row moved on."""
    return bool(
        job._fenced()
        .filter(status=JobStatus.RUNNING)
        .update(
            status=JobStatus.DONE,
            progress=1.0,
            error="",
            finished_at=timezone.now(),
            heartbeat_at=timezone.now(),
            **fields,
        )
    )


def fail(job: Job, error: str, **fields: Any) -> None:
    """Store ``failed`` with ``error`` on a fresh connection (the job's may be dead)."""
    values = {
        "status": JobStatus.FAILED,
        "error": error[:MAX_ERROR],
        "finished_at": timezone.now(),
        **fields,
    }
    if job.inside_caller_transaction:  # the caller's transaction owns the row (tests)
        job._fenced().update(**values)
        return
    side = _fresh_connection()
    try:
        _update_raw(side, job, values)
    finally:
        side.close()


def retry_later(job: Job, error: str, *, delay: float, **fields: Any) -> bool:
    """Store ``queued`` with ``error`` and the next try ``delay`` seconds on; False if moved on."""
    return bool(
        job._fenced()
        .filter(status=JobStatus.RUNNING)
        .update(
            status=JobStatus.QUEUED,
            error=error[:MAX_ERROR],
            run_after=timezone.now() + timedelta(seconds=delay),
            published_at=None,
            **fields,
        )
    )


def _requeue(job: Job, error: str) -> None:
    """Give the row back (``queued``) for another in-process attempt, on a fresh connection."""
    side = _fresh_connection()
    try:
        _update_raw(side, job, {"status": JobStatus.QUEUED, "error": error[:MAX_ERROR]})
    finally:
        side.close()


def describe(exc: BaseException) -> str:
    """An error as stored on a failed job: its type and message."""
    return f"{type(exc).__name__}: {exc}"


def run_job(
    model: type[BackgroundJob],
    pk: int,
    work: Callable[[Job], Mapping[str, Any] | None],
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> str | None:
    """Claim row ``pk``, run ``work(job)`` with a heartbeat and store the outcome.

    ``work`` returns the columns to store with ``done`` (or None); it raises ``JobFailed``
    to fail with a message and columns, ``JobRetryLater`` to be queued for a later try,
    any other exception to fail with its text, and a transient database or broker error
    to be retried after ``RETRY_BACKOFF``. Returns
    the final status, or None when the row was not claimed. Call outside a transaction.
    """
    for retry in range(len(RETRY_BACKOFF) + 1):
        job = claim(model, pk)
        if job is None:
            return None
        try:
            with _heartbeat(job):
                fields = dict(work(job) or {})
            return JobStatus.DONE if finish(job, **fields) else None
        except JobFailed as exc:
            fail(job, str(exc), **exc.fields)
            return JobStatus.FAILED
        except JobRetryLater as exc:
            if retry_later(job, str(exc), delay=exc.delay, **exc.fields):
                publish_later(model, pk, exc.delay)
            return JobStatus.QUEUED
        except TRANSIENT_ERRORS as exc:
            if job.inside_caller_transaction or retry == len(RETRY_BACKOFF):
                logger.exception("%s %s failed after %d tries", model.__name__, pk, retry + 1)
                _fail_quietly(job, f"{describe(exc)} (a transient error; retried {retry} times)")
                _reset_connection()  # leave the caller a working connection
                return JobStatus.FAILED
            logger.warning("%s %s: %s; retrying", model.__name__, pk, describe(exc))
            _requeue_quietly(job, f"retrying after {describe(exc)}")
            _reset_connection()
            sleep(RETRY_BACKOFF[retry])
        except Exception as exc:
            logger.exception("%s %s failed", model.__name__, pk)
            _fail_quietly(job, describe(exc))
            return JobStatus.FAILED
        finally:
            job.close()
    return None  # pragma: no cover - the loop returns


def _fail_quietly(job: Job, error: str) -> None:
    try:
        fail(job, error)
    except TRANSIENT_ERRORS:  # the database is down: the sweep fails it once it is back
        logger.exception("could not store the failure of %s %s", job.model.__name__, job.pk)


def _requeue_quietly(job: Job, error: str) -> None:
    try:
        _requeue(job, error)
    except TRANSIENT_ERRORS:  # still running with a stopped heartbeat: claimable later
        logger.exception("could not requeue %s %s", job.model.__name__, job.pk)


def _reset_connection() -> None:
    """Drop this thread's connection so the next attempt opens a new one."""
    if not connection.in_atomic_block:
        with suppress(*TRANSIENT_ERRORS):
            connection.close()


# ------------------------------------------------------------------------ connections


def _fresh_connection() -> Any:
    """A new autocommit connection to the default database, outside Django's handler."""
    settings_dict = dict(connection.settings_dict)
    backend = load_backend(settings_dict["ENGINE"])
    return backend.DatabaseWrapper(settings_dict, DEFAULT_DB_ALIAS)


def _update_raw(conn: Any, job: Job, values: Mapping[str, Any], status: str | None = None) -> int:
    """UPDATE the fenced row through ``conn`` (a connection Django's handler does not know)."""
    meta = job.model._meta
    quote = conn.ops.quote_name
    assignments, params = [], []
    for name, value in values.items():
        model_field = column_field(job.model, name)
        assignments.append(f"{quote(model_field.column)} = %s")
        params.append(model_field.get_db_prep_save(value, connection=conn))
    where = f"{quote(meta.pk.column)} = %s AND {quote('attempts')} = %s"
    params += [job.pk, job.attempt]
    if status is not None:
        where += f" AND {quote('status')} = %s"
        params.append(status)
    sql = f"UPDATE {quote(meta.db_table)} SET {', '.join(assignments)} WHERE {where}"  # noqa: S608
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


@contextmanager
def _heartbeat(job: Job) -> Iterator[None]:
    """Refresh ``heartbeat_at`` from a thread while the block runs (not on SQLite)."""
    if connection.vendor == "sqlite" or job.inside_caller_transaction:
        yield
        return
    stop = threading.Event()

    def beat() -> None:
        from django.db import connection as thread_connection

        try:
            while not stop.wait(HEARTBEAT_SECONDS):
                try:
                    job._fenced().filter(status=JobStatus.RUNNING).update(
                        heartbeat_at=timezone.now()
                    )
                except TRANSIENT_ERRORS:
                    logger.warning("heartbeat of %s %s failed", job.model.__name__, job.pk)
                    thread_connection.close()
        finally:
            thread_connection.close()

    thread = threading.Thread(target=beat, name=f"heartbeat-{job.pk}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=HEARTBEAT_SECONDS)
