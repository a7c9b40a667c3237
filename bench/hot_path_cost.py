"""Server cost of the annotator hot path, counted rather than timed (for loaded machines).

Drives next-task + submit pairs in process (Django's test client, the real middleware
stack, token authentication) against PostgreSQL and reports per annotation (one pair):
the queries each call issues, the Python CPU of this process, and the CPU of the
PostgreSQL backend serving it (from ``/proc/<backend pid>/stat``, so the database's
share is counted too). CPU times on a loaded machine still vary; query counts and the
instruction counts of ``--callgrind`` (run the script under ``valgrind --tool=callgrind``)
do not. Compare two checkouts by running this file from each:

    .venv/bin/python bench/hot_path_cost.py [--tasks 10000] [--pairs 2000] [--quality]

Builds its own database (``--database``, default ``labeling_hotpath``) each run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._django import database_url, setup  # noqa: E402


def backend_cpu(pid: int) -> float:
    """User + system CPU seconds of a PostgreSQL backend (same host)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--pairs", type=int, default=2000, help="measured pairs per round")
    parser.add_argument("--rounds", type=int, default=3, help="median of this many rounds")
    parser.add_argument("--database", default="labeling_hotpath")
    parser.add_argument("--quality", action="store_true", help="controls, escalation, reserves")
    parser.add_argument("--profile", metavar="FILE", help="cProfile the measured pairs to FILE")
    args = parser.parse_args()

    setup(database_url("postgres", args.database))
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from rest_framework.authtoken.models import Token

    from bench.api_bench import add_quality, build_project

    users = [get_user_model().objects.create_user(f"hot{i}") for i in range(2)]
    pid = build_project("hot", args.tasks, 3, users)
    if args.quality:
        add_quality(pid, users)
    client = Client(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=users[0]).key}")
    next_url = f"/api/projects/{pid}/next-task/?kind=verifiability"
    body = '{"value": {"label": "verifiable"}, "lead_time_ms": 1000}'

    def pair() -> None:
        r = client.get(next_url)
        assert r.status_code == 200, r.content
        task = r.json()["id"]
        r = client.put(f"/api/tasks/{task}/annotation/", body, content_type="application/json")
        assert r.status_code == 200, r.content

    for _ in range(50):  # warm caches, compiled SQL, the connection
        pair()
    with connection.cursor() as cur:  # statistics as a running database has them
        cur.execute("ANALYZE")
    q_next: list[str] = []
    q_put: list[str] = []

    def recorder(into: list[str]):
        def record(execute, sql, params, many, context):
            into.append(sql)
            return execute(sql, params, many, context)

        return record

    with connection.execute_wrapper(recorder(q_next)):
        r = client.get(next_url)
    with connection.execute_wrapper(recorder(q_put)):
        client.put(
            f"/api/tasks/{r.json()['id']}/annotation/", body, content_type="application/json"
        )
    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        backend = cur.fetchone()[0]
    py, pg = [], []
    if args.profile:
        import cProfile

        cProfile.runctx("for _ in range(args.pairs): pair()", globals(), locals(), args.profile)
    for _ in range(args.rounds):
        c0, b0 = time.process_time(), backend_cpu(backend)
        for _ in range(args.pairs):
            pair()
        py.append(1000 * (time.process_time() - c0) / args.pairs)
        pg.append(1000 * (backend_cpu(backend) - b0) / args.pairs)
    print(
        f"queries: next-task {len(q_next)}, submit {len(q_put)} | per annotation (median of "
        f"{args.rounds} x {args.pairs}): Python CPU {statistics.median(py):.3f} ms "
        f"{[round(x, 3) for x in py]}, PostgreSQL backend CPU {statistics.median(pg):.3f} ms "
        f"{[round(x, 3) for x in pg]} | load {os.getloadavg()[0]:.1f}"
    )
    for name, q in (("next-task", q_next), ("submit", q_put)):
        for sql in q:
            print(f"  {name}: {' '.join(sql.split())[:160]}")


if __name__ == "__main__":
    main()
