"""Benchmark: a PUT that triggers an automatic agreement run vs any other PUT.

Builds a project of ``--tasks`` verifiability tasks already annotated by three
annotators (3 x tasks annotations), then a fourth annotator takes tasks (``next-task``,
untimed) and submits them (``PUT .../annotation/``, timed) through the API in process.
PUTs alternate between *ordinary* (the debounce key is set: no automatic run is due)
and *trigger* (no pending automatic run and no debounce key: this PUT is the one that
starts the automatic run). Prints the median of each, their ratio and the load average.

    .venv/bin/python bench/auto_run_put_bench.py --mode embedded|services [--tasks 2000] [--n 41]
        [--http]

``--http``: the PUTs go over HTTP to gunicorn (one sync worker) and are timed by the
client, as an annotator sees them; the debounce key lives in a Redis cache
(``CACHE_URL``, database 3) shared by the server and this script.

``embedded``: SQLite file, Celery eager. ``services``: PostgreSQL and Redis
(``redis://127.0.0.1:6379/3`` unless ``--broker``); no worker is needed. The script
uses only the API and models, so the same file measures an older checkout (copy it
there) in the same time window. Goal (issue 9): trigger median within 20% of ordinary.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _fresh_database(mode: str, name: str) -> str:
    if mode == "embedded":
        path = Path("/tmp") / f"{name}.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    for sql in (f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'):
        subprocess.run(
            ["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-c", sql],
            check=True,
        )
    return f"postgres://postgres@127.0.0.1:5432/{name}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["embedded", "services"], default="embedded")
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--n", type=int, default=41, help="PUTs of each kind")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/3")
    parser.add_argument("--tag", default="jobs", help="suffix of the throw-away database")
    parser.add_argument("--http", action="store_true", help="time PUTs through gunicorn")
    args = parser.parse_args()
    if args.http:
        os.environ["CACHE_URL"] = "redis://127.0.0.1:6379/3"

    os.environ["DATABASE_URL"] = _fresh_database(args.mode, f"put_bench_{args.mode}_{args.tag}")
    if args.mode == "services":
        os.environ["CELERY_BROKER_URL"] = args.broker
    else:
        os.environ.pop("CELERY_BROKER_URL", None)
    # 0: the debounce window never blocks a trigger (older checkouts also refuse a new
    # automatic run while one created within the window exists).
    os.environ["LABELING_AGREEMENT_DEBOUNCE_SECONDS"] = "0"
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import django

    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    from config.celery import app
    from labeling.models import AgreementRun, Annotation, Task
    from tests.factories import add_documents, make_project

    call_command("migrate", verbosity=0)
    from django.contrib.auth import get_user_model

    users = get_user_model().objects
    raters = [users.create_user(f"rater{i}") for i in range(3)]
    bench_user = users.create_user("bench")
    project = make_project(annotators=[*raters, bench_user], overlap=4)
    text = "\n".join(f"Sentence number {i} says something." for i in range(args.tasks))
    add_documents(project, [text])
    tasks = list(Task.objects.filter(project=project, kind="verifiability").order_by("position"))
    labels = ["verifiable", "unverifiable", "not_a_claim"]
    Annotation.objects.bulk_create(
        Annotation(task=t, annotator=u, value={"label": labels[(t.position * (j + 1)) % 3]})
        for t in tasks
        for j, u in enumerate(raters)
    )
    client: Any = APIClient()
    client.force_authenticate(bench_user)
    server = None
    if args.http:
        from rest_framework.authtoken.models import Token

        client, server = _HttpClient.start(Token.objects.create(user=bench_user).key)
    key = f"labeling:agreement-auto:{project.pk}:verifiability"
    times: dict[str, list[float]] = {"ordinary": [], "trigger": []}
    queries: dict[str, list[int]] = {"ordinary": [], "trigger": []}

    def one_put(kind: str, index: int) -> None:
        task = client.get(f"/api/projects/{project.pk}/next-task/?kind=verifiability").json()
        AgreementRun.objects.filter(trigger="auto", status="queued").update(status="failed")
        if kind == "trigger":
            cache.delete(key)
        else:
            cache.set(key, 1, 3600)
        body = {"value": {"label": labels[index % 3]}}
        with CaptureQueriesContext(connection) as ctx:  # in process only
            started = time.perf_counter()
            response = client.put(f"/api/tasks/{task['id']}/annotation/", body, format="json")
            elapsed = time.perf_counter() - started
        assert response.status_code in (200, 201), response.status_code
        times[kind].append(elapsed)
        queries[kind].append(len(ctx.captured_queries))

    for i in range(3):  # warm-up, not counted
        one_put("ordinary" if i % 2 else "trigger", i)
    times = {"ordinary": [], "trigger": []}
    queries = {"ordinary": [], "trigger": []}
    for i in range(args.n):
        order = ("ordinary", "trigger") if i % 2 else ("trigger", "ordinary")
        for kind in order:
            one_put(kind, i)
    if server is not None:
        time.sleep(1)  # the last PUT's event is delivered after its response
        server.terminate()
        server.wait()
    n_auto = AgreementRun.objects.filter(trigger="auto").count()
    if args.mode == "services":
        app.control.purge()  # messages an older checkout may have published
    med = {k: statistics.median(v) * 1000 for k, v in times.items()}
    load = os.getloadavg()
    via = "HTTP (gunicorn, 1 sync worker)" if args.http else "in process"
    print(
        f"mode={args.mode} via {via} tasks={args.tasks} annotations={3 * args.tasks} "
        f"n={args.n} each"
    )
    for kind in ("ordinary", "trigger"):
        print(
            f"  {kind:8s} PUT median {med[kind]:8.2f} ms  p90 "
            f"{statistics.quantiles(times[kind], n=10)[-1] * 1000:8.2f} ms  "
            + ("" if args.http else f"queries median {statistics.median(queries[kind]):.0f}")
        )
    print(f"  ratio trigger/ordinary (medians): {med['trigger'] / med['ordinary']:.2f}")
    print(f"  automatic runs created: {n_auto}; load average {load[0]:.2f} {load[1]:.2f}")


class _Response:
    def __init__(self, status: int, body: bytes) -> None:
        self.status_code, self.content = status, body

    def json(self) -> Any:
        return json.loads(self.content)


class _HttpClient:
    """Just enough of APIClient's interface, over HTTP with a token."""

    def __init__(self, port: int, token: str) -> None:
        self.port, self.token = port, token

    @classmethod
    def start(cls, token: str) -> tuple[_HttpClient, subprocess.Popen[bytes]]:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "config.wsgi"]
            + ["--bind", f"127.0.0.1:{port}", "--workers", "1"],
            cwd=ROOT,
            env=dict(os.environ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = cls(port, token)
        for _ in range(150):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return client, server
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start")

    def _call(self, method: str, path: str, body: Any = None) -> _Response:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Authorization": f"Token {self.token}", "Content-Type": "application/json"}
        conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
        response = conn.getresponse()
        result = _Response(response.status, response.read())
        conn.close()
        return result

    def get(self, path: str) -> _Response:
        return self._call("GET", path)

    def put(self, path: str, body: Any, format: str = "json") -> _Response:
        return self._call("PUT", path, body)


if __name__ == "__main__":
    main()
