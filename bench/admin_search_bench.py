"""Admin annotation changelist and search on a 1M-annotation project (issue 11).

Reuses the project of ``bench/export_bench.py`` (same database, built when missing):
1M annotations by 5 annotators over 200k tasks. Requests go through Django's test
client in process, as a superuser (staff) and as the project's lead (scoped through
``labeling.access``), and time the page, count its queries and name the slowest query.

    .venv/bin/python bench/admin_search_bench.py [--rows 1000000] [--repeat 3] [--db NAME]

Goal (issue 11): no request over 5 s on a 1M-annotation project; the 3.5-5.1 s seen
for the annotation search must come down.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.export_bench import DB_NAME, _database, populate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="annotations in the project")
    parser.add_argument("--repeat", type=int, default=3, help="timed requests per case (median)")
    parser.add_argument("--db", default=DB_NAME)
    args = parser.parse_args()

    from bench import _django

    _django.setup(_database(args.db, fresh=False))
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "1")
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from labeling.models import Project, Role
    from labeling.projects import add_member

    settings.ALLOWED_HOSTS = ["*"]
    project_id = populate(args.rows)
    project = Project.objects.get(pk=project_id)
    User = get_user_model()
    staff, _ = User.objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    lead, created = User.objects.get_or_create(username=f"{project.name}-lead")
    if created:
        add_member(project=project, username=lead.username, role=Role.LEAD)
    annotator = User.objects.get(username=f"{project.name}-annotator1")
    base = "/admin/labeling/annotation/"
    cases = [
        ("list", base),
        ("search sentence word", base + "?q=minister"),
        ("search two words", base + "?q=Geneva+according"),
        ("search no match", base + "?q=zebra"),
        ("search username", base + f"?q={annotator.username}"),
        ("filter kind", base + "?task__kind__exact=stance"),
        ("page 100", base + "?p=100"),
    ]
    print(
        f"project {project.name}: admin annotation changelist, median of {args.repeat}; "
        f"load {os.getloadavg()[0]:.1f}"
    )
    print(f"{'user':6} {'case':22} {'median s':>8} {'max s':>6} {'queries':>7}  slowest query")
    for who, user in (("staff", staff), ("lead", lead)):
        client = Client()
        client.force_login(user)
        for name, url in cases:
            times = []
            slowest = ("", 0.0)
            n_queries = 0
            for _ in range(args.repeat):
                with CaptureQueriesContext(connection) as ctx:
                    started = time.perf_counter()
                    response = client.get(url)
                    times.append(time.perf_counter() - started)
                assert response.status_code == 200, (url, response.status_code)
                n_queries = len(ctx.captured_queries)
                for q in ctx.captured_queries:
                    if float(q["time"]) > slowest[1]:
                        slowest = (q["sql"], float(q["time"]))
            print(
                f"{who:6} {name:22} {statistics.median(times):>8.3f} {max(times):>6.2f} "
                f"{n_queries:>7}  {slowest[1]:.3f}s {slowest[0][:110]}",
                flush=True,
            )


if __name__ == "__main__":
    main()
