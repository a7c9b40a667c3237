"""Settings come from the environment and refuse unsafe production configuration."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


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
    result = _load({"DEBUG": "false", "SECRET_KEY": "x" * 50})
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
