"""API benchmark: gunicorn on PostgreSQL, clients looping next-task + submit for a fixed time.

Builds (with bulk SQL, not HTTP) a small and a large project of verifiability tasks in
its own database, starts gunicorn, and for each project size and client count runs
client processes with keep-alive connections doing ``GET next-task`` then
``PUT annotation`` for ``--seconds``. Prints annotations/s, p50 and p99 latency per
call, and the ratio of p50 latencies between the large and the small project.

    .venv/bin/python bench/api_bench.py [--small 10000] [--large 1000000] [--clients 1,8]
        [--seconds 15] [--workers 2] [--threads 4] [--worker-class gthread] [--overlap 3]
        [--explain] [--quality] [--port 8765]

``--quality`` also builds, for each size, a twin project with quality control on
(control questions at a 10% rate, escalation on, half the annotators with a reserved
document) and runs it right after the plain one, printing the throughput ratio
quality / plain (goal >= 0.8) and its p99 (goal < 50 ms). Clients then answer with
varying labels so that escalation has disagreement to route.

Server default: 2 gthread workers x 4 threads for 2 CPUs. Threads keep client
connections alive (sync workers close the connection after every request) and overlap
one request's database wait with another's Python; measured on this machine with 8
clients: 2x4 gthread ~255 annotations/s, 3x4 gthread ~250, 4 sync ~190, 8 sync ~160.

Goals: >= 300 annotations/s with 8 clients, p99 < 50 ms, large/small p50 ratio <= 1.5.

CPU is reported per annotation (one next-task + submit pair) over each measured window:
the clients' own CPU (they share the machine with the server), gunicorn's workers,
and the whole machine (``/proc/stat``: PostgreSQL, clients, gunicorn and anything else).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import multiprocessing as mp
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._django import ROOT, database_url, setup  # noqa: E402

SENTENCES_PER_DOC = 50
PORT = 8765


def build_project(name: str, n_tasks: int, overlap: int, users: list) -> int:
    """A verifiability project of ``n_tasks`` one-sentence tasks, built with bulk SQL."""
    from django.db import connection

    from labeling.models import Role
    from labeling.projects import add_member, create_project
    from labeling.text.segmentation import split_sentences

    project = create_project(
        name=name, annotators_per_item=overlap, schemas=[{"kind": "verifiability"}]
    )
    for user in users:
        add_member(project=project, username=user.username, role=Role.ANNOTATOR)
    text = " ".join(
        f"Officials said on day {i} that the grain deal covers {i * 37} tonnes."
        for i in range(SENTENCES_PER_DOC)
    )
    spans = split_sentences(text)
    assert len(spans) == SENTENCES_PER_DOC, len(spans)
    n_docs = -(-n_tasks // SENTENCES_PER_DOC)
    t0 = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO labeling_document
                (project_id, title, text, external_id, source_url, metadata, content_hash,
                 created_at)
            SELECT %s, 'Doc ' || g, %s, 'doc-' || g, '', '{}'::jsonb, md5(g::text), now()
            FROM generate_series(1, %s) AS g
            """,
            [project.pk, text, n_docs],
        )
        values = ",".join("(%s::int, %s::int, %s::int, %s::text)" for _ in spans)
        cur.execute(
            f"""
            INSERT INTO labeling_sentence (document_id, position, start, "end", text)
            SELECT d.id, s.position, s.start, s.stop, s.text
            FROM labeling_document d
            CROSS JOIN (VALUES {values}) AS s(position, start, stop, text)
            WHERE d.project_id = %s
            ORDER BY d.id, s.position
            """,  # noqa: S608 - only placeholders are interpolated
            [*(v for i, (s, e) in enumerate(spans) for v in (i, s, e, text[s:e])), project.pk],
        )
        cur.execute(
            """
            INSERT INTO labeling_task
                (project_id, sentence_id, document_id, position, kind, target, overlap,
                 n_assigned, n_submitted, is_open, created_at)
            SELECT %s, s.id, s.document_id, s.position, 'verifiability', '', %s, 0, 0, true, now()
            FROM labeling_sentence s JOIN labeling_document d ON d.id = s.document_id
            WHERE d.project_id = %s
            ORDER BY s.document_id, s.position
            LIMIT %s
            """,
            [project.pk, overlap, project.pk, n_tasks],
        )
        cur.execute("ANALYZE")
    print(f"  built {name}: {n_tasks:,} tasks in {time.perf_counter() - t0:.1f} s", flush=True)
    return project.pk


