"""Drill: terminate every database session (pg_terminate_backend) while requests and a job run.

    .venv/bin/python bench/drills/db_kill.py [--kills 3] [--interval 5]

gunicorn (sync workers, persistent connections) serves annotators and a polling lead;
a celery worker computes an agreement run. ``--kills`` times, every ``--interval``
seconds, all other sessions on the drill's database are terminated, the worker's and
gunicorn's alike. Asserts: no request answers 500 (a request that meets the dead
connection may answer 503 with Retry-After), the first request after the last kill
succeeds at once, and the run ends ``done`` (its lifecycle retries) within 120 s of the
last kill. Prints the 503/5xx counts, the slowest request and the recovery times.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.drills._stack import AnnotatorLoop, Api, build_world, free_port, stack, summary  # noqa: E402

GOAL_SECONDS = 120.0


def terminate_sessions() -> int:
    """Terminate every other session on this database; return how many."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return int(cursor.fetchone()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--tasks", type=int, default=20000)
    parser.add_argument("--draws", type=int, default=4000)
    args = parser.parse_args()
    with stack("db_kill_jobs", env={"LABELING_BOOTSTRAP_DRAWS": str(args.draws)}) as s:
        from labeling.models import AgreementRun

        world = build_world(n_tasks=args.tasks)
        port = free_port()
        s.start_web(port)
        s.start_worker()
        s.start_beat()
        calls: list = []
        lead = Api(port, world.lead_token, calls)
        loops = [
            AnnotatorLoop(Api(port, t, calls), world.project_id) for t in world.annotator_tokens
        ]
        for loop in loops:
            loop.start()
        time.sleep(3)
        status, run = lead.request(
            "POST", f"/api/projects/{world.project_id}/agreement-runs/", {"kind": "verifiability"}
        )
        assert status == 202, (status, run)
        deadline = time.monotonic() + 120
        while AgreementRun.objects.get(pk=run["id"]).status != "running":
            assert time.monotonic() < deadline, "the run never started"
            time.sleep(0.2)
        killed = []
        for i in range(args.kills):
            if i:
                time.sleep(args.interval)
            killed.append(terminate_sessions())
            last_kill = time.monotonic()
        after = len(calls)
        first_ok = None
        while time.monotonic() - last_kill < 30:
            status, _ = lead.request(
                "GET", f"/api/projects/{world.project_id}/progress/", what="lead"
            )
            if status == 200:
                first_ok = time.monotonic() - last_kill
                break
            time.sleep(0.05)
        final = None
        while time.monotonic() - last_kill < GOAL_SECONDS + 60:
            status, body = lead.request("GET", f"/api/agreement-runs/{run['id']}/", what="poll")
            if status == 200 and body["status"] in ("done", "failed"):
                final = body
                break
            time.sleep(0.5)
        run_recovery = time.monotonic() - last_kill
        for loop in loops:
            loop.stop()
        row = AgreementRun.objects.get(pk=run["id"])
        n503 = sum(c.status == 503 for c in calls)
        n500 = sum(c.status >= 500 and c.status != 503 for c in calls)
        print(
            f"database kill x{args.kills} (sessions terminated: {killed}): {summary(calls)}; "
            f"503={n503} other 5xx={n500}; after the last kill the next lead request answered "
            f"after {first_ok if first_ok is None else round(first_ok, 2)}s and "
            f"{sum(c.status >= 500 for c in calls[after:])} 5xx followed; run {row.status} "
            f"(attempts {row.attempts}) {run_recovery:.1f}s after the last kill; "
            f"load {os.getloadavg()[0]:.2f}"
        )
        assert n500 == 0, "a request answered 500"
        assert first_ok is not None, "no request succeeded after the last kill"
        assert final is not None, "the run did not end"
        assert final["status"] == "done", final
        assert run_recovery < GOAL_SECONDS, f"the run took {run_recovery:.1f}s to end"


if __name__ == "__main__":
    main()
