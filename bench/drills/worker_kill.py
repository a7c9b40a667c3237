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

from bench.drills._stack import AnnotatorLoop, Api, build_world, free_port, stack, summary  # noqa: E402

GOAL_SECONDS = 120.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", choices=["group", "child"], default="group")
    parser.add_argument("--tasks", type=int, default=20000)
    parser.add_argument("--draws", type=int, default=4000, help="bootstrap draws (run length)")
    args = parser.parse_args()
    env = {"LABELING_BOOTSTRAP_DRAWS": str(args.draws)}
    with stack(f"worker_kill_{args.target}_jobs", env=env) as s:
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
        status, run = lead.request(
            "POST", f"/api/projects/{world.project_id}/agreement-runs/", {"kind": "verifiability"}
        )
        assert status == 202, (status, run)
        deadline = time.monotonic() + 120
        while AgreementRun.objects.get(pk=run["id"]).progress < 0.05:
            assert time.monotonic() < deadline, "the run never started"
            time.sleep(0.2)
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
            f"{AgreementRun.objects.get(pk=run['id']).progress:.2f}"
        )
        final = None
        while time.monotonic() - killed < GOAL_SECONDS + 60:
            status, body = lead.request("GET", f"/api/agreement-runs/{run['id']}/", what="poll")
            if status == 200 and body["status"] in ("done", "failed"):
                final = body
                break
            time.sleep(0.5)
        recovery = time.monotonic() - killed
        for loop in loops:
            loop.stop()
        row = AgreementRun.objects.get(pk=run["id"])
        print(
            f"worker kill ({args.target}): run {row.status} after {row.attempts} attempts, "
            f"recovery {recovery:.1f}s after the kill; {summary(calls)}; "
            f"submitted {sum(loop.submitted for loop in loops)}; load {os.getloadavg()[0]:.2f}"
        )
        assert final is not None, "the run did not end"
        assert final["status"] == "done", final
        assert recovery < GOAL_SECONDS, f"recovery took {recovery:.1f}s"
        assert not [c for c in calls if c.status >= 500], "a request answered 5xx"


if __name__ == "__main__":
    main()
