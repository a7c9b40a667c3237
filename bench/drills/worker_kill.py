"""Drill: kill -9 the celery worker during an agreement run; the run must still end, done.

    .venv/bin/python bench/drills/worker_kill.py --target group|child [--tasks 20000]

``group``: SIGKILL the worker's whole process group, then start a replacement worker
(the message stays unacknowledged in Redis until the visibility timeout; the beat
sweep sees the stopped heartbeat, queues the run again and publishes it). ``child``:
SIGKILL only the pool child; the worker's main process starts a new one. Annotators
keep submitting through gunicorn meanwhile. Asserts the run is ``done`` within 120 s of
the kill and no request answered 5xx; prints the recovery time, 5xx count and slowest
request.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.drills._stack import run_drill, summary  # noqa: E402

GOAL_SECONDS = 120.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", choices=["group", "child"], default="group")
    parser.add_argument("--tasks", type=int, default=20000)
    parser.add_argument("--draws", type=int, default=4000, help="bootstrap draws (run length)")
    args = parser.parse_args()
    name = f"worker_kill_{args.target}_jobs"
    with run_drill(name, n_tasks=args.tasks, draws=args.draws) as drill:
        from labeling.models import AgreementRun

        s, calls = drill.stack, drill.calls
        run_id = drill.request_run()
        drill.wait_until(run_id, lambda run: run.progress >= 0.05)
        if args.target == "group":
            s.kill_group("worker")
            killed = time.monotonic()
            s.start_worker("worker2")
        else:
            child = s.children("worker")
            assert child, "no pool child found"
            os.kill(child[0], signal.SIGKILL)
            killed = time.monotonic()
        print(
            f"killed the worker's {args.target} at progress "
            f"{AgreementRun.objects.get(pk=run_id).progress:.2f}"
        )
        final, recovery = drill.wait_for_end(run_id, killed, GOAL_SECONDS + 60)
        submitted = drill.stop_annotators()
        row = AgreementRun.objects.get(pk=run_id)
        print(
            f"worker kill ({args.target}): run {row.status} after {row.attempts} attempts, "
            f"recovery {recovery:.1f}s after the kill; {summary(calls)}; "
            f"submitted {submitted}; load {os.getloadavg()[0]:.2f}"
        )
        assert final is not None, "the run did not end"
        assert final["status"] == "done", final
        assert recovery < GOAL_SECONDS, f"recovery took {recovery:.1f}s"
        assert not [c for c in calls if c.status >= 500], "a request answered 5xx"


if __name__ == "__main__":
    main()
