"""API benchmark: gunicorn on PostgreSQL, clients looping next-task + submit for a fixed time.

One command runs the whole comparison and prints medians of ``--runs`` runs:

    .venv/bin/python bench/api_bench.py [--baseline REV] [--quality] [--runs 3]
        [--small 10000] [--large 1000000] [--clients 8] [--seconds 15]
        [--workers 2] [--threads 4] [--worker-class gthread] [--overlap 3] [--port 8765]

The data (a small and a large project of verifiability tasks; with ``--quality`` a
quality twin of each: control questions at a 10% rate, escalation on, half the
annotators with a reserved document) is built once with bulk SQL into a template
database named after the code's migrations and the build parameters, and kept: later
runs reuse it (``--rebuild`` forces a new one). Each run starts from a fresh copy
(``CREATE DATABASE ... TEMPLATE``, a file copy: seconds even for 1M tasks), starts
gunicorn on it, and for each project and client count runs client processes with
keep-alive connections doing ``GET next-task`` then ``PUT annotation`` for ``--seconds``
after a one-second warm-up (then ``ANALYZE`` of the assignment and annotation tables,
as a database in service has their statistics).

``--baseline REV`` also runs the server code of REV (a git worktree under /tmp, with
this file's build and drive code copied in) in the same window, runs interleaved
(baseline, current, baseline, ...), so load changes hit both alike; it prints the
current/baseline ratios of throughput and of gunicorn CPU per annotation.

Printed per code, project and client count: annotations/s, next-task and submit p50
and p99, CPU per annotation (clients, gunicorn's workers, the whole machine from
``/proc/stat``) as medians over the runs, each run's figure in brackets; then the
large/small p50 ratio and, with ``--quality``, quality/plain throughput.

Goals (issue 9 item 4): >= 250 annotations/s with 8 clients (median of 3 runs),
next-task and submit p99 < 50 ms, 1M/10k latency ratio <= 1.5; issue 14: quality
throughput within 20% of plain, p99 < 50 ms.

Server default: 2 gthread workers x 4 threads for 2 CPUs. Threads keep client
connections alive (sync workers close the connection after every request) and overlap
one request's database wait with another's Python.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import json
import multiprocessing as mp
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._django import ROOT, database_url, setup  # noqa: E402

PG = "postgres://postgres@127.0.0.1:5432"
#: Bumped when the data a template holds changes, so old templates are not reused.
BUILD_VERSION = 2

SENTENCES_PER_DOC = 50
PORT = 8765


def build_project(name: str, n_tasks: int, overlap: int, users: list) -> int:
    """A verifiability project of ``n_tasks`` one-sentence tasks, built with bulk SQL."""
    from django.db import connection

    from labeling.models import Role
    from labeling.projects import add_member, create_project

    try:
        from labeling.text.segmentation import split_sentences
    except ImportError:  # a baseline checkout from before the layout moves (--baseline)
        from labeling.segmentation import split_sentences  # type: ignore[no-redef]

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
    analyze_url: str = "",
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
    if analyze_url:  # statistics of a database in service, not of the empty template
        with psycopg.connect(analyze_url, autocommit=True) as conn:
            conn.execute("ANALYZE labeling_assignment, labeling_annotation")
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


def start_server(
    url: str, workers: int, threads: int, worker_class: str, root: Path = ROOT
) -> subprocess.Popen:
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
        str(root / ".venv/bin/gunicorn"),
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
    proc = subprocess.Popen(cmd, cwd=root, env=env)
    for _ in range(100):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=1)
            conn.request("GET", "/api/projects/")  # 401 at once: the app is up
            conn.getresponse().read()
            return proc
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("gunicorn did not start")


def psql(sql: str) -> None:
    """Run ``sql`` on the server's maintenance database (CREATE/DROP DATABASE)."""
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def db_exists(name: str) -> bool:
    """True when the template ``name`` exists and its build finished (``bench_meta``)."""
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    if found is None:
        return False
    with psycopg.connect(f"{PG}/{name}", autocommit=True) as conn:
        return conn.execute("SELECT to_regclass('bench_meta')").fetchone()[0] is not None


