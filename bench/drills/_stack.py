"""Drill harness: a throw-away PostgreSQL database, gunicorn, celery worker and beat.

Each service is a subprocess in its own session (process group), so a drill can kill a
whole group or one child. The drill process itself talks to the same database through
Django (to build data and read job rows) and to the server over HTTP.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
REDIS = "redis://127.0.0.1:6379/3"  # this drill's own Redis database number


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fresh_database(name: str) -> str:
    """Drop and create PostgreSQL database ``name``; return its URL."""
    for sql in (f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'):
        subprocess.run(
            ["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-c", sql],
            check=True,
        )
    return f"postgres://postgres@127.0.0.1:5432/{name}"


@dataclass
class Stack:
    """The services of one drill, sharing one database and one log directory."""

    name: str
    env: dict[str, str] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    logs: Path = Path("/tmp")

    def __post_init__(self) -> None:
        self.logs = Path(f"/tmp/drill-{self.name}")
        self.logs.mkdir(exist_ok=True)
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": fresh_database(f"drill_{self.name}"),
            "CELERY_BROKER_URL": REDIS,
            "SECRET_KEY": "drill-" + "x" * 60,
            "DEBUG": "true",
            **self.env,
        }
        subprocess.run(
            [str(VENV_BIN / "python"), "manage.py", "migrate", "-v", "0"],
            cwd=ROOT,
            env=self.env,
            check=True,
        )
        os.environ.update({k: v for k, v in self.env.items() if k != "CELERY_BROKER_URL"})
        os.environ["CELERY_BROKER_URL"] = REDIS
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from config.celery import app

        app.control.purge()

    def start(self, role: str, argv: list[str], env: dict[str, str] | None = None) -> None:
        """Start ``argv`` as service ``role`` in a new session, logging to the drill's folder."""
        log = (self.logs / f"{role}.log").open("ab")
        self.procs[role] = subprocess.Popen(
            argv,
            cwd=ROOT,
            env={**self.env, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_web(self, port: int, env: dict[str, str] | None = None, workers: int = 2) -> None:
        """gunicorn with sync workers, as deployed; waits until it answers."""
        self.start(
            "web",
            [str(VENV_BIN / "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{port}"]
            + ["--workers", str(workers), "--timeout", "30"],
            env,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start")

    def start_worker(self, role: str = "worker") -> None:
        """A prefork celery worker with one child; waits until it is ready."""
        log = self.logs / f"{role}.log"
        size = log.stat().st_size if log.exists() else 0
        self.start(
            role,
            [str(VENV_BIN / "celery"), "-A", "config", "worker", "--pool", "prefork"]
            + ["--concurrency", "1", "-n", f"{role}-{time.time_ns()}@%h", "--loglevel", "INFO"]
            + ["--without-gossip", "--without-mingle"],
        )
        deadline = time.monotonic() + 60
        while b"ready." not in log.read_bytes()[size:]:
            if time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start; see {log}")
            time.sleep(0.2)

    def start_beat(self) -> None:
        """Celery beat (the sweep every 15 s, lease release every minute)."""
        schedule = self.logs / "beat-schedule"
        for path in self.logs.glob("beat-schedule*"):
            path.unlink()
        self.start(
            "beat",
            [str(VENV_BIN / "celery"), "-A", "config", "beat", "-s", str(schedule)]
            + ["--loglevel", "INFO"],
        )

    def kill_group(self, role: str) -> None:
        """SIGKILL a service's whole process group (main process and children)."""
        proc = self.procs.pop(role)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    def children(self, role: str) -> list[int]:
        """Child process ids of a service's main process."""
        pid = self.procs[role].pid
        path = Path(f"/proc/{pid}/task/{pid}/children")
        return [int(p) for p in path.read_text().split()] if path.exists() else []

    def stop(self) -> None:
        """Stop every service (SIGTERM, then SIGKILL) and drop nothing else."""
        for role in list(self.procs):
            proc = self.procs.pop(role)
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                with suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@contextmanager
def stack(name: str, env: dict[str, str] | None = None) -> Iterator[Stack]:
    """A Stack that is stopped whatever happens."""
    s = Stack(name, env=env or {})
    try:
        yield s
    finally:
        s.stop()


# ------------------------------------------------------------------------------ data


@dataclass
class World:
    """A project with a lead, annotators with tokens, and annotated tasks."""

    project_id: int
    lead_token: str
    annotator_tokens: list[str]


def build_world(*, n_tasks: int, n_raters: int = 3, n_annotators: int = 4) -> World:
    """A verifiability project of ``n_tasks`` tasks, each annotated by ``n_raters`` raters."""
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from labeling.models import Annotation, Task
    from tests.factories import add_documents, make_project

    users = get_user_model().objects
    lead = users.create_user("lead")
    raters = [users.create_user(f"rater{i}") for i in range(n_raters)]
    annotators = [users.create_user(f"ann{i}") for i in range(n_annotators)]
    project = make_project(lead=lead, annotators=raters + annotators, overlap=n_raters + 2)
    per_doc = 500
    texts = [
        "\n".join(f"Doc {d} sentence {i} says 👍 例えば é." for i in range(per_doc))
        for d in range(max(1, n_tasks // per_doc))
    ]
    add_documents(project, texts)
    tasks = Task.objects.filter(project=project, kind="verifiability").only("id", "position")
    labels = ["verifiable", "unverifiable", "not_a_claim"]
    Annotation.objects.bulk_create(
        (
            Annotation(task=t, annotator=u, value={"label": labels[(t.pk * (j + 1)) % 3]})
            for t in tasks.iterator()
            for j, u in enumerate(raters)
        ),
        batch_size=5000,
    )
    return World(
        project.pk,
        Token.objects.create(user=lead).key,
        [Token.objects.create(user=u).key for u in annotators],
    )


# --------------------------------------------------------------------------- traffic


@dataclass
class Call:
    """One HTTP request's outcome."""

    what: str
    status: int
    seconds: float


class Api:
    """A keep-alive-less HTTP client for the drill's server, recording every call."""

    def __init__(self, port: int, token: str, calls: list[Call], timeout: float = 35.0) -> None:
        self.port, self.token, self.calls, self.timeout = port, token, calls, timeout

    def request(self, method: str, path: str, body: Any = None, what: str = "") -> tuple[int, Any]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        headers = {"Authorization": f"Token {self.token}"}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        started = time.perf_counter()
        try:
            conn.request(method, path, body=payload, headers=headers)
            response = conn.getresponse()
            data = response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            data, status = b"", 599  # no answer at all (timeout, reset)
        finally:
            conn.close()
        self.calls.append(Call(what or f"{method} {path}", status, time.perf_counter() - started))
        try:
            return status, json.loads(data) if data else None
        except ValueError:
            return status, data


class AnnotatorLoop(threading.Thread):
    """An annotator taking and submitting tasks until stopped."""

    def __init__(self, api: Api, project_id: int) -> None:
        super().__init__(daemon=True)
        self.api, self.project_id = api, project_id
        self.stopped = threading.Event()
        self.submitted = 0

    def run(self) -> None:
        labels = ["verifiable", "unverifiable", "not_a_claim"]
        while not self.stopped.is_set():
            status, task = self.api.request(
                "GET", f"/api/projects/{self.project_id}/next-task/?kind=verifiability", what="next"
            )
            if status != 200:
                time.sleep(0.2)
                continue
            status, _ = self.api.request(
                "PUT",
                f"/api/tasks/{task['id']}/annotation/",
                {"value": {"label": labels[self.submitted % 3]}},
                what="submit",
            )
            self.submitted += status in (200, 201)

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=40)


def summary(calls: list[Call]) -> str:
    """5xx count, no-answer count and the slowest request of ``calls``."""
    errors = [c for c in calls if 500 <= c.status < 599]
    lost = [c for c in calls if c.status == 599]
    slowest = max(calls, key=lambda c: c.seconds) if calls else None
    text = f"requests={len(calls)} 5xx={len(errors)} no_answer={len(lost)}"
    if errors:
        text += " (" + ", ".join(sorted({f"{c.status} {c.what}" for c in errors})) + ")"
    if slowest:
        text += f" slowest={slowest.seconds:.2f}s ({slowest.what}, {slowest.status})"
    return text


def wait_for(predicate: Any, timeout: float, interval: float = 0.5) -> float | None:
    """Seconds until ``predicate()`` is true, or None after ``timeout``."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if predicate():
            return time.monotonic() - started
        time.sleep(interval)
    return None


# ----------------------------------------------------------------------------- drill


@dataclass
class RunDrill:
    """A running stack with annotators submitting while a lead's agreement run computes."""

    stack: Stack
    world: World
    lead: Api
    loops: list[AnnotatorLoop]
    calls: list[Call]

    def request_run(self) -> int:
        """The lead asks for an agreement run (202); returns its id."""
        status, run = self.lead.request(
            "POST",
            f"/api/projects/{self.world.project_id}/agreement-runs/",
            {"kind": "verifiability"},
        )
        assert status == 202, (status, run)
        return int(run["id"])

    def wait_until(self, run_id: int, started: Any, timeout: float = 120.0) -> None:
        """Wait until ``started(run row)`` holds (e.g. it is running, or has progressed)."""
        from labeling.models import AgreementRun

        deadline = time.monotonic() + timeout
        while not started(AgreementRun.objects.get(pk=run_id)):
            assert time.monotonic() < deadline, "the run never started"
            time.sleep(0.2)

    def wait_for_end(self, run_id: int, since: float, timeout: float) -> tuple[Any, float]:
        """Poll the run as the lead until done or failed; (its body or None, seconds since)."""
        final = None
        while time.monotonic() - since < timeout:
            status, body = self.lead.request("GET", f"/api/agreement-runs/{run_id}/", what="poll")
            if status == 200 and body["status"] in ("done", "failed"):
                final = body
                break
            time.sleep(0.5)
        return final, time.monotonic() - since

    def stop_annotators(self) -> int:
        """Stop the annotator loops; returns how many annotations they submitted."""
        for loop in self.loops:
            loop.stop()
        return sum(loop.submitted for loop in self.loops)


@contextmanager
def run_drill(name: str, *, n_tasks: int, draws: int) -> Iterator[RunDrill]:
    """The kill drills' set-up: a stack (web, worker, beat) on a world of ``n_tasks`` tasks,
    with one submitting loop per annotator; ``draws`` bootstrap draws set the run's length.
    """
    with stack(name, env={"LABELING_BOOTSTRAP_DRAWS": str(draws)}) as s:
        world = build_world(n_tasks=n_tasks)
        port = free_port()
        s.start_web(port)
        s.start_worker()
        s.start_beat()
        calls: list[Call] = []
        loops = [
            AnnotatorLoop(Api(port, token, calls), world.project_id)
            for token in world.annotator_tokens
        ]
        for loop in loops:
            loop.start()
        drill = RunDrill(s, world, Api(port, world.lead_token, calls), loops, calls)
        try:
            yield drill
        finally:
            for loop in loops:
                loop.stopped.set()
