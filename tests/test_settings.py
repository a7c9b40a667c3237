"""Settings come from the environment and refuse unsafe production configuration."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOOD_KEY = "k3y-" + "0123456789abcdefghijklmnopqrstuvwxyz" * 2


def _load(env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import config.settings as s; print(s.DEBUG, s.CELERY_TASK_ALWAYS_EAGER)",
        ],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_refuses_debug_off_with_default_secret_key():
    result = _load({"DEBUG": "false"})
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_debug_off_with_a_real_secret_key_starts():
    result = _load({"DEBUG": "false", "SECRET_KEY": GOOD_KEY})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "False"


def test_no_broker_means_eager_celery():
    env = {k: v for k, v in os.environ.items() if k != "CELERY_BROKER_URL"}
    result = subprocess.run(
        [sys.executable, "-c", "import config.settings as s; print(s.CELERY_TASK_ALWAYS_EAGER)"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.stdout.strip() == "True"


def test_lease_minutes_default_comes_from_the_environment_setting(db, settings):
    from labeling.projects import create_project

    settings.LABELING = {**settings.LABELING, "LEASE_MINUTES": 7}
    project = create_project(name="P", annotators_per_item=1, schemas=[{"kind": "attribution"}])
    assert project.lease_minutes == 7
    other = create_project(
        name="Q", annotators_per_item=1, schemas=[{"kind": "attribution"}], lease_minutes=45
    )
    assert other.lease_minutes == 45
