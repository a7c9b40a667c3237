"""A real ``celery worker`` process computes an agreement run requested through the API."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from config.celery import app as celery_app
from labeling.agreement_runs.runs import compute_run_result
from tests.factories import add_documents, make_project
from tests.test_agreement_runs import annotate, label_tasks, sentences_text

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parent.parent
DRAWS = 200


def _database_url() -> str:
    """The URL of the database this test runs on (the pytest test database)."""
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def worker(tmp_path):
    """A celery worker subprocess on the test database and the configured broker."""
    celery_app.control.purge()  # stale messages of earlier runs must not reach this worker
    name = f"agreement-test-{uuid.uuid4().hex[:8]}@%h"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "LABELING_BOOTSTRAP_DRAWS": str(DRAWS),
        "CONN_MAX_AGE": "0",  # the test database is dropped at the end: hold no connection
    }
    log = tmp_path / "worker.log"
    celery = Path(sys.executable).parent / "celery"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(celery), "-A", "config", "worker", "--pool", "solo", "-Q", "celery"]
            + ["-n", name, "--loglevel", "INFO", "--without-gossip", "--without-mingle"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while b"ready." not in log.read_bytes():
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"celery worker did not start:\n{log.read_text()}")
            time.sleep(0.2)
        yield proc, log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_worker_computes_a_run_requested_through_the_api(make_user, worker):
    proc, log = worker
    lead = make_user("lead")
    annotators = [make_user(f"ann{i}") for i in range(4)]
    project = make_project(lead=lead, annotators=annotators, overlap=4)
    add_documents(project, [sentences_text(40)])
    labels = ["verifiable", "unverifiable", "not_a_claim"]
    table = [
        [labels[(i * (j + 1)) % 3] if (i + j) % 5 else None for j in range(4)] for i in range(40)
    ]
    annotate(label_tasks(project), annotators, table)
    client = APIClient()
    client.force_authenticate(lead)

    response = client.post(f"/api/projects/{project.pk}/agreement-runs/", {"kind": "verifiability"})
    assert response.status_code == 202, response.content
    run_id = response.json()["id"]
    seen: list[tuple[str, float]] = []
    deadline = time.monotonic() + 120
    while True:
        body = client.get(f"/api/agreement-runs/{run_id}/").json()
        seen.append((body["status"], body["progress"]))
        if body["status"] in {"done", "failed"}:
            break
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"run stuck in {body['status']}; worker log:\n{log.read_text()}")
        time.sleep(0.1)

    assert body["status"] == "done", body["error"]
    assert body["progress"] == 1.0
    # The worker, not this process, computed it (whether the first poll still saw it
    # queued is a race with a fast worker, so the worker's own log is the evidence).
    assert not celery_app.conf.task_always_eager
    direct, _ = compute_run_result(
        project_id=project.pk, kind="verifiability", bootstrap_draws=DRAWS
    )
    assert body["result"] == direct
    assert body["result"]["n_annotations"] == sum(v is not None for row in table for v in row)
    worker_log = log.read_text()
    assert "labeling.agreement_run_job" in worker_log
    assert "succeeded" in worker_log