def add_quality(project_id: int, users: list, n_controls: int = 200) -> None:
    """Quality control on the project: controls at 10%, escalation, reservations for half."""
    from labeling.models import Document, Project, Task
    from labeling.quality.controls import ControlSpec, set_controls
    from labeling.quality.models import QualitySettings
    from labeling.quality.reservations import reserve

    project = Project.objects.get(pk=project_id)
    QualitySettings.objects.create(
        project=project, control_rate=0.1, escalation_enabled=True, escalation_max_extra=2
    )
    tasks = list(
        Task.objects.filter(project=project)
        .order_by("-id")
        .values_list("pk", flat=True)[:n_controls]
    )
    set_controls(
        project=project,
        specs=[ControlSpec(t, {"label": "verifiable"}) for t in tasks],
        user=None,
    )
    docs = list(
        Document.objects.filter(project=project).order_by("id").values_list("pk", flat=True)
    )
    for i, user in enumerate(users[: len(users) // 2]):
        reserve(project=project, user=user, by=None, documents=[docs[(i + 1) * 3]])


def explain(project_id: int, user) -> str:
    """EXPLAIN ANALYZE of the queue's candidate query (``queue.policy``) for a user."""
    from django.db import connection

    from labeling.queue import policy

    sql = policy.candidate_sql(*policy.windows(None)[0][:1], 1, lock="")
    params = {"user": user.pk, "project": project_id, "kind": "verifiability", "target0": ""}
    with connection.cursor() as cur:
        cur.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING ON) " + sql, params)
        return "\n".join(row[0] for row in cur.fetchall())


def client_loop(
    token: str, project_id: int, seconds: float, warmup: float, out, vary: bool = False
) -> None:
    """One client: keep-alive next-task + submit until time is up; latencies in ms."""
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    labels = ["verifiable", "unverifiable", "not_a_claim"] if vary else ["verifiable"]
    bodies = [json.dumps({"value": {"label": label}, "lead_time_ms": 1000}) for label in labels]
    n_calls = 0
    nxt: list[float] = []
    put: list[float] = []
    errors = 0
    done = 0
    cpu_start = None
    t_start = time.perf_counter()
    t_measure = t_start + warmup
    t_end = t_measure + seconds
    while True:
        now = time.perf_counter()
        if now >= t_end:
            break
        if cpu_start is None and now >= t_measure:
            cpu_start = time.process_time()
        conn.request(
            "GET", f"/api/projects/{project_id}/next-task/?kind=verifiability", headers=headers
        )
        r = conn.getresponse()
        data = r.read()
        t1 = time.perf_counter()
        if r.status != 200:
            errors += r.status != 204
            if r.status == 204:
                break
            continue
        task_id = json.loads(data)["id"]
        n_calls += 1
        body = bodies[(n_calls * 7 + len(token)) % len(bodies)] if n_calls % 4 == 0 else bodies[0]
        conn.request("PUT", f"/api/tasks/{task_id}/annotation/", body=body, headers=headers)
        r2 = conn.getresponse()
        r2.read()
        t2 = time.perf_counter()
        if now >= t_measure:
            nxt.append((t1 - now) * 1000)
            put.append((t2 - t1) * 1000)
            if r2.status == 200:
                done += 1
            else:
                errors += 1
    cpu = time.process_time() - cpu_start if cpu_start is not None else 0.0
    out.put({"next": nxt, "put": put, "done": done, "errors": errors, "cpu": cpu})


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def proc_cpu(pid: int) -> float:
    """User + system CPU seconds of one process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def workers_cpu(master: int) -> float:
    """CPU seconds of gunicorn's current workers (children of the master)."""
    total = 0.0
    for child in Path(f"/proc/{master}/task/{master}/children").read_text().split():
        with contextlib.suppress(OSError):  # a worker that just exited
            total += proc_cpu(int(child))
    return total


def machine_cpu() -> float:
    """Busy CPU seconds of the whole machine so far (all CPUs, /proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def run(
    tokens: list[str],
    project_id: int,
    clients: int,
    seconds: float,
    server_pid: int,
    vary: bool = False,
) -> dict:
    out: mp.Queue = mp.Queue()
    warmup = 1.0
    procs = [
        mp.Process(target=client_loop, args=(tokens[i], project_id, seconds, warmup, out, vary))
        for i in range(clients)
    ]
    for p in procs:
        p.start()
    time.sleep(warmup)
    w0, m0 = workers_cpu(server_pid), machine_cpu()
    time.sleep(seconds)
    w1, m1 = workers_cpu(server_pid), machine_cpu()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    nxt = [x for r in results for x in r["next"]]
    put = [x for r in results for x in r["put"]]
    done = max(sum(r["done"] for r in results), 1)
    return {
        "ann_s": sum(r["done"] for r in results) / seconds,
        "cpu_client": 1000 * sum(r["cpu"] for r in results) / done,
        "cpu_server": 1000 * (w1 - w0) / done,
        "cpu_machine": 1000 * (m1 - m0) / done,
        "errors": sum(r["errors"] for r in results),
        "next_p50": pct(nxt, 0.5),
        "next_p99": pct(nxt, 0.99),
        "put_p50": pct(put, 0.5),
        "put_p99": pct(put, 0.99),
        "all_p50": pct(nxt + put, 0.5),
        "all_p99": pct(nxt + put, 0.99),
    }


def start_server(url: str, workers: int, threads: int, worker_class: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "0",
        # Production settings refuse short or placeholder keys; the bench's plain-HTTP
        # loopback server needs no SSL redirect.
        "SECRET_KEY": "bench-only-" + secrets.token_urlsafe(48),
        "SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CONN_MAX_AGE": "600",
        "LOG_LEVEL": "ERROR",
    }
    env.pop("CELERY_BROKER_URL", None)
    cmd = [
        str(ROOT / ".venv/bin/gunicorn"),
        "config.wsgi:application",
        "--bind",
        f"127.0.0.1:{PORT}",
        "--workers",
        str(workers),
        "--worker-class",
        worker_class or ("gthread" if threads > 1 else "sync"),
        "--threads",
        str(threads),
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    for _ in range(100):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=1)
            conn.request("GET", "/api/schema/")
            conn.getresponse().read()
            return proc
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("gunicorn did not start")


def main() -> None:
    global PORT  # noqa: PLW0603  # the client processes (forked) read it
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--clients", default="1,8")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument(
        "--worker-class",
        default="",
        help="gunicorn worker class (default: sync, gthread if threads > 1)",
    )
    parser.add_argument("--overlap", type=int, default=3)
    parser.add_argument("--database", default="labeling_bench")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument(
        "--quality", action="store_true", help="also run a twin project with quality control on"
    )
    parser.add_argument("--port", type=int, default=8765, help="gunicorn's port on 127.0.0.1")
    args = parser.parse_args()
    client_counts = [int(c) for c in args.clients.split(",")]
    PORT = args.port

    url = database_url("postgres", args.database)
    setup(url)
    from django.contrib.auth import get_user_model
    from django.db import connection
    from rest_framework.authtoken.models import Token

    n_users = max(client_counts)
    users = [get_user_model().objects.create_user(f"bench{i}") for i in range(n_users)]
    tokens = [Token.objects.create(user=u).key for u in users]
    sizes = {"small": args.small, "large": args.large}
    print(f"building projects (overlap {args.overlap}) ...", flush=True)
    projects = {k: build_project(k, n, args.overlap, users) for k, n in sizes.items()}
    if args.quality:
        for k, n in list(sizes.items()):
            pid = build_project(f"{k}+quality", n, args.overlap, users)
            add_quality(pid, users)
            projects[f"{k}+quality"] = pid
            sizes[f"{k}+quality"] = n
    if args.explain:
        for k, pid in projects.items():
            print(f"EXPLAIN ANALYZE candidate query, {k} project:\n{explain(pid, users[0])}")
    connection.close()

    server = start_server(url, args.workers, args.threads, args.worker_class)
    print(
        f"gunicorn: {args.workers} {args.worker_class or ('gthread' if args.threads > 1 else 'sync')}"
        f" workers x {args.threads} thread(s), PostgreSQL, "
        f"{args.seconds:.0f} s per run, {os.cpu_count()} CPUs",
        flush=True,
    )
    table: dict[tuple[str, int], dict] = {}
    try:
        order = ["small", "small+quality", "large", "large+quality"]
        for clients in client_counts:
            for k in [k for k in order if k in projects]:
                vary = args.quality  # the same answers in the plain and the quality runs
                r = run(tokens, projects[k], clients, args.seconds, server.pid, vary)
                table[(k, clients)] = r
                print(
                    f"{k:>13} ({sizes[k]:>9,} tasks) {clients} client(s): "
                    f"{r['ann_s']:7.1f} annotations/s | next-task p50 {r['next_p50']:6.2f} ms "
                    f"p99 {r['next_p99']:6.2f} ms | submit p50 {r['put_p50']:6.2f} ms "
                    f"p99 {r['put_p99']:6.2f} ms | all calls p50 {r['all_p50']:6.2f} ms "
                    f"p99 {r['all_p99']:6.2f} ms | errors {r['errors']}",
                    flush=True,
                )
                print(
                    f"{'':>26}CPU per annotation: clients {r['cpu_client']:.2f} ms, "
                    f"gunicorn {r['cpu_server']:.2f} ms, whole machine {r['cpu_machine']:.2f} ms "
                    f"| load average {os.getloadavg()[0]:.2f}",
                    flush=True,
                )
    finally:
        server.terminate()
        server.wait(timeout=30)
    for clients in client_counts:
        s, big = table[("small", clients)], table[("large", clients)]
        print(
            f"ratio large/small p50, {clients} client(s): next-task "
            f"{big['next_p50'] / s['next_p50']:.2f}, submit {big['put_p50'] / s['put_p50']:.2f}, "
            f"all calls {big['all_p50'] / s['all_p50']:.2f}"
        )
        for k in ("small", "large"):
            if (f"{k}+quality", clients) not in table:
                continue
            plain, quality = table[(k, clients)], table[(f"{k}+quality", clients)]
            print(
                f"quality/plain, {k}, {clients} client(s): throughput "
                f"{quality['ann_s'] / plain['ann_s']:.2f} (goal >= 0.80), p99 next-task "
                f"{quality['next_p99']:.2f} ms, submit {quality['put_p99']:.2f} ms (goal < 50)"
            )
    # The over-assignment check the peers failed: never more than overlap per task.
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT count(*) FROM (
                SELECT t.id FROM labeling_task t JOIN labeling_assignment a ON a.task_id = t.id
                WHERE a.status IN ('active', 'submitted')
                GROUP BY t.id, t.overlap HAVING count(*) > t.overlap
            ) AS over
            """
        )
        over = cur.fetchone()[0]
    print(f"tasks with more active+submitted assignments than their overlap: {over}")
    if args.quality:
        with connection.cursor() as cur:
            cur.execute(
                "SELECT count(*), count(*) FILTER (WHERE status = 'resolved') "
                "FROM labeling_escalation"
            )
            n_escalated, n_resolved = cur.fetchone()
            cur.execute("SELECT count(*) FROM labeling_controlanswer")
            n_control = cur.fetchone()[0]
        print(
            f"quality runs: {n_control} control answers, {n_escalated} escalated tasks "
            f"({n_resolved} resolved)"
        )


if __name__ == "__main__":
    main()
