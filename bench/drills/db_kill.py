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

from bench.drills._stack import run_drill, summary  # noqa: E402

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
    with run_drill("db_kill_jobs", n_tasks=args.tasks, draws=args.draws) as drill:
        from labeling.models import AgreementRun

        calls, lead, project_id = drill.calls, drill.lead, drill.world.project_id
        time.sleep(3)
        run_id = drill.request_run()
        drill.wait_until(run_id, lambda run: run.status == "running")
        killed = []
        for i in range(args.kills):
            if i:
                time.sleep(args.interval)
            killed.append(terminate_sessions())
            last_kill = time.monotonic()
        after = len(calls)
        first_ok = None
        while time.monotonic() - last_kill < 30:
            status, _ = lead.request("GET", f"/api/projects/{project_id}/progress/", what="lead")
            if status == 200:
                first_ok = time.monotonic() - last_kill
                break
            time.sleep(0.05)
        final, run_recovery = drill.wait_for_end(run_id, last_kill, GOAL_SECONDS + 60)
        drill.stop_annotators()
        row = AgreementRun.objects.get(pk=run_id)
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
