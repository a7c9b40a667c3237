"""The one job lifecycle: claim, fencing, progress, retries, failure, sweep, publishing."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager

import pytest
from django.db import OperationalError, connection, transaction

from labeling.importing.job import run_import, start_import
from labeling.jobs import lifecycle
from labeling.jobs.lifecycle import JobFailed, claim, finish, publish, run_job
from labeling.jobs.sweeps import sweep_jobs
from labeling.models import AgreementRun, Document, ImportJob
from tests.factories import make_project

pytestmark = pytest.mark.django_db(transaction=True)


def _run(**fields) -> AgreementRun:
    return AgreementRun.objects.create(project=make_project(), kind="verifiability", **fields)


def test_done_with_the_columns_the_work_returns():
    run = _run()
    assert run_job(AgreementRun, run.pk, lambda job: {"result": {"alpha": 1.0}}) == "done"
    run.refresh_from_db()
    assert (run.status, run.progress, run.result, run.attempts) == ("done", 1.0, {"alpha": 1.0}, 1)
    assert run.started_at <= run.finished_at
    assert run_job(AgreementRun, run.pk, lambda job: {}) is None  # done: not claimed again


def test_job_failed_stores_its_message_and_columns():
    with _unpublished():
        job = start_import(project=make_project(), data=b"x", filename="a.txt")

    def work(job):
        raise JobFailed("2 errors in the file", errors=[{"line": 1}])

    assert run_job(ImportJob, job.pk, work) == "failed"
    job.refresh_from_db()
    assert (job.status, job.error, job.errors) == ("failed", "2 errors in the file", [{"line": 1}])


def test_transient_database_errors_are_retried_with_backoff_then_done():
    run = _run()
    calls: list[int] = []
    slept: list[float] = []

    def flaky(job):
        calls.append(job.attempt)
        if len(calls) < 3:
            raise OperationalError("server closed the connection unexpectedly")
        return {"result": {}}

    assert run_job(AgreementRun, run.pk, flaky, sleep=slept.append) == "done"
    assert calls == [1, 2, 3]
    assert slept == list(lifecycle.RETRY_BACKOFF[:2])
    run.refresh_from_db()
    assert (run.status, run.attempts, run.error) == ("done", 3, "")


def test_transient_errors_past_the_bound_fail_the_job_with_the_error():
    run = _run()

    def down(job):
        raise OperationalError("could not connect to server")

    slept: list[float] = []
    assert run_job(AgreementRun, run.pk, down, sleep=slept.append) == "failed"
    assert slept == list(lifecycle.RETRY_BACKOFF)
    run.refresh_from_db()
    assert run.status == "failed"
    assert "could not connect to server" in run.error
    assert "retried 3 times" in run.error


def test_any_other_error_fails_at_once():
    run = _run()

    def boom(job):
        raise ValueError("bad numbers")

    assert run_job(AgreementRun, run.pk, boom) == "failed"
    run.refresh_from_db()
    assert (run.status, run.error, run.attempts) == ("failed", "ValueError: bad numbers", 1)


def test_a_live_running_job_is_not_claimed_twice_and_a_stale_one_is_fenced():
    run = _run()
    first = claim(AgreementRun, run.pk)
    assert first is not None
    assert claim(AgreementRun, run.pk) is None  # heartbeat fresh: someone is on it
    AgreementRun.objects.filter(pk=run.pk).update(heartbeat_at="2000-01-01T00:00:00Z")
    second = claim(AgreementRun, run.pk)  # its worker is presumed dead
    assert (second.attempt, first.attempt) == (2, 1)
    assert not finish(first, result={"from": "the dead worker"})  # fenced out
    assert finish(second, result={"from": "the successor"})
    run.refresh_from_db()
    assert run.result == {"from": "the successor"}


def test_a_row_claimed_by_a_dead_process_on_this_host_is_taken_over_at_once():
    """A killed pool child: its message comes back at once, and so may the job."""
    import subprocess
    import sys

    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True
    )
    run = _run()
    assert claim(AgreementRun, run.pk) is not None
    AgreementRun.objects.filter(pk=run.pk).update(
        claimed_by=f"{socket.gethostname()}:{int(dead.stdout)}"
    )
    again = claim(AgreementRun, run.pk)  # heartbeat fresh, but its process is gone
    assert again is not None
    assert again.attempt == 2
    AgreementRun.objects.filter(pk=run.pk).update(claimed_by="another-host:1")
    assert claim(AgreementRun, run.pk) is None  # elsewhere: trust the heartbeat


def test_a_job_whose_worker_died_max_attempts_times_is_failed_not_claimed():
    """A job that kills its worker (memory, time limit) must not loop for ever."""
    old = "2000-01-01T00:00:00Z"
    run = _run(status="running", heartbeat_at=old, attempts=lifecycle.MAX_ATTEMPTS)
    assert claim(AgreementRun, run.pk) is None
    run.refresh_from_db()
    assert run.status == "failed"
    assert "stopped 3 times" in run.error
    retried = _run(status="running", heartbeat_at=old, attempts=lifecycle.MAX_ATTEMPTS - 1)
    assert claim(AgreementRun, retried.pk).attempt == lifecycle.MAX_ATTEMPTS


def test_sweep_requeues_a_dead_workers_job_and_fails_it_after_max_attempts(monkeypatch):
    published: list[int] = []
    monkeypatch.setattr("labeling.jobs.sweeps.publish", lambda model, pk: published.append(pk))
    old = "2000-01-01T00:00:00Z"
    dead = _run(status="running", heartbeat_at=old, attempts=1)
    hopeless = _run(status="running", heartbeat_at=old, attempts=lifecycle.MAX_ATTEMPTS)
    alive = _run(status="running", attempts=1)
    claim(AgreementRun, alive.pk)  # fresh heartbeat
    counts = sweep_jobs()
    assert (counts["requeued"], counts["failed"]) == (1, 1)
    dead.refresh_from_db()
    hopeless.refresh_from_db()
    assert dead.status == "queued"
    assert "no heartbeat" in dead.error
    assert published == [dead.pk]
    assert hopeless.status == "failed"
    assert "stopped 3 times" in hopeless.error
    assert AgreementRun.objects.get(pk=alive.pk).status == "running"


@pytest.mark.services  # PostgreSQL: no heartbeat thread on SQLite (one writer at a time)
def test_the_heartbeat_moves_while_the_work_runs(monkeypatch):
    monkeypatch.setattr(lifecycle, "HEARTBEAT_SECONDS", 0.05)
    run = _run()
    beats: list[object] = []

    def slow(job):
        time.sleep(0.4)
        beats.append(AgreementRun.objects.get(pk=run.pk).heartbeat_at)
        return {}

    run_job(AgreementRun, run.pk, slow)
    run.refresh_from_db()
    assert beats[0] > run.started_at


@pytest.mark.services
def test_import_progress_is_visible_to_other_connections_while_it_runs(monkeypatch):
    """PostgreSQL: the import's transaction is open, yet a poller sees its progress move."""
    monkeypatch.setattr(lifecycle, "PROGRESS_INTERVAL", 0.0)
    project = make_project()
    data = "".join(f'{{"title": "D{i}", "text": "Sentence {i}."}}\n' for i in range(600))
    with _unpublished():
        job = start_import(project=project, data=data.encode(), filename="n.jsonl")
    seen: list[float] = []
    original = lifecycle.Job.progress

    def observed(self, fraction, **kwargs):
        original(self, fraction, **kwargs)
        poller = lifecycle._fresh_connection()  # another session, as a polling client
        try:
            with poller.cursor() as cur:
                cur.execute("SELECT progress FROM labeling_importjob WHERE id = %s", [job.pk])
                seen.append(cur.fetchone()[0])
                cur.execute(
                    "SELECT count(*) FROM labeling_document WHERE project_id = %s", [project.pk]
                )
                assert cur.fetchone()[0] == 0  # the import itself is not committed yet
        finally:
            poller.close()

    monkeypatch.setattr(lifecycle.Job, "progress", observed)
    run_import(job.pk)
    job.refresh_from_db()
    assert job.status == "done"
    assert seen == sorted(seen)
    assert 0 < seen[0] < seen[-1] <= 0.99
    assert Document.objects.filter(project=project).count() == 600


