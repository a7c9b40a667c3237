"""Browser benchmark of the labelling loop: key → next sentence on screen, over N labels.

Loads the demo into a fresh SQLite database (plus copies of its document, so there are
enough verifiability tasks), serves it with ``manage.py runserver``, and drives Debian's
chromium (Playwright) through ``--labels`` one-key labels as a new annotator. The page
records ``performance.now()`` at each key and when the next task is drawn
(``window.lbTimings``); the script prints p50/p95/max of the difference.

    .venv/bin/python bench/workspace_bench.py            # 100 labels
    .venv/bin/python bench/workspace_bench.py --labels 300 --pace 150
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = str(ROOT / ".venv" / "bin" / "python")
CHROMIUM = "/usr/bin/chromium"

SETUP = """
from labeling.importing.documents import import_documents
from labeling.importing.readers import DocumentRecord
from labeling.models import Document, Project, Role
from labeling.projects import add_member
from django.contrib.auth import get_user_model
project = Project.objects.get(name__startswith="Demo")
get_user_model().objects.create_user("bench", "bench@example.org", "bench-pass-123")
add_member(project=project, username="bench", role=Role.ANNOTATOR)
text = Document.objects.filter(project=project).first().text
records = [DocumentRecord(title=f"Copy {i}", text=text, external_id=f"copy-{i}") for i in range(COPIES)]
import_documents(project=project, records=records)
print(project.pk)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=int, default=100)
    parser.add_argument("--pace", type=int, default=250, help="ms between keys (a fast annotator)")
    parser.add_argument("--copies", type=int, default=8, help="extra copies of the demo document")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="workspace_bench_"))
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{work / 'db.sqlite3'}",
        "DJANGO_DEBUG": "true",
    }
    env.pop("CELERY_BROKER_URL", None)

    def manage(*cmd: str, **kw: object) -> subprocess.CompletedProcess:
        return subprocess.run(
            [PYTHON, "manage.py", *cmd], cwd=ROOT, env=env, check=True, capture_output=True,
            text=True, **kw,
        )  # fmt: skip

    manage("migrate", "--noinput", "-v", "0")
    manage("load_demo")
    project_id = int(
        manage("shell", "-c", SETUP.replace("COPIES", str(args.copies))).stdout.split()[-1]
    )
    port = free_port()
    server = subprocess.Popen(
        [PYTHON, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/admin/login/", timeout=1)  # noqa: S310
                break
            except OSError:
                time.sleep(0.2)
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page(viewport={"width": 1360, "height": 900})
            page.goto(f"{base}/admin/login/?next=/admin/")
            page.fill("#id_username", "bench")
            page.fill("#id_password", "bench-pass-123")
            page.click("input[type=submit]")
            page.wait_for_url("**/admin/")
            page.goto(f"{base}/admin/labeling/annotate/?project={project_id}&kind=verifiability")
            page.wait_for_selector(".lb-label")
            page.wait_for_timeout(1000)  # the first prefetch
            for i in range(args.labels):
                page.keyboard.press(str(1 + i % 3))
                page.wait_for_timeout(args.pace)
            # Polled through evaluate: wait_for_function's in-page eval is refused by the CSP.
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not page.evaluate(
                f"window.lbTimings.filter(t => t.shown).length >= {args.labels}"
            ):
                page.wait_for_timeout(25)
            timings = page.evaluate("window.lbTimings")
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    waits = [t["shown"] - t["key"] for t in timings if t["shown"] is not None]
    print(f"labels: {len(waits)}  (key → next sentence drawn, ms; pace {args.pace} ms)")
    print(
        f"p50 {statistics.median(waits):.1f}  p95 {percentile(waits, 0.95):.1f}  "
        f"max {max(waits):.1f}  mean {statistics.fmean(waits):.1f}"
    )
    print(f"load average: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
