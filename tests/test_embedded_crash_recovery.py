"""Embedded mode (eager, no beat): a job whose process crashed mid-job does not stay running.

A real process claims the job and is killed with SIGKILL in the middle of its work; the
lead's next look at the jobs takes the claim over (its pid is gone on this host) and runs
the job again in process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from labeling.jobs import lifecycle
from labeling.models import AgreementRun, Export, GoldJob, ImportJob
from tests.api_helpers import client_for, make_world

pytestmark = pytest.mark.django_db(transaction=True)

_WORKER = textwrap.dedent(
    """
    import sys, time
    import django
    django.setup()
    from labeling.jobs.lifecycle import run_job
    from labeling.models import AgreementRun

    def work(job):
        open(sys.argv[2], "w").write("claimed")
        time.sleep(600)  # killed long before

    run_job(AgreementRun, int(sys.argv[1]), work)
    """
)


def _database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _start_worker(run_id: int, marker: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": _database_url(),
        "PYTHONPATH": str(settings.BASE_DIR),
    }
    env.pop("CELERY_BROKER_URL", None)  # embedded: eager, no broker
    return subprocess.Popen(
        [sys.executable, "-c", _WORKER, str(run_id), str(marker)],
        env=env,
        cwd=settings.BASE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _wait_for(marker: Path, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 90
    while not marker.exists():
        if process.poll() is not None:
            raise AssertionError(f"worker exited early: {process.stderr.read().decode()[-2000:]}")
        assert time.monotonic() < deadline, "the worker never claimed the job"
        time.sleep(0.1)


def test_a_job_killed_mid_run_is_run_again_when_the_lead_looks(make_user, tmp_path):
    world = make_world(make_user)
    run = AgreementRun.objects.create(project=world.project, kind="verifiability")
    marker = tmp_path / "claimed"
    worker = _start_worker(run.pk, marker)
    try:
        _wait_for(marker, worker)
        run.refresh_from_db()
        assert (run.status, run.attempts) == ("running", 1)
        assert run.claimed_by == f"{lifecycle.this_host_prefix()}{worker.pid}"

        lead = client_for(world.lead)
        url = f"/api/projects/{world.project.pk}/agreement-runs/"
        listed = lead.get(url).json()["results"]
        assert [(r["id"], r["status"]) for r in listed] == [(run.pk, "running")]  # alive: kept
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)

    listed = lead.get(url).json()["results"]
    assert [(r["id"], r["status"]) for r in listed] == [(run.pk, "done")]
    run.refresh_from_db()
    assert run.attempts == 2  # the dead claim, then this process's
    assert run.claimed_by == f"{lifecycle.this_host_prefix()}{os.getpid()}"
    assert "alpha" in (run.result or {})


@pytest.mark.parametrize(
    ("model", "url"),
    [
        (AgreementRun, "/api/agreement-runs/{}/"),
        (Export, "/api/exports/{}/"),
        (ImportJob, "/api/import-jobs/{}/"),
        (GoldJob, "/api/gold-jobs/{}/"),
    ],
)
def test_opening_a_job_whose_process_died_too_often_fails_it(make_user, model, url):
    world = make_world(make_user)
    dead_pid = (
        subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpid())"], check=True, capture_output=True
        )
        .stdout.decode()
        .strip()
    )
    fields = {
        AgreementRun: {"kind": "verifiability"},
        Export: {"format": "jsonl"},
        ImportJob: {"format": "txt"},
        GoldJob: {"operation": "aggregate", "kind": "verifiability"},
    }[model]
    row = model.objects.create(
        project=world.project,
        status="running",
        attempts=lifecycle.MAX_ATTEMPTS,
        claimed_by=f"{lifecycle.this_host_prefix()}{dead_pid}",
        **fields,
    )
    body = client_for(world.lead).get(url.format(row.pk)).json()
    assert body["status"] == "failed"
    row.refresh_from_db()
    assert (row.status, row.error) == ("failed", lifecycle.WORKER_LOST_ERROR)


def test_a_running_job_of_another_host_or_a_live_process_is_left_alone(make_user):
    world = make_world(make_user)
    elsewhere = AgreementRun.objects.create(
        project=world.project,
        kind="verifiability",
        status="running",
        attempts=1,
        claimed_by="another-host:1",
    )
    here = AgreementRun.objects.create(
        project=world.project,
        kind="verifiability",
        status="running",
        attempts=1,
        claimed_by=f"{lifecycle.this_host_prefix()}{os.getppid()}",  # alive: our parent
    )
    lead = client_for(world.lead)
    for row in (elsewhere, here):
        assert lead.get(f"/api/agreement-runs/{row.pk}/").json()["status"] == "running"
    lead.get(f"/api/projects/{world.project.pk}/agreement-runs/")
    assert set(AgreementRun.objects.values_list("status", flat=True)) == {"running"}
