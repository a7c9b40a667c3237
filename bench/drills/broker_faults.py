"""Drill: the broker refuses connections, or accepts them and never answers (black hole).

    .venv/bin/python bench/drills/broker_faults.py --fault refused|blackhole

gunicorn reaches Redis through a local TCP relay that this script controls; the worker
and beat reach Redis directly. Phases:

1. healthy: annotators submit; the median submit is the reference;
2. fault (relay refusing, or accepting and never answering; beat stopped, as it would
   be cut off too): annotators submit, the lead starts an agreement run, an export, a
   gold aggregation and an annotator-accuracy estimate;
3. recovery (relay forwarding again, beat started): the jobs queued in phase 2 must be
   published by the sweep and end ``done``.

Asserts: no 5xx, no request over 2 s in phase 2, the lead's requests answer 202 with
their job ``queued``, the fault's median submit within 50% (+5 ms) of the reference,
and every job done within 120 s of recovery. Prints the figures.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import contextlib

from bench.drills._stack import (  # noqa: E402
    AnnotatorLoop,
    Api,
    build_world,
    free_port,
    stack,
    summary,
    wait_for,
)


class Relay(threading.Thread):
    """A TCP relay to Redis: ``forward``, ``blackhole`` (accept, never answer) or ``refused``."""

    def __init__(self, port: int, target: tuple[str, int] = ("127.0.0.1", 6379)) -> None:
        super().__init__(daemon=True)
        self.port, self.target = port, target
        self.mode = "forward"
        self.server: socket.socket | None = None
        self.held: list[socket.socket] = []
        self._listen()

    def _listen(self) -> None:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(64)
        server.settimeout(0.2)
        self.server = server

    def set_mode(self, mode: str) -> None:
        """Switch mode; ``refused`` closes the listening socket, others reopen it."""
        for conn in self.held:
            conn.close()  # drop every open connection: clients must reconnect
        self.held.clear()
        if mode == "refused" and self.server is not None:
            self.server.close()
            self.server = None
        elif mode != "refused" and self.server is None:
            self._listen()
        self.mode = mode

    def run(self) -> None:
        while True:
            server = self.server
            if server is None:
                time.sleep(0.05)
                continue
            try:
                client, _ = server.accept()
            except OSError:
                continue
            self.held.append(client)
            if self.mode == "forward":
                upstream = socket.create_connection(self.target)
                self.held.append(upstream)
                for a, b in ((client, upstream), (upstream, client)):
                    threading.Thread(target=_pipe, args=(a, b), daemon=True).start()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for s in (source, sink):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fault", choices=["refused", "blackhole"], default="blackhole")
    parser.add_argument("--tasks", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each phase")
    args = parser.parse_args()
    relay = Relay(free_port())
    relay.start()
    web_env = {"CELERY_BROKER_URL": f"redis://127.0.0.1:{relay.port}/3"}
    with stack(f"broker_{args.fault}_jobs", env={"LABELING_BOOTSTRAP_DRAWS": "200"}) as s:
        from labeling.models import AgreementRun, Export, GoldJob

        world = build_world(n_tasks=args.tasks)
        port = free_port()
        s.start_web(port, env=web_env)
        s.start_worker()
        calls: list = []
        lead = Api(port, world.lead_token, calls)
        loops = [
            AnnotatorLoop(Api(port, t, calls), world.project_id) for t in world.annotator_tokens
        ]
        for loop in loops:
            loop.start()
        start = len(calls)
        time.sleep(args.seconds)
        healthy = [c.seconds for c in calls[start:] if c.what == "submit"]

        relay.set_mode(args.fault)
        fault_start = len(calls)
        p = world.project_id
        lead_calls = [
            ("POST", f"/api/projects/{p}/agreement-runs/", {"kind": "verifiability"}),
            ("POST", f"/api/projects/{p}/exports/", {"format": "jsonl"}),
            ("POST", f"/api/projects/{p}/gold/aggregate/", {"kind": "verifiability"}),
            ("POST", f"/api/projects/{p}/annotator-accuracy/", {"kind": "verifiability"}),
        ]
        answers = [lead.request(m, path, body, what=f"lead {path}") for m, path, body in lead_calls]
        time.sleep(args.seconds)
        fault_calls = calls[fault_start:]
        faulty = [c.seconds for c in fault_calls if c.what == "submit"]
        for status, body in answers:
            assert status == 202, (status, body)
            assert body["status"] == "queued", body

        relay.set_mode("forward")
        s.start_beat()
        recovered = time.monotonic()
        jobs = [
            (AgreementRun, answers[0][1]["id"]),
            (Export, answers[1][1]["id"]),
            (GoldJob, answers[2][1]["id"]),
            (GoldJob, answers[3][1]["id"]),
        ]

        def all_done() -> bool:
            return all(m.objects.get(pk=pk).status in ("done", "failed") for m, pk in jobs)

        waited = wait_for(all_done, timeout=180)
        recovery = time.monotonic() - recovered
        for loop in loops:
            loop.stop()
        states = [m.objects.get(pk=pk).status for m, pk in jobs]
        med_ok, med_fault = statistics.median(healthy), statistics.median(faulty)
        print(
            f"broker {args.fault}: submit median healthy {med_ok * 1000:.1f} ms "
            f"(n={len(healthy)}), during the fault {med_fault * 1000:.1f} ms (n={len(faulty)}); "
            f"lead answers {[a[0] for a in answers]} in "
            f"{[round(c.seconds, 2) for c in fault_calls if c.what.startswith('lead')]} s"
        )
        print(
            f"  during the fault: {summary(fault_calls)}\n"
            f"  recovery: jobs {states} {recovery:.1f}s after the broker came back; "
            f"whole drill: {summary(calls)}; load {os.getloadavg()[0]:.2f}"
        )
        assert waited is not None, f"jobs not done {recovery:.0f}s after recovery: {states}"
        assert states == ["done"] * 4, states
        assert not [c for c in calls if c.status >= 500], "a request answered 5xx"
        assert max(c.seconds for c in fault_calls) < 2.0, "a request took 2 s or more"
        assert med_fault <= med_ok * 1.5 + 0.005, "submits slowed down during the fault"


if __name__ == "__main__":
    main()