def template_name(root: Path, args: argparse.Namespace) -> str:
    """The template database of ``root``'s schema and these build parameters."""
    digest = hashlib.sha1(usedforsecurity=False)
    for path in sorted((root / "labeling").rglob("migrations/*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    digest.update(
        repr(
            (BUILD_VERSION, args.small, args.large, args.overlap, args.quality, args.users)
        ).encode()
    )
    return f"labeling_bench_tpl_{digest.hexdigest()[:12]}"


def build_template(args: argparse.Namespace) -> None:
    """Build the template database ``args.build_template`` with this checkout's code."""
    url = database_url("postgres", args.build_template)
    setup(url)
    from django.contrib.auth import get_user_model
    from django.db import connection
    from rest_framework.authtoken.models import Token

    users = [get_user_model().objects.create_user(f"bench{i}") for i in range(args.users)]
    tokens = [Token.objects.create(user=u).key for u in users]
    projects = {"small": (args.small, 0), "large": (args.large, 0)}
    for k, (n, _) in list(projects.items()):
        projects[k] = (n, build_project(k, n, args.overlap, users))
        if args.quality:
            pid = build_project(f"{k}+quality", n, args.overlap, users)
            add_quality(pid, users)
            projects[f"{k}+quality"] = (n, pid)
    with connection.cursor() as cur:
        cur.execute("CREATE TABLE bench_meta (body text)")
        cur.execute(
            "INSERT INTO bench_meta VALUES (%s)",
            [json.dumps({"tokens": tokens, "projects": projects})],
        )
        cur.execute("VACUUM ANALYZE")
    connection.close()


def ensure_template(root: Path, args: argparse.Namespace) -> str:
    """The template of ``root``'s code, built by ``root``'s code if missing (or --rebuild)."""
    name = template_name(root, args)
    if db_exists(name) and not args.rebuild:
        print(f"  reusing {name} ({root})", flush=True)
        return name
    t0 = time.perf_counter()
    print(f"  building {name} with the code of {root} ...", flush=True)
    cmd = [str(root / ".venv/bin/python"), str(root / "bench/api_bench.py"), "--build-template"]
    cmd += [name, "--small", str(args.small), "--large", str(args.large)]
    cmd += ["--overlap", str(args.overlap), "--users", str(args.users)]
    cmd += ["--quality"] if args.quality else []
    subprocess.run(cmd, cwd=root, check=True)
    print(f"  built {name} in {time.perf_counter() - t0:.0f} s", flush=True)
    return name


def baseline_checkout(rev: str) -> Path:
    """A worktree of ``rev`` under /tmp running this file's build and drive code."""
    sha = subprocess.run(
        ["git", "rev-parse", "--short=10", rev],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    path = Path("/tmp") / f"api_bench_{sha}"
    if not path.exists():
        subprocess.run(["git", "worktree", "add", "--detach", str(path), sha], cwd=ROOT, check=True)
    venv = path / ".venv"
    if not venv.exists():
        venv.symlink_to((ROOT / ".venv").resolve())
    for name in ("api_bench.py", "_django.py", "__init__.py"):  # same data, same clients
        shutil.copy(ROOT / "bench" / name, path / "bench" / name)
    return path


def fresh_copy(template: str, name: str) -> str:
    """A new database ``name`` copied from ``template``; its URL."""
    psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    psql(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
    return f"{PG}/{name}"


def over_assigned(url: str) -> int:
    """Tasks with more active+submitted assignments than their overlap (must be 0)."""
    with psycopg.connect(url) as conn:
        return conn.execute(
            """
            SELECT count(*) FROM (
                SELECT t.id FROM labeling_task t JOIN labeling_assignment a ON a.task_id = t.id
                WHERE a.status IN ('active', 'submitted')
                GROUP BY t.id, t.overlap HAVING count(*) > t.overlap
            ) AS over
            """
        ).fetchone()[0]


METRICS = ("ann_s", "next_p50", "next_p99", "put_p50", "put_p99", "all_p50", "cpu_server")


def median_of(runs: list[dict]) -> dict:
    return {
        m: statistics.median(r[m] for r in runs) for m in (*METRICS, "cpu_client", "cpu_machine")
    }


def report(table: dict, codes: list[str], projects: list[str], clients: list[int]) -> None:
    """Medians over runs, goals, and the ratios the issues ask for."""
    print("\n== medians over runs (each run in brackets) ==")
    med = {key: median_of(runs) for key, runs in table.items()}
    for code in codes:
        for n in clients:
            for k in projects:
                runs = table.get((code, k, n))
                if not runs:
                    continue
                m = med[(code, k, n)]
                each = ", ".join(f"{r['ann_s']:.0f}" for r in runs)
                print(
                    f"{code:>8} {k:>13} {n} client(s): {m['ann_s']:6.1f} ann/s [{each}] | "
                    f"next-task p50 {m['next_p50']:5.1f} p99 {m['next_p99']:6.1f} ms | "
                    f"submit p50 {m['put_p50']:5.1f} p99 {m['put_p99']:6.1f} ms | CPU/annotation "
                    f"gunicorn {m['cpu_server']:.2f} ms, clients {m['cpu_client']:.2f}, "
                    f"machine {m['cpu_machine']:.2f} | errors {sum(r['errors'] for r in runs)}"
                )
    print("\n== goals and ratios ==")
    for code in codes:
        for n in clients:
            small, large = med.get((code, "small", n)), med.get((code, "large", n))
            if small and large:
                print(
                    f"{code:>8} {n} client(s): large/small p50 next-task "
                    f"{large['next_p50'] / small['next_p50']:.2f}, submit "
                    f"{large['put_p50'] / small['put_p50']:.2f}, all calls "
                    f"{large['all_p50'] / small['all_p50']:.2f} (goal <= 1.5); "
                    f"throughput small {small['ann_s']:.0f}, large {large['ann_s']:.0f} ann/s "
                    f"(goal >= 250 with 8 clients); worst p99 "
                    f"{max(small['next_p99'], small['put_p99'], large['next_p99'], large['put_p99']):.1f} ms"
                    " (goal < 50)"
                )
            for k in ("small", "large"):
                plain, quality = med.get((code, k, n)), med.get((code, f"{k}+quality", n))
                if plain and quality:
                    print(
                        f"{code:>8} {n} client(s) {k}: quality/plain throughput "
                        f"{quality['ann_s'] / plain['ann_s']:.2f} (goal >= 0.80), quality p99 "
                        f"next-task {quality['next_p99']:.1f} ms, submit {quality['put_p99']:.1f} ms"
                    )
    if "baseline" in codes:
        for n in clients:
            for k in projects:
                base, cur = med.get(("baseline", k, n)), med.get(("current", k, n))
                if base and cur:
                    print(
                        f"current/baseline {k:>13} {n} client(s): throughput "
                        f"{cur['ann_s'] / base['ann_s']:.2f}, gunicorn CPU per annotation "
                        f"{cur['cpu_server'] / base['cpu_server']:.2f} "
                        f"({base['cpu_server']:.2f} -> {cur['cpu_server']:.2f} ms), next-task p50 "
                        f"{cur['next_p50'] / base['next_p50']:.2f}, submit p50 "
                        f"{cur['put_p50'] / base['put_p50']:.2f}"
                    )


def main() -> None:
    global PORT  # noqa: PLW0603  # the client processes (forked) read it
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--clients", default="8")
    parser.add_argument("--users", type=int, default=16, help="annotators in the data")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--runs", type=int, default=3, help="report the median of this many")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument(
        "--worker-class",
        default="",
        help="gunicorn worker class (default: sync, gthread if threads > 1)",
    )
    parser.add_argument("--overlap", type=int, default=3)
    parser.add_argument(
        "--quality", action="store_true", help="also run a twin project with quality control on"
    )
    parser.add_argument("--baseline", metavar="REV", help="also run REV's server code")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the template databases")
    parser.add_argument("--port", type=int, default=8765, help="gunicorn's port on 127.0.0.1")
    parser.add_argument("--build-template", metavar="NAME", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build_template:
        build_template(args)
        return
    client_counts = [int(c) for c in args.clients.split(",")]
    if max(client_counts) > args.users:
        parser.error("--clients above --users")
    PORT = args.port

    roots = {"current": ROOT}
    if args.baseline:
        roots = {"baseline": baseline_checkout(args.baseline), "current": ROOT}
    print("template databases:", flush=True)
    templates = {code: ensure_template(root, args) for code, root in roots.items()}
    order = ["small", "small+quality", "large", "large+quality"]
    table: dict[tuple[str, str, int], list[dict]] = {}
    over = 0
    worker_class = args.worker_class or ("gthread" if args.threads > 1 else "sync")
    print(
        f"gunicorn: {args.workers} {worker_class} workers x {args.threads} thread(s), "
        f"PostgreSQL, {args.seconds:.0f} s per measurement, {args.runs} run(s), "
        f"{os.cpu_count()} CPUs",
        flush=True,
    )
    for run_no in range(1, args.runs + 1):
        for code, root in roots.items():
            url = fresh_copy(templates[code], "labeling_bench_run")
            with psycopg.connect(url) as conn:
                meta = json.loads(conn.execute("SELECT body FROM bench_meta").fetchone()[0])
            tokens, projects = meta["tokens"], meta["projects"]
            server = start_server(url, args.workers, args.threads, args.worker_class, root)
            try:
                for clients in client_counts:
                    for k in [k for k in order if k in projects]:
                        n_tasks, pid = projects[k]
                        r = run(tokens, pid, clients, args.seconds, server.pid, args.quality, url)
                        table.setdefault((code, k, clients), []).append(r)
                        print(
                            f"run {run_no} {code:>8} {k:>13} ({n_tasks:>9,} tasks) {clients} "
                            f"client(s): {r['ann_s']:6.1f} ann/s | next-task p50 "
                            f"{r['next_p50']:5.1f} p99 {r['next_p99']:6.1f} ms | submit p50 "
                            f"{r['put_p50']:5.1f} p99 {r['put_p99']:6.1f} ms | gunicorn CPU/ann "
                            f"{r['cpu_server']:.2f} ms | errors {r['errors']} | load "
                            f"{os.getloadavg()[0]:.1f}",
                            flush=True,
                        )
            finally:
                server.terminate()
                server.wait(timeout=30)
            over += over_assigned(url)
    report(table, list(roots), order, client_counts)
    # The over-assignment check the peers failed: never more than overlap per task.
    print(f"tasks with more active+submitted assignments than their overlap, all runs: {over}")


if __name__ == "__main__":
    main()