@pytest.mark.services
def test_a_killed_database_connection_is_retried_and_the_failure_stored_fresh(monkeypatch):
    """PostgreSQL: the job's own backend is terminated mid-work; nothing stays ``running``."""
    run = _run()

    def kill_own_backend(job):
        pid = connection.cursor().connection.info.backend_pid
        killer = lifecycle._fresh_connection()
        try:
            with killer.cursor() as cur:
                cur.execute("SELECT pg_terminate_backend(%s)", [pid])
        finally:
            killer.close()
        with connection.cursor() as cur:
            cur.execute("SELECT 1")  # on the dead connection
        return {}

    assert run_job(AgreementRun, run.pk, kill_own_backend, sleep=lambda s: None) == "failed"
    run.refresh_from_db()
    assert run.status == "failed"
    assert run.attempts == len(lifecycle.RETRY_BACKOFF) + 1
    assert "transient" in run.error


def test_an_import_interrupted_by_a_lost_connection_leaves_nothing_and_is_retried(monkeypatch):
    project = make_project()
    with _unpublished():
        job = start_import(project=project, data=b"One. Two.\n\nThree.", filename="a.txt")
    real = lifecycle.run_job
    calls = {"n": 0}
    from labeling.importing import job as import_jobs

    original_import = import_jobs.import_documents

    def lose_the_connection_once(**kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            with transaction.atomic():
                original_import(**kwargs)  # writes, then the connection "dies" before commit
                raise OperationalError("server closed the connection unexpectedly")
        return original_import(**kwargs)

    monkeypatch.setattr(import_jobs, "import_documents", lose_the_connection_once)
    monkeypatch.setattr(import_jobs, "run_job", lambda *a, **k: real(*a, **k, sleep=lambda s: None))
    run_import(job.pk)
    job.refresh_from_db()
    assert (job.status, job.attempts, job.n_created) == ("done", 2, 1)
    assert Document.objects.filter(project=project).count() == 1


# ------------------------------------------------------------------ publishing


@contextmanager
def _unpublished():
    """Create job rows without publishing them (the test runs the job itself)."""
    original = lifecycle.publish
    lifecycle.publish = lambda *args, **kwargs: True
    try:
        yield
    finally:
        lifecycle.publish = original


@pytest.fixture
def broker_at(monkeypatch):
    """Point publishing at a broker URL, as in services mode."""
    from config.celery import app

    def use(url: str) -> None:
        monkeypatch.setattr(lifecycle, "is_eager", lambda: False)
        monkeypatch.setitem(app.conf, "broker_url", url)
        monkeypatch.setitem(app.conf, "broker_write_url", url)

    return use


@pytest.fixture
def black_hole():
    """A TCP listener on 127.0.0.1 that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    server.close()


def _refused_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    return port


@pytest.mark.parametrize("broker", ["black-holed", "refused"])
def test_publishing_to_a_dead_broker_gives_up_fast_and_leaves_the_row_queued(
    broker, broker_at, black_hole
):
    port = black_hole if broker == "black-holed" else _refused_port()
    broker_at(f"redis://127.0.0.1:{port}/3")
    run = _run()
    started = time.monotonic()
    assert publish(AgreementRun, run.pk) is False
    elapsed = time.monotonic() - started
    assert elapsed < 2.0, f"publishing to a {broker} broker took {elapsed:.2f}s"
    run.refresh_from_db()
    assert (run.status, run.published_at) == ("queued", None)
